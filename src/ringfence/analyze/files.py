"""What a file path *is*: secret, part of the gate, CI configuration, a disk, a system file.

Pure path classification shared by the shell layer (output and input redirections),
the file tools (Write, Edit, Read) and the domain classifiers (``fs``, ``secrets``,
``gate``). Every function takes a resolved absolute path (or resolves one with
:meth:`Context.resolve`) and answers from the path alone: no file is opened or stat'ed.

- :func:`write_effects` / :func:`read_effects` — the effects of writing or reading a path;
- :func:`is_secret_path` — ``.env`` files, private keys, cloud and registry credentials;
- :func:`is_gate_path` — ringfence's own configuration and state, agent hook settings;
- :func:`is_ci_config` — CI/CD pipeline definitions;
- :func:`is_git_config` — a repository's own git configuration (``.git/config``), which
  can make later git commands run programs;
- :func:`is_block_device`, :func:`is_harmless_device`, :func:`is_system_path` — host facts;
- :func:`inside_workspace`, :func:`is_scratch`, :func:`outside_workspace` — where a path is.

Glob words (``.env*``, ``~/.ssh/*``) are classified by what they could match: a glob is
secret when it matches a typical secret name and no ordinary file name.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re

from ringfence.analyze.context import CRITICAL_DIRS, Context
from ringfence.model import AttrValue, Effect

__all__ = [
    "contains_gate_path",
    "contains_secrets",
    "has_glob",
    "inside_workspace",
    "is_block_device",
    "is_ci_config",
    "is_gate_path",
    "is_git_config",
    "is_harmless_device",
    "is_scratch",
    "is_secret_path",
    "is_system_path",
    "is_temp_root",
    "outside_workspace",
    "read_effects",
    "words",
    "write_effects",
]


def words(text: str) -> tuple[str, ...]:
    """The whitespace-separated words of ``text`` (for long literal name lists)."""
    return tuple(text.split())


class _Roots:
    """A set of directories, answering "is this path one of them or inside one" quickly."""

    __slots__ = ("names", "prefixes")

    def __init__(self, roots: tuple[str, ...]) -> None:
        self.names = frozenset(roots)
        self.prefixes = tuple(r + "/" for r in roots)

    def holds(self, path: str) -> bool:
        return path in self.names or path.startswith(self.prefixes)


# -- secrets ----------------------------------------------------------------------------

# ``.env.<x>`` files that are templates, not secrets (checked on every dotted part).
_ENV_TEMPLATES = frozenset(
    words("""
        example examples sample samples template templates tpl tmpl dist default defaults schema skel
        stub
    """)
)
_SECRET_NAMES = frozenset(
    words("""
        .env .npmrc .pypirc .netrc _netrc .git-credentials .vault-token credentials.json
        terraform.tfstate terraform.tfstate.backup secrets.yaml secrets.yml secrets.json .pgpass .my.cnf
        kubeconfig .htpasswd .s3cfg .boto .dockercfg settings-security.xml
    """)
)
_SECRET_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".keystore", ".jks", ".tfstate", ".kubeconfig", ".ppk")
_KEY_PREFIXES = ("id_rsa", "id_ed25519", "id_ecdsa", "id_dsa", "id_ecdsa_sk", "id_ed25519_sk")
_JSON_CRED_PREFIXES = ("service-account", "service_account", "client_secret")
# Directories under the home directory whose every file is a credential.
_HOME_SECRET_DIRS = _Roots(
    words(
        """
        .ssh .aws .gnupg .config/gcloud .azure .password-store .config/gh .local/share/keyrings
        Library/Keychains .config/op .op
    """
    )
)
_HOME_SECRET_FILES = words(
    """
        .kube/config .docker/config.json .config/gh/hosts.yml .config/hub .cargo/credentials
        .cargo/credentials.toml .gem/credentials .terraform.d/credentials.tfrc.json
        .config/rclone/rclone.conf .m2/settings-security.xml
    """
)
# Files in ~/.ssh that are not secret to read (public material or plain config).
_SSH_PUBLIC = frozenset({"known_hosts", "known_hosts.old", "authorized_keys", "authorized_keys2", "config"})
# ...of which these are still sensitive to write (they grant or redirect access).
_SSH_WRITE_SENSITIVE = frozenset({"authorized_keys", "authorized_keys2", "config", "rc"})
_SYSTEM_SECRETS = frozenset({"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-"})

_PUBLIC_PEM_RE = re.compile(r"cert|chain|bundle|public|pub[._-]|(^|[._-])ca([._-]|$)|crt", re.IGNORECASE)
_GLOB_CHARS = frozenset("*?[")
# Names a glob is tried against: if it matches one of the first and none of the second,
# it targets secrets (``*.pem``, ``.env*``); ``*`` or ``*.json`` match ordinary files too.
_SECRET_SAMPLES = words(
    """
        .env .env.local .env.production id_rsa id_ed25519 server.key key.pem privkey.pem credentials config
        credentials.json terraform.tfstate .npmrc .netrc .pypirc keystore.jks cert.p12 secrets.yaml
        hosts.yml config.json
    """
)
_BENIGN_SAMPLES = words(
    """
        README.md main.py index.js package.json notes.txt Makefile config.yaml src data.csv .gitignore
        .editorconfig app.log
    """
)


def has_glob(word: str) -> bool:
    return any(c in _GLOB_CHARS for c in word)


def _under(abspath: str, root: str) -> bool:
    return abspath == root or abspath.startswith(root.rstrip("/") + "/")


def _home_rel(abspath: str, ctx: Context) -> str | None:
    """``abspath`` relative to the home directory (or /root), or None when not under it."""
    for home in (ctx.home.rstrip("/"), "/root"):
        if home and abspath.startswith(home + "/"):
            return abspath[len(home) + 1 :]
    return None


def _env_file(base: str) -> bool:
    """``.env``, ``.env.<x>``, ``<x>.env`` and direnv's ``.envrc``/``.envrc.<x>``, not templates."""
    if base in (".env", ".envrc"):
        return True
    for prefix in (".env.", ".envrc."):
        if base.startswith(prefix):
            parts = base[len(prefix) :].lower().split(".")
            return not any(p in _ENV_TEMPLATES for p in parts)
    if base.endswith(".env") and len(base) > 4:
        stem = base[:-4].lower()
        return not any(t in stem for t in ("example", "sample", "template", "dist", "default"))
    return False


