"""Subcommands of the ``ringfence`` CLI, one module each (``add_parser(sub)``)."""

COMMAND_MODULES = (
    "check",
    "explain",
    "hook",
    "wiring",
    "doctor",
    "log",
    "daemon",
    "policy",
    "audit",
    "approvals",
    "halt",
    "keys",
    "serve",
    "ci",
    "git_hooks",
    "export",
    "attest",
    "verify",
    "review",
    "guard",
)
