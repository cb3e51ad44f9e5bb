"""MCP tool calls → effects, from the tool's name and its arguments.

ringfence sees an MCP call as a server name, a tool name and the arguments the model
chose; it never sees what the server does with them. Two ways to judge a call:

**Configured** (``mcp.servers.<server>.tools.<tool>`` or the server's ``"*"``): the
entry's kind decides, and the name heuristics are not used for that tool:

=============== ==============================================================================
kind            effects (besides ``mcp.call``, which every call has)
=============== ==============================================================================
read            none
write           path arguments (``path_arg``, else path, file, file_path, files[].path) are
                judged as file writes: secrets files, the gate, CI configuration
destructive     ``mcp.call`` with ``destructive: true`` (core pack: approval); paths as for write
deploy          ``deploy`` with the environment (deploy pack)
merge           ``merge.bypass_review`` when an argument asks to skip review (admin, bypass)
publish         ``publish`` (``draft: true`` when the draft argument is set)
sql             the SQL argument (``sql_arg``, else sql, query, statement, statements) parsed
                as SQL (``db.*``, db pack); a call without one is SQL that cannot be seen
shell           the command argument (``command_arg``, else command, cmd, script) parsed as
                bash or PowerShell (``shell:``); a call without one runs something unseen
credential      ``credential.change``
infra           ``infra.apply``
infra_destroy   ``infra.destroy``
=============== ==============================================================================

**Heuristics** (a tool the configuration does not list): the tool's name words say
whether it deletes, deploys, publishes, merges or changes credentials; arguments named
like SQL are parsed as SQL, and any argument that reads as SQL is too; a shell-like tool's
command is parsed as shell (PowerShell for a PowerShell tool, Python for a Python one);
a git host's file tools (``create_or_update_file``, ``push_files``, ``delete_file``) are
pushes to their ``branch`` (none named: the default branch, which is protected); a
Kubernetes server's tools (``kubectl_delete``, ``pods_delete``, ``helm_uninstall``, ...)
are judged as the kubectl or helm command they stand for.

The environment of a call: the configured ``environment_arg`` argument, else the entry's
or the server's configured environment, else an ``environment``/``env``/``stage``
argument, else the server's name (``prod-db``), else the context's.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ringfence.errors import AnalysisLimit
from ringfence.model import Action, AttrValue, Effect

if TYPE_CHECKING:
    from ringfence.analyze.context import Context
    from ringfence.analyze.mcp_config import McpServer, McpTool

MAX_ARG_STRINGS = 1_000

_NAME_WORDS = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_DESTRUCTIVE = frozenset(
    {
        "drop",
        "truncate",
        "delete",
        "destroy",
        "purge",
        "wipe",
        "remove",
        "erase",
        "reset",
        "terminate",
        "kill",
        "flush",
        "uninstall",
        "rm",
    }
)
_DEPLOY = frozenset({"deploy", "deployment", "release", "promote", "rollout", "redeploy"})
_MERGE = frozenset({"merge"})
_PUBLISH = frozenset({"publish", "unpublish"})
_SHELL_TOOLS = frozenset(
    {"exec", "execute", "shell", "bash", "sh", "terminal", "command", "run", "cmd", "powershell", "pwsh"}
)
_POWERSHELL = frozenset({"powershell", "pwsh"})
_PYTHON = frozenset({"python", "python3", "py"})
_SHELL_KEYS = ("command", "cmd", "script", "shell_command", "commandline", "command_line")
_CODE_KEYS = ("code", "script", "source", "command")
_SQL_KEYS = frozenset({"sql", "statement", "statements", "sql_query", "sqlquery", "sqlstatements", "migrationsql"})
_DB_WORDS = frozenset(
    {
        "sql",
        "db",
        "database",
        "databases",
        "postgres",
        "postgresql",
        "pg",
        "mysql",
        "mariadb",
        "sqlite",
        "mssql",
        "sqlserver",
        "supabase",
        "neon",
        "duckdb",
        "clickhouse",
        "bigquery",
        "snowflake",
        "redshift",
        "cockroach",
        "cockroachdb",
        "oracle",
        "planetscale",
        "turso",
        "d1",
        "query",
    }
)
_WRITE_WORDS = frozenset(
    {"write", "edit", "create", "delete", "remove", "update", "push", "upload", "put", "save", "move", "rename"}
)
_PATH_KEYS = frozenset({"path", "file", "filename", "file_path", "filepath", "target", "destination", "source"})
_GIT_HOSTS = frozenset({"github", "gh", "gitlab", "gitea", "forgejo", "bitbucket", "git", "codeberg"})
_KUBE_SERVER = frozenset({"kubernetes", "k8s", "kube", "kubectl", "openshift", "helm"})
_CREDENTIAL_NOUNS = frozenset(
    {
        "secret",
        "secrets",
        "token",
        "tokens",
        "password",
        "passwords",
        "credential",
        "credentials",
        "collaborator",
        "collaborators",
        "permission",
        "permissions",
        "iam",
        "role",
        "roles",
        "apikey",
        "accesskey",
        "protection",
    }
)
_CHANGE_VERBS = frozenset(
    {"create", "update", "set", "put", "delete", "remove", "rotate", "add", "grant", "revoke", "change", "edit"}
)
_BYPASS_ARGS = ("admin", "bypass", "bypass_review", "bypassreview", "force", "skip_checks", "override")


def mcp_effects(action: Action, ctx: Context) -> Iterator[Effect]:
    """Every effect of the MCP call ``action`` (payload ``server``, ``tool``, ``arguments``)."""
    server = str(action.payload.get("server") or "")
    tool = str(action.payload.get("tool") or "")
    args = action.payload.get("arguments")
    strings = list(_strings(args))
    if len(strings) > MAX_ARG_STRINGS:
        raise AnalysisLimit(f"MCP arguments hold more than {MAX_ARG_STRINGS} strings")
    spec = ctx.config.mcp.server(server) if server else None
    entry = spec.tool(tool) if spec is not None else None
    call = _Call(action, ctx, server, tool, args if isinstance(args, dict) else {}, strings, spec, entry)
    if entry is not None:
        yield from call.configured(entry)
    else:
        yield from call.heuristic()


class _Call:
    def __init__(
        self,
        action: Action,
        ctx: Context,
        server: str,
        tool: str,
        args: Mapping[str, Any],
        strings: list[tuple[str, str]],
        spec: McpServer | None,
        entry: McpTool | None,
    ) -> None:
        self.action = action
        self.ctx = ctx
        self.server = server
        self.tool = tool
        self.args = args
        self.strings = strings
        self.label = f"mcp {server}.{tool}"
        self.evidence = self.label
        self.words = _words(tool)
        self.server_words = _words(server)
        self.environment = self._environment(spec, entry)
        self.base: dict[str, AttrValue] = {"server": server, "tool": tool, "environment": self.environment}

    # -- configured tools ---------------------------------------------------------------------

    def configured(self, entry: McpTool) -> Iterator[Effect]:
        kind = entry.kind
        yield self.call(kind, destructive=kind == "destructive", configured=True)
        if kind in ("write", "destructive"):
            yield from self.paths(entry.path_arg)
        elif kind == "deploy":
            yield self.deploy()
        elif kind == "merge":
            yield from self.merge()
        elif kind == "publish":
            yield self.publish()
        elif kind == "sql":
            yield from self.sql(entry.sql_arg, entry.dialect, required=True)
        elif kind == "shell":
            yield from self.shell(entry.command_arg, entry.shell)
        elif kind == "credential":
            yield self.effect("credential.change", operation=self.tool, tool=self.tool_label)
        elif kind == "infra":
            yield self.effect("infra.apply", operation=self.tool, tool=self.tool_label)
        elif kind == "infra_destroy":
            yield self.effect("infra.destroy", operation=self.tool, tool=self.tool_label, recursive=True)

    # -- heuristics ---------------------------------------------------------------------------

    def heuristic(self) -> Iterator[Effect]:
        words = self.words
        category = self.category()
        found: list[Effect] = []
        if category == "kubernetes":
            found = list(self.kubernetes())
        elif category == "git":
            found = list(self.git_write())
        # a kubectl or git command found for the tool is judged by its own domain's rules
        yield self.call(category, destructive=bool(words & _DESTRUCTIVE) and not found, configured=False)
        yield from found
        if words & _DEPLOY and not (words & {"release"} and words & {"create", "draft"}):
            yield self.deploy()
        if words & _PUBLISH or (words & {"release"} and words & {"create", "draft"}):
            yield self.publish()
        if words & _MERGE:
            yield from self.merge()
        if words & _CREDENTIAL_NOUNS and words & _CHANGE_VERBS:
            yield self.effect("credential.change", operation=self.tool, tool=self.tool_label)
        if (words & {"migration", "migrations", "migrate"}) and words & {"apply", "run", "migrate"}:
            yield self.effect("db.migrate", operation=self.tool, tool=self.tool_label)
        shell_key = next((k for k in _SHELL_KEYS if isinstance(self.args.get(k), str | list)), None)
        if words & _SHELL_TOOLS and shell_key is not None:
            language = "powershell" if words & _POWERSHELL else "python" if words & _PYTHON else "bash"
            yield from self.shell(shell_key, language)
        elif words & (_POWERSHELL | _PYTHON) and words & _SHELL_TOOLS:
            key = next((k for k in _CODE_KEYS if isinstance(self.args.get(k), str)), None)
            if key is not None:
                yield from self.shell(key, "powershell" if words & _POWERSHELL else "python")
        database = bool((words | self.server_words) & _DB_WORDS)
        from ringfence.analyze import sql

        for key, value in self.strings:
            lowered = key.lower()
            if key == shell_key and words & _SHELL_TOOLS:
                continue
            if (
                lowered in _SQL_KEYS
                or lowered.endswith("sql")
                or (lowered == "query" and database)
                or sql.looks_like_sql(value)
            ):
                yield from self.sql_text(value, None)
            elif lowered in _PATH_KEYS and words & _WRITE_WORDS and category != "kubernetes":
                yield from self.write(value)

    def category(self) -> str:
        words, server = self.words, self.server_words
        if server & _KUBE_SERVER or words & {"kubectl", "helm"}:
            return "kubernetes"
        if server & _GIT_HOSTS and (
            words & {"push"}
            or (words & {"create", "update", "delete"} and words & {"file", "files"})
            or (words & {"delete"} and words & {"branch", "ref", "tag"})
        ):
            return "git"
        for name, group in (
            ("destructive", _DESTRUCTIVE),
            ("deploy", _DEPLOY),
            ("publish", _PUBLISH),
            ("merge", _MERGE),
        ):
            if words & group:
                return name
        if words & _SHELL_TOOLS:
            return "shell"
        if (words | server) & _DB_WORDS:
            return "sql"
        return "other"

    # -- pieces -----------------------------------------------------------------------------------

    @property
    def tool_label(self) -> str:
        return f"mcp:{self.server}"

    def effect(self, kind: str, **attrs: AttrValue) -> Effect:
        return Effect(kind, {**self.base, **attrs}, evidence=self.evidence, via=(self.label,))

    def call(self, category: str, *, destructive: bool, configured: bool) -> Effect:
        return Effect(
            "mcp.call",
            {**self.base, "category": category, "destructive": destructive, "configured": configured},
            evidence=self.evidence,
        )

    def deploy(self) -> Effect:
        target = _arg(self.args, "app", "service", "project", "name")
        return self.effect("deploy", tool=self.tool_label, target=target, production=self.environment == "production")

    def publish(self) -> Effect:
        draft = any(self.args.get(k) is True for k in ("draft", "dry_run", "dryRun", "prerelease"))
        return self.effect("publish", tool=self.tool_label, draft=draft)

    def merge(self) -> Iterator[Effect]:
        if any(_truthy(self.args.get(k)) for k in _BYPASS_ARGS):
            yield self.effect("merge.bypass_review", tool=self.tool_label, admin=True)

    def paths(self, path_arg: str | None) -> Iterator[Effect]:
        if path_arg is not None:
            values = [v for k, v in self.strings if k == path_arg]
        else:
            values = [v for k, v in self.strings if k.lower() in _PATH_KEYS]
        for value in values:
            yield from self.write(value)

    def write(self, path: str) -> Iterator[Effect]:
        from ringfence.analyze import files

        for eff in files.write_effects(path, self.ctx, evidence=f"{self.label} {path}", cwd=self.action.cwd):
            yield Effect(eff.kind, eff.attrs, eff.evidence, (self.label, *eff.via))

    def sql(self, sql_arg: str | None, dialect: str | None, *, required: bool) -> Iterator[Effect]:
        if sql_arg is not None:
            values = [v for k, v in self.strings if k == sql_arg]
        else:
            values = [v for k, v in self.strings if k.lower() in _SQL_KEYS or k.lower() in ("query", "sql")]
        if not values and required:
            yield self.effect(
                "db.query",
                unknown_sql=True,
                reason=f"no SQL argument {sql_arg or 'sql/query'} to analyse",
                tool=self.tool_label,
            )
        for value in values:
            yield from self.sql_text(value, dialect)

    def sql_text(self, text: str, dialect: str | None) -> Iterator[Effect]:
        from ringfence.analyze import sql

        yield from sql.sql_effects(
            text,
            dialect=dialect,
            environment=self.environment,
            evidence=self.evidence,
            via=(self.label,),
            tool=self.tool_label,
            extra={"server": self.server},
        )

    def shell(self, command_arg: str | None, language: str) -> Iterator[Effect]:
        keys = (command_arg,) if command_arg is not None else _SHELL_KEYS
        raw = next((self.args[k] for k in keys if k in self.args), None)
        if isinstance(raw, list) and raw and all(isinstance(a, str) for a in raw):
            source = shlex.join(raw) if language == "bash" else " ".join(raw)
        elif isinstance(raw, str) and raw.strip():
            source = raw
        else:
            yield self.effect(
                "opaque_exec",
                reason=f"the MCP tool runs a command, but its {command_arg or 'command'} argument is missing",
            )
            return
        from ringfence.analyze import shell as shell_analysis

        if language == "powershell":
            trace = shell_analysis.trace_powershell(source, self.ctx)
        elif language == "python":
            trace = shell_analysis.trace_shell(shlex.join(["python3", "-c", source]), self.ctx)
        else:
            trace = shell_analysis.trace_shell(source, self.ctx)
        for eff in trace.effects:
            yield Effect(eff.kind, eff.attrs, eff.evidence, (self.label, *eff.via))

    def git_write(self) -> Iterator[Effect]:
        words = self.words
        branch = self.args.get("branch")
        branch = branch if isinstance(branch, str) and branch else None
        remote = self.tool_label
        if words & {"delete"} and words & {"branch", "ref", "tag"}:
            ref = next((v for k in ("branch", "ref", "tag", "name") if isinstance(v := self.args.get(k), str)), None)
            protected = ref is None or self.ctx.is_protected_branch(ref.removeprefix("refs/heads/"))
            yield self.effect("git.ref_delete", remote=remote, refs=(ref or "?",), protected=protected, tool=remote)
            return
        yield self.effect(
            "git.push",
            remote=remote,
            branches=(branch,) if branch else (),
            branch_unknown=branch is None,
            force=False,
            dry_run=False,
            tool=remote,
        )
        if branch is None or self.ctx.is_protected_branch(branch):
            # no branch: the repository's default branch, which is the protected one
            shown = branch or "(default branch)"
            yield self.effect("git.push_protected", remote=remote, branches=(shown,), tool=remote)
        for key, value in self.strings:
            if key.lower() in _PATH_KEYS:
                yield from self.write(value)

    def kubernetes(self) -> Iterator[Effect]:
        argv = _kube_argv(self.words, self.args)
        if argv is None:
            return
        from ringfence.analyze import k8s
        from ringfence.analyze.command import Command

        cmd = Command(argv=argv, text=shlex.join(argv), via=(self.label,), cwd=self.action.cwd)
        for eff in k8s.classify(cmd, self.ctx):
            yield Effect(eff.kind, {**eff.attrs, "server": self.server, "mcp_tool": self.tool}, eff.evidence, eff.via)

    def _environment(self, spec: McpServer | None, entry: McpTool | None) -> str | None:
        if entry is not None and entry.environment_arg is not None:
            value = self.args.get(entry.environment_arg)
            if isinstance(value, str) and value:
                return self.ctx.environment_for("app", value)
        if entry is not None and entry.environment is not None:
            return entry.environment
        if spec is not None and spec.environment is not None:
            return spec.environment
        for key in ("environment", "env", "stage"):
            value = self.args.get(key)
            if isinstance(value, str) and value:
                return self.ctx.environment_for("app", value)
        return self.ctx.environment_for("app", self.server) if self.server else self.ctx.environment


def _words(name: str) -> frozenset[str]:
    """``mergePullRequest``, ``merge_pull_request``, ``merge-pull-request`` → {merge, pull, request}."""
    return frozenset(_NAME_WORDS.findall(_CAMEL.sub("_", name).lower()))


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "on")
    return value is True or (isinstance(value, int) and not isinstance(value, bool) and value != 0)


def _strings(value: Any, key: str = "", depth: int = 0) -> Iterator[tuple[str, str]]:
    if depth > 32:
        raise AnalysisLimit("MCP arguments nest more than 32 levels deep")
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, str(k), depth + 1)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v, key, depth + 1)


def _arg(args: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = args.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


def _kube_argv(words: frozenset[str], args: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The kubectl or helm command a Kubernetes MCP tool stands for, or None for a read.

    Covers the tool shapes of the common servers: ``kubectl_delete {resourceType, name,
    namespace, context}``, ``pods_delete {name, namespace}``, ``resources_delete {kind,
    name}``, ``resources_create_or_update {resource}``, ``kubectl_scale {replicas}``,
    ``install_helm_chart``/``helm_install {name, chart}``, ``helm_uninstall {name}``.
    """
    namespace = _arg(args, "namespace", "ns")
    context = _arg(args, "context", "kubeContext", "kube_context")
    name = _arg(args, "name", "resourceName", "resource_name", "release", "releaseName")
    helm = bool(words & {"helm", "chart", "release"})
    if helm:
        if words & {"uninstall", "delete", "remove"}:
            verb: tuple[str, ...] = ("uninstall",)
        elif words & {"install", "upgrade", "rollback"}:
            verb = ("upgrade", "--install") if "upgrade" in words else ("install",)
        else:
            return None
        chart = _arg(args, "chart", "chartName") if verb[0] != "uninstall" else None
        argv = ["helm", *verb, *([name] if name else []), *([chart] if chart else [])]
        argv += [*(["-n", namespace] if namespace else []), *(["--kube-context", context] if context else [])]
        return tuple(argv)
    rtype = _arg(args, "resourceType", "resource_type", "kind", "type", "resource")
    if rtype is None and words & {"pod", "pods"}:
        rtype = "pods"
    if rtype is None and words & {"deployment", "deployments"}:
        rtype = "deployment"
    if rtype is not None and ("\n" in rtype or "{" in rtype):
        rtype = None  # a whole manifest, not a type
    tail = [*(["-n", namespace] if namespace else []), *(["--context", context] if context else [])]
    if _truthy(args.get("allNamespaces")) or _truthy(args.get("all_namespaces")):
        tail.append("--all-namespaces")
    if words & {"delete", "remove", "cleanup"}:
        if rtype is None:
            return ("kubectl", "delete", "-f", "-", *tail)
        return ("kubectl", "delete", rtype, *([name] if name else ["--all"]), *tail)
    if words & {"scale"}:
        replicas = _arg(args, "replicas")
        return ("kubectl", "scale", rtype or "deployment", *([name] if name else []), f"--replicas={replicas}", *tail)
    if words & {"drain", "cordon"} or _arg(args, "operation") in ("drain", "cordon"):
        node = _arg(args, "nodeName", "node", "name") or "node"
        drain = "drain" in words or args.get("operation") == "drain"
        return ("kubectl", "drain" if drain else "cordon", node, *tail)
    for action_verb in ("apply", "create", "patch", "rollout", "run"):
        if action_verb in words or (action_verb == "apply" and words & {"update"}):
            if action_verb == "rollout":
                sub = _arg(args, "subCommand", "sub_command", "action") or "restart"
                return ("kubectl", "rollout", sub, f"{rtype or 'deployment'}/{name or '?'}", *tail)
            if action_verb == "run":
                return ("kubectl", "run", name or "pod", f"--image={_arg(args, 'image') or '?'}", *tail)
            return ("kubectl", action_verb, "-f", "-", *tail)
    return None