def _secret_name(base: str) -> bool:
    if base in _SECRET_NAMES or _env_file(base):
        return True
    if base.endswith(".pub"):
        return False
    if base.endswith(".pem") and _PUBLIC_PEM_RE.search(base) and "key" not in base.lower():
        return False  # certificates and CA bundles, not keys
    if base.startswith(_KEY_PREFIXES) or base.endswith(_SECRET_SUFFIXES):
        return True
    return base.endswith(".json") and base.startswith(_JSON_CRED_PREFIXES)


def is_secret_path(abspath: str, ctx: Context, *, write: bool = False) -> bool:
    """Whether ``abspath`` is a secrets file (or a directory of them).

    ``write`` widens the answer to files that are harmless to read but dangerous to
    change (``~/.ssh/config``, ``~/.ssh/authorized_keys``).
    """
    base = posixpath.basename(abspath)
    if has_glob(base):
        return _glob_is_secret(abspath, ctx, write)
    parts = abspath.split("/")
    parent = parts[-2] if len(parts) >= 2 else ""
    if parent == ".ssh" or ".ssh" in parts[:-1]:
        if base.endswith(".pub") or base.startswith("known_hosts"):
            return False
        if base in _SSH_PUBLIC:
            return write and base in _SSH_WRITE_SENSITIVE
        return True
    if _secret_name(base):
        return True
    if abspath in _SYSTEM_SECRETS or _proc_environ(abspath):
        return True
    if abspath.startswith("/etc/ssh/ssh_host_") and abspath.endswith("_key"):
        return True
    if (parent == ".aws" and base in ("credentials", "config")) or (parent == ".kube" and base == "config"):
        return True
    if parent == ".docker" and base == "config.json":
        return True
    rel = _home_rel(abspath, ctx)
    if rel is None:
        return False
    if rel in _HOME_SECRET_FILES or rel == ".ssh":
        return True
    return _HOME_SECRET_DIRS.holds(rel)


def _proc_environ(abspath: str) -> bool:
    parts = abspath.split("/")
    return len(parts) == 4 and parts[1] == "proc" and parts[3] == "environ"


def _glob_is_secret(abspath: str, ctx: Context, write: bool) -> bool:
    parent, pattern = posixpath.split(abspath)
    if has_glob(parent):
        parent = parent.replace("*", "x").replace("?", "x")

    def matches(name: str) -> bool:
        if name.startswith(".") and not pattern.startswith("."):
            return False  # the shell's * does not match a leading dot
        return fnmatch.fnmatchcase(name, pattern)

    hit = any(matches(s) and is_secret_path(posixpath.join(parent, s), ctx, write=write) for s in _SECRET_SAMPLES)
    if not hit:
        return False
    if is_secret_path(parent, ctx, write=write):
        return True  # a glob inside ~/.ssh, ~/.aws, ...
    return not any(
        matches(b) and not is_secret_path(posixpath.join(parent, b), ctx, write=write) for b in _BENIGN_SAMPLES
    )


