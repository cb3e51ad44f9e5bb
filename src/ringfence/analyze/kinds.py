"""The effect kinds ringfence knows, with a one-line meaning each.

Classifiers may only emit kinds listed here (a test enforces it), and policy lint
checks rule references against this table.
"""

from __future__ import annotations

EFFECT_KINDS: dict[str, str] = {
    # ordinary activity: recorded, allowed by the standard pack
    "exec": "runs a program (every executed simple command)",
    "fs.write": "writes a file",
    "fs.read": "reads a file",
    "net.fetch": "downloads from the network",
    "mcp.call": "calls an MCP tool",
    # git
    "git.push": "pushes refs to a remote",
    "git.force_push": "overwrites remote history (force push, +refspec, --mirror)",
    "git.push_protected": "pushes to a protected branch",
    "git.ref_delete": "deletes a remote ref (branch or tag)",
    "git.history_discard": "discards local work (reset --hard, checkout --, clean -f, stash drop, ...)",
    "git.history_rewrite": "rewrites history (filter-branch, filter-repo)",
    "git.hook_bypass": "skips git hooks (--no-verify, core.hooksPath)",
    # filesystem and host
    "fs.delete": "deletes files or directories",
    "fs.destroy": "destroys file contents (shred, truncate, move onto /dev/null)",
    "fs.permission": "changes ownership or permissions recursively",
    "host.destroy": "destroys a disk or filesystem (dd to a device, mkfs, wipefs, fdisk)",
    # databases
    "db.destructive": "destroys data (DROP, TRUNCATE, DELETE/UPDATE without WHERE, ALTER ... DROP, FLUSHALL)",
    "db.privilege": "changes database privileges (GRANT, REVOKE)",
    "db.migrate": "applies or reverts schema migrations",
    "db.query": "runs a read or ordinary write statement",
    # infrastructure, cloud, kubernetes
    "infra.apply": "changes infrastructure (terraform apply, pulumi up, kubectl apply, helm upgrade, ...)",
    "infra.destroy": "deletes infrastructure or cloud resources",
    "infra.state": "edits infrastructure state (terraform state rm, ...)",
    # delivery
    "deploy": "deploys an application or release",
    "publish": "publishes a package, image or release",
    "merge.bypass_review": "merges bypassing review (gh pr merge --admin/--auto)",
    "ci.config_write": "changes CI/CD pipeline configuration",
    # credentials and secrets
    "credential.change": "changes credentials, access keys, roles, secrets stores or branch protection",
    "secrets.read": "reads a secrets file or credential store",
    "secrets.write": "writes a secrets file or credential store",
    "secrets.exfil": "sends secrets over the network",
    # execution the analysis cannot see through
    "code.remote_exec": "executes code downloaded from the network",
    "opaque_exec": "executes something the analysis cannot resolve",
    # the gate itself
    "gate.tamper": "edits, disables or kills ringfence or an agent runtime's hook configuration",
    # the analysis itself could not finish
    "analysis.limit": "the action exceeds an analysis limit (size, depth)",
    "analysis.error": "the action could not be analysed",
}