def contains_secrets(abspath: str, ctx: Context) -> bool:
    """Whether a directory holds credential stores: the home directory or ``~/.config``."""
    home = ctx.home.rstrip("/")
    return abspath in (home, home + "/.config", "/root", "/home", "/Users") or abspath == "/"


# -- the gate ---------------------------------------------------------------------------

_GATE_NAMES = frozenset({"ringfence.yaml", "ringfence.yml", ".ringfence.yaml", ".ringfence.yml"})
_GATE_HOME_DIRS = _Roots((".config/ringfence", ".local/state/ringfence", ".local/share/ringfence", ".codex"))
_GATE_SYSTEM_DIRS = _Roots(
    (
        "/etc/ringfence",
        "/etc/claude-code",
        "/Library/Application Support/ClaudeCode",
        "/etc/gemini-cli",
        "/etc/codex",
        "/etc/cursor",
    )
)
# (directory name, file names) pairs: a hook configuration file inside that directory.
_GATE_FILES: dict[str, frozenset[str]] = {
    ".claude": frozenset({"settings.json", "settings.local.json"}),
    ".gemini": frozenset({"settings.json"}),
    ".cursor": frozenset({"hooks.json"}),
}
# Directories that hold gate paths: deleting, moving or re-permissioning them is tampering.
_GATE_HOLDERS = frozenset(
    words("""
        .claude .gemini .cursor .codex .ringfence .opencode .github .git .copilot
    """)
)


def is_gate_path(abspath: str, ctx: Context) -> bool:
    """Whether ``abspath`` is ringfence's own configuration or state, or agent hook config."""
    parts = abspath.split("/")
    base = parts[-1]
    if ".ringfence" in parts or ".codex" in parts or base in _GATE_NAMES:
        return True
    if len(parts) >= 2 and base in _GATE_FILES.get(parts[-2], ()):
        return True
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        if (part in (".github", ".git", ".copilot") and nxt == "hooks") or (
            part == ".opencode" and nxt.startswith("plugin")
        ):
            return True
    rel = _home_rel(abspath, ctx)
    if rel is not None:
        if _GATE_HOME_DIRS.holds(rel):
            return True
        if rel.startswith(".config/opencode/plugin"):
            return True
    if _GATE_SYSTEM_DIRS.holds(abspath):
        return True
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME") if "ringfence" in abspath else ():
        base = os.environ.get(var, "")
        if base.startswith("/") and _under(abspath, base.rstrip("/") + "/ringfence"):
            return True
    return _configured_gate_path(abspath, ctx)


def _configured_gate_path(abspath: str, ctx: Context) -> bool:
    base = ctx.workspace or ctx.cwd
    for raw in ctx.config.gate_paths:
        pat = ctx.resolve(raw, base)
        if has_glob(pat):
            if fnmatch.fnmatchcase(abspath, pat) or fnmatch.fnmatchcase(abspath, pat + "/*"):
                return True
        elif _under(abspath, pat):
            return True
    return False


def contains_gate_path(abspath: str, ctx: Context) -> bool:
    """Whether removing the directory ``abspath`` would remove gate paths with it."""
    if is_gate_path(abspath, ctx) or posixpath.basename(abspath) in _GATE_HOLDERS:
        return True
    home = ctx.home.rstrip("/")
    if abspath in (home, home + "/.config", home + "/.local", home + "/.local/state", home + "/.local/share"):
        return True
    base = ctx.workspace or ctx.cwd
    for raw in ctx.config.gate_paths:
        pat = ctx.resolve(raw, base)
        if pat.startswith(abspath.rstrip("/") + "/"):
            return True
    return False


# -- CI configuration -------------------------------------------------------------------

_CI_NAMES = frozenset(
    words("""
        .gitlab-ci.yml .gitlab-ci.yaml Jenkinsfile azure-pipelines.yml azure-pipelines.yaml
        bitbucket-pipelines.yml .drone.yml .drone.yaml .travis.yml cloudbuild.yaml cloudbuild.yml
        buildspec.yml appveyor.yml .appveyor.yml codemagic.yaml .woodpecker.yml .woodpecker.yaml
    """)
)
_CI_DIRS = frozenset({".circleci", ".buildkite", ".woodpecker", ".azure-pipelines", ".tekton"})


def is_ci_config(abspath: str, ctx: Context) -> bool:
    """Whether ``abspath`` is (or holds) CI/CD pipeline configuration."""
    parts = abspath.split("/")
    base = parts[-1]
    if base in _CI_NAMES or base.startswith("Jenkinsfile."):
        return True
    for i, part in enumerate(parts):
        if part in _CI_DIRS:
            return True
        nxt = parts[i + 1] if i + 1 < len(parts) else ""
        if (part == ".github" and nxt in ("workflows", "actions")) or (part == ".gitlab" and nxt == "ci"):
            return True
    return False


# -- git configuration ------------------------------------------------------------------

_GIT_CONFIG_NAMES = ("config", "config.worktree")


def is_git_config(abspath: str) -> bool:
    """A repository's own configuration: ``.git/config``, ``.git/config.worktree``, and
    those of linked worktrees and submodules (``.git/worktrees/*/config.worktree``,
    ``.git/modules/**/config``).

    Editing one can set ``core.hooksPath``, ``core.fsmonitor``, ``core.sshCommand``,
    filters or aliases: programs that later, ordinary git commands run. (``~/.gitconfig``
    is a system file; ``.git/hooks/*`` is a gate path.)
    """
    if posixpath.basename(abspath) not in _GIT_CONFIG_NAMES:
        return False
    parts = abspath.split("/")
    try:
        at = len(parts) - 1 - parts[::-1].index(".git")
    except ValueError:
        return False
    rest = parts[at + 1 :]
    return len(rest) == 1 or (len(rest) >= 3 and rest[0] in ("modules", "worktrees"))


# -- devices and system files -----------------------------------------------------------

_BLOCK_PREFIXES = words(
    """
        /dev/sd /dev/nvme /dev/disk /dev/rdisk /dev/vd /dev/xvd /dev/mmcblk /dev/hd /dev/md /dev/dm-
        /dev/mapper/ /dev/loop /dev/mem /dev/kmem /dev/port /dev/nbd /dev/zd /dev/zvol/
    """
)
_HARMLESS_DEVICES = frozenset(
    words("""
        /dev/null /dev/zero /dev/stdout /dev/stderr /dev/stdin /dev/tty /dev/random /dev/urandom
        /dev/full /dev/ptmx /dev/console
    """)
)
_HARMLESS_DEVICE_DIRS = ("/dev/fd/", "/dev/pts/", "/proc/self/fd/")
_SYSTEM_ROOTS = _Roots(
    words(
        """
        /etc /usr /boot /bin /sbin /lib /lib32 /lib64 /libx32 /opt /sys /proc /dev /var /srv /System
        /Library /private/etc /private/var /snap
    """
    )
)
_HOME_SYSTEM_FILES = frozenset(
    words("""
        .bashrc .bash_profile .bash_login .bash_logout .profile .zshrc .zshenv .zprofile .zlogin
        .zlogout .kshrc .mkshrc .cshrc .tcshrc .login .pam_environment .xprofile .xsessionrc .xinitrc
        .gitconfig .config/git/config .config/fish/config.fish .ssh/authorized_keys
        .ssh/authorized_keys2 .ssh/rc .crontab
    """)
)
_HOME_SYSTEM_DIRS = _Roots(
    (
        ".config/fish/conf.d",
        ".config/autostart",
        ".config/systemd",
        "Library/LaunchAgents",
        ".config/environment.d",
    )
)
_SCRATCH_ROOTS = _Roots(("/tmp", "/var/tmp", "/private/tmp", "/private/var/folders", "/var/folders", "/dev/shm"))
_HOME_SCRATCH = _Roots((".cache", "Library/Caches"))


def is_block_device(abspath: str) -> bool:
    return abspath.startswith(_BLOCK_PREFIXES)


def is_harmless_device(abspath: str) -> bool:
    return abspath in _HARMLESS_DEVICES or abspath.startswith(_HARMLESS_DEVICE_DIRS)


def is_system_path(abspath: str, ctx: Context) -> bool:
    """System files and directories, shell start-up files, crontabs, authorized_keys."""
    if is_scratch(abspath, ctx):
        return False
    if _SYSTEM_ROOTS.holds(abspath):
        return not is_harmless_device(abspath)
    rel = _home_rel(abspath, ctx)
    if rel is None:
        return False
    return rel in _HOME_SYSTEM_FILES or _HOME_SYSTEM_DIRS.holds(rel)


def is_scratch(abspath: str, ctx: Context) -> bool:
    """Inside a temporary or cache directory: not the workspace, but nothing is lost there.

    The system temporary directories themselves (``/tmp``) are not scratch: wiping them
    breaks other programs' sockets and files.
    """
    if abspath.startswith(_SCRATCH_ROOTS.prefixes):
        return True
    tmpdir = _tmpdir()
    if tmpdir and abspath.startswith(tmpdir + "/"):
        return True
    rel = _home_rel(abspath, ctx)
    return rel is not None and _HOME_SCRATCH.holds(rel)


def is_temp_root(abspath: str) -> bool:
    """``/tmp``, ``/var/tmp``, ``$TMPDIR`` and the like, themselves."""
    return abspath in _SCRATCH_ROOTS.names or (bool(_tmpdir()) and abspath == _tmpdir())


def _tmpdir() -> str:
    tmpdir = os.environ.get("TMPDIR", "").rstrip("/")
    return tmpdir if tmpdir.startswith("/") and tmpdir.count("/") >= 2 else ""


def _fallback_workspace(ctx: Context) -> str | None:
    """The workspace, or the action's cwd when no repository is known (unless it is critical)."""
    if ctx.workspace is not None:
        return ctx.workspace
    cwd = ctx.cwd.rstrip("/") or "/"
    if cwd in CRITICAL_DIRS or cwd == ctx.home.rstrip("/") or cwd.count("/") <= 1 or is_scratch(cwd, ctx):
        return None
    return cwd


def inside_workspace(abspath: str, ctx: Context) -> bool:
    root = _fallback_workspace(ctx)
    return root is not None and _under(abspath, root)


def outside_workspace(abspath: str, ctx: Context) -> bool:
    return not inside_workspace(abspath, ctx) and not is_scratch(abspath, ctx)


# -- effects ----------------------------------------------------------------------------


def _effect(kind: str, evidence: str, via: tuple[str, ...], **attrs: AttrValue) -> Effect:
    return Effect(kind=kind, attrs=attrs, evidence=evidence, via=via)


def write_effects(
    path: str, ctx: Context, *, evidence: str, via: tuple[str, ...] = (), cwd: str | None = None
) -> list[Effect]:
    """The effects of writing ``path``: ``fs.write`` plus what the path makes it.

    Harmless devices (``/dev/null``, ``/dev/stderr``, ``/dev/fd/*``) yield nothing.
    """
    if not path:
        return []
    abspath = ctx.resolve(path, cwd)
    if is_harmless_device(abspath):
        return []
    inside = inside_workspace(abspath, ctx)
    targets = (abspath,)
    out = [
        _effect(
            "fs.write",
            evidence,
            via,
            targets=targets,
            inside_workspace=inside,
            outside_workspace=not inside and not is_scratch(abspath, ctx),
            critical=ctx.is_critical(abspath),
            system=is_system_path(abspath, ctx),
            git_config=is_git_config(abspath),
        )
    ]
    if is_secret_path(abspath, ctx, write=True):
        out.append(_effect("secrets.write", evidence, via, targets=targets, operation="write"))
    if is_gate_path(abspath, ctx):
        out.append(_effect("gate.tamper", evidence, via, targets=targets, operation="write"))
    if is_ci_config(abspath, ctx):
        out.append(_effect("ci.config_write", evidence, via, targets=targets, operation="write"))
    if is_block_device(abspath):
        out.append(_effect("host.destroy", evidence, via, targets=targets, operation="write", critical=True))
    return out


def read_effects(
    path: str, ctx: Context, *, evidence: str, via: tuple[str, ...] = (), cwd: str | None = None
) -> list[Effect]:
    """The effects of reading ``path``: ``fs.read``, plus ``secrets.read`` for secrets."""
    if not path:
        return []
    abspath = ctx.resolve(path, cwd)
    if is_harmless_device(abspath):
        return []
    inside = inside_workspace(abspath, ctx)
    targets = (abspath,)
    out = [
        _effect(
            "fs.read",
            evidence,
            via,
            targets=targets,
            inside_workspace=inside,
            outside_workspace=not inside and not is_scratch(abspath, ctx),
        )
    ]
    if is_secret_path(abspath, ctx):
        attrs: dict[str, AttrValue] = {"targets": targets, "operation": "read"}
        if _proc_environ(abspath):
            attrs["environment_dump"] = True
            attrs["other_process"] = abspath.split("/")[2] not in ("self", "thread-self")
        out.append(Effect(kind="secrets.read", attrs=attrs, evidence=evidence, via=via))
    return out
