"""git: what a ``git`` (or ``hub``) command would do to remotes, history, work and hooks.

Understood, the way git itself parses them:

- every global option before the subcommand (``-C`` changes the effective directory,
  ``-c key=value`` and ``--config-env`` set configuration, ``--git-dir``,
  ``--work-tree``, ``--namespace``, ``--attr-source``, ``-p``/``-P``, ``--bare``, the
  pathspec switches, ...), configuration passed through ``GIT_CONFIG_PARAMETERS`` and
  ``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_n``/``GIT_CONFIG_VALUE_n``, and the dashed
  forms (``git-push``, ``/usr/lib/git-core/git-reset``);
- aliases defined with ``-c alias.x=...``: a plain alias is expanded (with git's own
  word splitting) and analysed as the command it stands for; a ``!shell`` alias is
  ``opaque_exec``. Builtins win over aliases, as in git;
- subcommand options with git's parse-options rules: bundled short options
  (``-fdx``), option arguments (``-m <msg>`` is data, never a flag), ``--no-`` negation,
  last-one-wins, ``--`` and unique abbreviations of long options (``--forc``, ``--mirr``);
- ``push``: force (``-f``, ``--force``, ``--force-with-lease``, ``+refspec``,
  ``--mirror``, a ``+`` push refspec or ``mirror`` in ``-c remote.<r>.*``), deletion
  (``--delete``, ``:dst``, ``--prune``), protected destinations;
- discarding work: ``reset --hard/--merge/--keep``, ``checkout`` of paths or
  ``--force``, ``restore`` of the worktree, ``switch --discard-changes/--force``,
  ``clean``, ``stash drop/clear``, ``branch -D``, ``worktree remove --force``,
  ``update-ref -d`` (and ``--stdin`` deletions), ``reflog expire/delete``,
  ``gc --prune=<date>``, ``prune``, ``rm --force``, ``checkout-index --force``,
  ``read-tree --reset -u``;
- rewriting history: ``filter-branch``, ``filter-repo`` (and ``bfg``);
- skipping hooks: ``--no-verify`` (``-n`` on ``commit`` and ``am`` only),
  ``core.hooksPath`` pointed away from a hooks directory (``-c`` or ``git config``),
  ``HUSKY=0``/``SKIP=...``/``LEFTHOOK=0`` on a command that runs hooks;
- committing secrets: ``add``/``stage`` (and ``commit <paths>``) of a secrets file
  (``.env``, a private key, ``credentials.json``: :func:`files.is_secret_path`) is
  ``secrets.exfil`` with ``destination="git"``. ``add .``/``-A``/``-u`` name no file and
  ``rm --cached`` is the fix: neither is flagged;
- hidden execution: configuration whose value is a program (``core.pager``,
  ``core.fsmonitor``, ``core.sshCommand``, ...) unless it is a plain pager or editor,
  ``ext::`` transport URLs, ``--upload-pack``/``--receive-pack``, ``rebase --exec``,
  ``submodule foreach``, ``bisect run``. A simple ``git ...`` command in those places
  is analysed; anything else is ``opaque_exec``.

Nothing is executed and no file is read: the analysis works on the argv alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from ringfence.analyze import files
from ringfence.analyze.command import Command
from ringfence.analyze.context import Context
from ringfence.analyze.registry import effect
from ringfence.model import AttrValue, Effect


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ---------------------------------------------------------------------------------------
# What git runs as a builtin (aliases never shadow these), and well-known externals.

_BUILTINS = _names(
    """
    add am annotate apply archive bisect blame branch bugreport bundle cat-file check-attr
    check-ignore check-mailmap check-ref-format checkout checkout--worker checkout-index
    cherry cherry-pick clean clone column commit commit-graph commit-tree config
    count-objects credential credential-cache credential-cache--daemon credential-store
    describe diagnose diff diff-files diff-index diff-tree difftool fast-export fast-import
    fetch fetch-pack fmt-merge-msg for-each-ref for-each-repo format-patch fsck fsck-objects
    fsmonitor--daemon gc get-tar-commit-id grep hash-object help hook index-pack init
    init-db interpret-trailers log ls-files ls-remote ls-tree mailinfo mailsplit maintenance
    merge merge-base merge-file merge-index merge-ours merge-recursive merge-recursive-ours
    merge-recursive-theirs merge-subtree merge-tree mktag mktree multi-pack-index mv
    name-rev notes pack-objects pack-redundant pack-refs patch-id pickaxe prune prune-packed
    pull push range-diff read-tree rebase receive-pack reflog refs remote remote-ext
    remote-fd repack replace replay rerere reset restore rev-list rev-parse revert rm
    send-pack shortlog show show-branch show-index show-ref sparse-checkout stage stash
    status stripspace submodule--helper switch symbolic-ref tag unpack-file unpack-objects
    update-index update-ref update-server-info upload-archive upload-archive--writer
    upload-pack var verify-commit verify-pack verify-tag version whatchanged worktree
    write-tree
    """
)

_KNOWN_EXTERNALS = _names(
    """
    filter-branch filter-repo submodule subtree lfs flow mergetool instaweb request-pull
    send-email svn p4 gui citool web--browse quiltimport archimport cvsimport cvsserver
    cvsexportcommit shell sh-setup sh-i18n difftool--helper mergetool--lib annex crypt
    secret absorb machete town extras
    """
)

# Subcommands that run client-side hooks an environment variable can switch off.
_HOOK_COMMANDS = frozenset({"commit", "merge", "pull", "push", "rebase", "am", "cherry-pick", "revert"})
# Subcommands that talk to a remote (where ext:: URLs and transport programs matter).
_TRANSPORT_COMMANDS = frozenset({"clone", "fetch", "pull", "push", "ls-remote", "remote", "submodule", "archive"})

_MAX_DEPTH = 8

# ---------------------------------------------------------------------------------------
# A compact reimplementation of git's parse-options.

_NONE, _REQ, _OPT = 0, 1, 2


@dataclass(frozen=True, slots=True)
class _Spec:
    """Options of one subcommand: long name -> (key, arg mode); short letter -> (key, mode).

    ``mitigating`` keys are never applied from an ambiguous abbreviation (so a prefix
    that might mean ``--dry-run`` never hides one that might mean ``--force``).
    """

    longs: Mapping[str, tuple[str, int]]
    shorts: Mapping[str, tuple[str, int]]
    mitigating: frozenset[str] = frozenset()


def _spec(longs: str, shorts: str = "", mitigating: Iterable[str] = ()) -> _Spec:
    """Build a spec from a mini language.

    ``longs``: space-separated names, ``name=`` takes a required argument, ``name=?`` an
    optional one (only as ``--name=value``). ``shorts``: ``f:force`` maps ``-f`` to the
    long option ``force`` (and its argument mode); ``b=`` / ``S=?`` / ``D`` are short
    options with their own key.
    """
    long_map: dict[str, tuple[str, int]] = {}
    for tok in longs.split():
        name, mode = _mode(tok)
        long_map[name] = (name, mode)
    short_map: dict[str, tuple[str, int]] = {}
    for tok in shorts.split():
        head, _, target = tok.partition(":")
        letter, mode = _mode(head)
        if target:
            short_map[letter] = long_map[target]
        else:
            short_map[letter] = (letter, mode)
    return _Spec(long_map, short_map, frozenset(mitigating))


def _mode(tok: str) -> tuple[str, int]:
    if tok.endswith("=?"):
        return tok[:-2], _OPT
    if tok.endswith("="):
        return tok[:-1], _REQ
    return tok, _NONE


@dataclass(slots=True)
class _Parsed:
    """The options (in order) and the positional words of one parse."""

    opts: list[tuple[str, str | None, bool]] = field(default_factory=list)  # key, value, negated
    positional: list[int] = field(default_factory=list)  # indexes before "--"
    rest: list[int] = field(default_factory=list)  # indexes after "--"
    dashdash: bool = False
    help: bool = False

    def on(self, key: str) -> bool:
        """Whether the last occurrence of ``key`` switched it on (last one wins)."""
        state = False
        for k, _, neg in self.opts:
            if k == key:
                state = not neg
        return state

    def count(self, key: str) -> int:
        n = 0
        for k, _, neg in self.opts:
            if k == key:
                n = 0 if neg else n + 1
        return n

    def value(self, key: str) -> str | None:
        """The value of the last non-negated occurrence of ``key`` (None if none)."""
        out: str | None = None
        for k, v, neg in self.opts:
            if k == key:
                out = None if neg else v
        return out

    def values(self, key: str) -> list[str]:
        return [v for k, v, neg in self.opts if k == key and not neg and v is not None]

    def seen(self, key: str) -> bool:
        return any(k == key for k, _, _ in self.opts)

    def words(self) -> list[int]:
        return self.positional + self.rest


def _parse(spec: _Spec, args: Sequence[str]) -> _Parsed:
    out = _Parsed()
    n = len(args)
    i = 0
    while i < n:
        arg = args[i]
        if arg == "--":
            out.dashdash = True
            out.rest = list(range(i + 1, n))
            break
        if arg.startswith("--"):
            i = _parse_long(spec, args, i, out)
        elif arg.startswith("-") and len(arg) > 1:
            i = _parse_short(spec, args, i, out)
        else:
            out.positional.append(i)
        i += 1
    return out


def _parse_long(spec: _Spec, args: Sequence[str], i: int, out: _Parsed) -> int:
    name, eq, val = args[i][2:].partition("=")
    if name == "help" and not eq:
        out.help = True
    cands = _resolve_long(spec, name)
    if len(cands) == 1:
        key, mode, neg = cands[0]
        value: str | None = None
        if eq:
            value = val
        elif mode == _REQ and not neg and i + 1 < len(args):
            value = args[i + 1]
            i += 1
        out.opts.append((key, value, neg))
    elif cands:  # ambiguous: git refuses; assume the worst of the candidates
        for key, _, neg in cands:
            if not neg and key not in spec.mitigating:
                out.opts.append((key, val if eq else None, False))
    else:
        out.opts.append(("--" + name, val if eq else None, False))
    return i


def _resolve_long(spec: _Spec, name: str) -> list[tuple[str, int, bool]]:
    if not name:
        return []
    longs = spec.longs
    if name in longs:
        return [(*longs[name], False)]
    if name.startswith("no-") and name[3:] in longs:
        return [(*longs[name[3:]], True)]
    if "no-" + name in longs:  # --verify countermands --no-verify
        return [(*longs["no-" + name], True)]
    found: list[tuple[str, int, bool]] = []
    for long_name, (key, mode) in longs.items():
        if long_name.startswith(name):
            cand = (key, mode, False)
        elif name.startswith("no-") and len(name) > 3 and long_name.startswith(name[3:]):
            cand = (key, mode, True)
        else:
            continue
        if cand not in found:
            found.append(cand)
    return found


def _parse_short(spec: _Spec, args: Sequence[str], i: int, out: _Parsed) -> int:
    arg = args[i]
    if arg == "-h":
        out.help = True
    j = 1
    while j < len(arg):
        letter = arg[j]
        entry = spec.shorts.get(letter)
        if entry is None:
            out.opts.append(("-" + letter, None, False))
            j += 1
            continue
        key, mode = entry
        if mode == _REQ:
            if j + 1 < len(arg):
                out.opts.append((key, arg[j + 1 :], False))
            elif i + 1 < len(args):
                out.opts.append((key, args[i + 1], False))
                i += 1
            else:
                out.opts.append((key, None, False))
            return i
        if mode == _OPT:
            out.opts.append((key, arg[j + 1 :] or None, False))
            return i
        out.opts.append((key, None, False))
        j += 1
    return i


# ---------------------------------------------------------------------------------------
# Option tables (enough of each subcommand for arguments to be consumed correctly).

_PUSH = _spec(
    "all branches mirror delete tags dry-run porcelain force force-with-lease=? force-if-includes"
    " repo= set-upstream thin receive-pack= exec= prune no-verify quiet verbose progress"
    " recurse-submodules= signed=? atomic push-option= ipv4 ipv6 follow-tags",
    "v:verbose q:quiet d:delete n:dry-run f:force u:set-upstream o:push-option 4:ipv4 6:ipv6",
    mitigating=("dry-run",),
)
_RESET = _spec(
    "quiet refresh mixed soft hard merge keep recurse-submodules=? patch intent-to-add"
    " pathspec-from-file= pathspec-file-nul",
    "q:quiet p:patch N:intent-to-add",
)
_CHECKOUT = _spec(
    "quiet progress detach track=? guess orphan= force merge conflict= patch"
    " ignore-skip-worktree-bits ignore-other-worktrees overwrite-ignore recurse-submodules=?"
    " overlay ours theirs pathspec-from-file= pathspec-file-nul auto-advance",
    "q:quiet b= B= l t=? f:force m:merge p:patch 2:ours 3:theirs",
)
_SWITCH = _spec(
    "create= force-create= guess discard-changes force merge conflict= detach track=? orphan="
    " ignore-other-worktrees recurse-submodules=? progress quiet",
    "c:create C:force-create d:detach f:force m:merge q:quiet t=?",
)
_RESTORE = _spec(
    "source= staged worktree ours theirs merge conflict= patch quiet progress ignore-unmerged"
    " ignore-skip-worktree-bits recurse-submodules=? overlay pathspec-from-file= pathspec-file-nul",
    "s:source S:staged W:worktree 2:ours 3:theirs m:merge p:patch q:quiet",
    mitigating=("staged",),
)
_CLEAN = _spec(
    "quiet dry-run force interactive exclude=",
    "q:quiet n:dry-run f:force i:interactive d x X e:exclude",
    mitigating=("dry-run",),
)
_BRANCH = _spec(
    "delete force move copy create-reflog list remotes all verbose quiet track=? set-upstream-to="
    " unset-upstream edit-description contains=? merged=? no-merged=? no-contains=? points-at="
    " format= sort= column=? show-current ignore-case abbrev=? color=? recurse-submodules omit-empty",
    "d:delete D f:force m:move M c:copy C l:list r:remotes a:all v:verbose q:quiet t=? u:set-upstream-to i:ignore-case",
)
_FORCE_ONLY = _spec("force dry-run verbose quiet", "f:force n:dry-run v:verbose q:quiet", mitigating=("dry-run",))
_UPDATE_REF = _spec("no-deref stdin create-reflog", "m= d z")
_REFLOG = _spec(
    "expire=? expire-unreachable=? all single-worktree rewrite updateref stale-fix dry-run verbose",
    "n:dry-run",
    mitigating=("dry-run",),
)
_GC = _spec("quiet prune=? aggressive auto force keep-largest-pack cruft max-cruft-size= detach", "q:quiet")
_PRUNE = _spec("dry-run verbose progress expire=", "n:dry-run v:verbose", mitigating=("dry-run",))
_RM = _spec(
    "dry-run quiet cached force ignore-unmatch sparse pathspec-from-file= pathspec-file-nul",
    "n:dry-run q:quiet f:force r",
    mitigating=("dry-run", "cached"),
)
_CHECKOUT_INDEX = _spec(
    "index all force quiet no-create prefix= stage= temp ignore-skip-worktree-bits stdin",
    "u:index a:all f:force q:quiet n:no-create z",
)
_READ_TREE = _spec(
    "reset index-output= prefix= dry-run verbose trivial aggressive exclude-per-directory= empty"
    " no-sparse-checkout recurse-submodules=? quiet",
    "m u i n:dry-run v:verbose q:quiet",
    mitigating=("dry-run",),
)
_COMMIT = _spec(
    "no-verify all patch message= file= reuse-message= reedit-message= fixup= squash= author= date="
    " template= signoff trailer= gpg-sign=? amend edit cleanup= untracked-files=? verbose quiet dry-run"
    " short branch porcelain long null include only allow-empty allow-empty-message post-rewrite"
    " status reset-author pathspec-from-file= pathspec-file-nul interactive ahead-behind",
    "n:no-verify a:all p:patch m:message F:file c:reuse-message C:reedit-message t:template s:signoff"
    " S:gpg-sign e:edit u:untracked-files v:verbose q:quiet z:null i:include o:only",
)
_MERGE = _spec(
    "no-verify commit edit cleanup= ff ff-only rerere-autoupdate verify-signatures stat summary log=?"
    " squash strategy= strategy-option= message= file= into-name= quiet verbose abort quit continue"
    " allow-unrelated-histories progress autostash signoff gpg-sign=? overwrite-ignore compact-summary",
    "n e m:message F:file s:strategy X:strategy-option S:gpg-sign q:quiet v:verbose",
)
_PULL = _spec(
    "no-verify verbose quiet progress recurse-submodules=? commit edit cleanup= ff ff-only stat log=?"
    " signoff squash strategy= strategy-option= verify-signatures autostash rebase=? all append"
    " upload-pack= force keep prune depth= deepen= shallow-since= shallow-exclude= unshallow"
    " update-shallow refmap= server-option= ipv4 ipv6 jobs= dry-run tags set-upstream"
    " allow-unrelated-histories gpg-sign=?",
    "v:verbose q:quiet n e s:strategy X:strategy-option r:rebase a:append f:force k:keep p:prune"
    " o:server-option 4:ipv4 6:ipv6 j:jobs t:tags S:gpg-sign",
)
_REBASE = _spec(
    "no-verify onto= keep-base continue abort quit skip edit-todo show-current-patch apply merge"
    " empty= keep-empty reapply-cherry-picks allow-empty-message strategy= strategy-option= gpg-sign=?"
    " quiet verbose stat whitespace= committer-date-is-author-date ignore-date signoff interactive"
    " rebase-merges=? fork-point ignore-whitespace autosquash autostash exec= root update-refs"
    " reschedule-failed-exec rerere-autoupdate no-ff force-rebase context=",
    "m:merge s:strategy X:strategy-option S:gpg-sign q:quiet v:verbose n i:interactive r:rebase-merges"
    " x:exec f:force-rebase C=",
)
_AM = _spec(
    "no-verify signoff keep keep-non-patch keep-cr scissors quiet utf8 3way rerere-autoupdate"
    " ignore-space-change ignore-whitespace whitespace= directory= exclude= include= reject patch-format="
    " interactive commit-date-is-author-date ignore-date skip gpg-sign=? continue resolved"
    " resolvemsg= abort quit retry show-current-patch=? message-id empty=",
    "n:no-verify s:signoff k:keep c:scissors q:quiet u:utf8 3:3way C= p= i:interactive S:gpg-sign r:continue"
    " m:message-id",
)
_CONFIG = _spec(
    "global system local worktree file= blob= get get-all get-regexp get-urlmatch replace-all add"
    " unset unset-all rename-section remove-section list edit get-color get-colorbool type= bool int"
    " bool-or-int path expiry-date null name-only includes show-origin show-scope default= comment="
    " value= fixed-value url= all regexp append",
    "f:file l:list e:edit z:null",
)
_ADD = _spec(
    "dry-run verbose interactive patch edit force update all ignore-removal intent-to-add refresh"
    " ignore-errors ignore-missing renormalize sparse chmod= pathspec-from-file= pathspec-file-nul",
    "n:dry-run v:verbose i:interactive p:patch e:edit f:force u:update A:all N:intent-to-add",
    mitigating=("dry-run",),
)
_FILTER_BRANCH = _spec(
    "setup= subdirectory-filter= env-filter= tree-filter= index-filter= parent-filter= msg-filter="
    " commit-filter= tag-name-filter= prune-empty original= state-branch= force",
    "d= f:force",
)
_CONFIG_READS = (
    "get",
    "get-all",
    "get-regexp",
    "get-urlmatch",
    "unset",
    "unset-all",
    "rename-section",
    "remove-section",
    "list",
    "edit",
    "get-color",
    "get-colorbool",
)

# ---------------------------------------------------------------------------------------
# Configuration and environment facts.

_EXEC_CONFIG = re.compile(
    r"(?:core\.(?:pager|editor|fsmonitor|sshcommand|askpass|gitproxy|alternaterefscommand)"
    r"|pager\..+|sequence\.editor|diff\.external|diff\..+\.(?:textconv|command)|merge\..+\.driver"
    r"|filter\..+\.(?:clean|smudge|process)|gpg(?:\..+)?\.program|credential(?:\..+)?\.helper"
    r"|uploadpack\.packobjectshook|remote\..+\.(?:uploadpack|receivepack)|(?:diff|merge)tool\..+\.cmd"
    r"|interactive\.difffilter)"
)
_EXEC_ENV = (
    "GIT_PAGER",
    "PAGER",
    "GIT_EDITOR",
    "EDITOR",
    "VISUAL",
    "GIT_SEQUENCE_EDITOR",
    "GIT_SSH_COMMAND",
    "GIT_SSH",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "GIT_EXTERNAL_DIFF",
)
# Programs that are only pagers, editors, viewers or the ssh client: naming one runs nothing unexpected.
_PLAIN_PROGRAMS = _names(
    """
    cat less more most true false : vi vim nvim view nano pico emacs emacsclient code code-insiders
    subl mate micro hx helix kak ed ex delta diff-so-fancy bat batcat head tee ssh plink tortoiseplink
    sed gpg gpg2 git-lfs
    """
)
_BOOLISH = frozenset({"", "true", "false", "yes", "no", "on", "off", "0", "1"})
_SHELL_META = re.compile(r"[;&|<>`$()\n]")
_GIT_CONFIG_PARAM = re.compile(r"'((?:[^'\\]|\\.)*)'(?:=('(?:[^'\\]|\\.)*'))?")
_STDIN_DELETE = re.compile(r"^(?:delete\s+(\S+)|update\s+(\S+)\s+0{40}\b)", re.MULTILINE)
_FILE_EXT = re.compile(r"[^/]*\.[A-Za-z][A-Za-z0-9_+-]{0,11}")
_COMMITISH_CHARS = re.compile(r"[~^@{}]|^[0-9a-f]{7,40}$")
_EXTENSIONLESS_FILES = frozenset(
    {
        "Makefile",
        "Dockerfile",
        "LICENSE",
        "README",
        "Gemfile",
        "Rakefile",
        "Procfile",
        "Jenkinsfile",
        "Vagrantfile",
        "CODEOWNERS",
        "Justfile",
        "justfile",
        "makefile",
        "Brewfile",
        "Pipfile",
        "NOTICE",
        "AUTHORS",
        "CHANGELOG",
        "VERSION",
    }
)
# Hook managers' "skip the hooks" switches, for commands that run hooks.
_HOOK_ENV_OFF = {"HUSKY": ("0", "false"), "LEFTHOOK": ("0", "false")}
_HOOK_ENV_SET = ("HUSKY_SKIP_HOOKS", "SKIP", "LEFTHOOK_EXCLUDE", "OVERCOMMIT_DISABLE")


# ---------------------------------------------------------------------------------------
# One invocation: where it runs, the configuration it sees, and how to report effects.


@dataclass(slots=True)
class _Inv:
    cmd: Command
    ctx: Context
    tool: str
    dir: str
    config: dict[str, str | None]
    work_tree: str | None = None
    alias: str | None = None
    depth: int = 0

    def child(self, alias: str | None = None) -> _Inv:
        return _Inv(
            self.cmd,
            self.ctx,
            self.tool,
            self.dir,
            dict(self.config),
            self.work_tree,
            self.alias or alias,
            self.depth + 1,
        )

    def emit(self, kind: str, **attrs: AttrValue) -> Effect:
        if self.alias is not None and "alias" not in attrs:
            attrs["alias"] = self.alias
        if self.cmd.remote is not None and "remote" in attrs:
            attrs["host"] = self.cmd.remote  # "remote" names the git remote here
        return effect(kind, self.cmd, **attrs)

    def discard(self, operation: str, targets: Sequence[str], **attrs: AttrValue) -> Effect:
        attrs.setdefault("unrecoverable", False)
        if self.work_tree is not None:
            attrs["work_tree"] = self.work_tree
        return self.emit(
            "git.history_discard",
            operation=operation,
            targets=tuple(targets),
            dir=self.dir,
            tool=self.tool,
            **attrs,
        )

    def opaque(self, source: str, command: str | None, **attrs: AttrValue) -> Effect:
        return self.emit("opaque_exec", source=source, command=command, tool=self.tool, **attrs)

    @property
    def base(self) -> str:
        """Where relative pathspecs start: the directory, or the work tree when it is outside it."""
        tree = self.work_tree
        if tree is None or self.dir == tree or self.dir.startswith(tree.rstrip("/") + "/"):
            return self.dir
        return tree

    def paths(self, words: Iterable[str]) -> tuple[str, ...]:
        """Pathspecs resolved against the effective directory (``:/`` = workspace root)."""
        out: list[str] = []
        for word in words:
            if word.startswith((":!", ":^")):
                continue  # an exclusion
            spec = word
            base = self.base
            if spec.startswith(":("):
                magic, _, spec = spec[2:].partition(")")
                if "exclude" in magic:
                    continue
                if "top" in magic:
                    base = self.work_tree or self.ctx.workspace or self.dir
            elif spec.startswith(":/"):
                spec, base = spec[2:], self.work_tree or self.ctx.workspace or self.dir
            out.append(self.ctx.resolve(spec or ".", cwd=base))
        return tuple(out)


_Handler = Callable[[_Inv, list[str], list[bool]], Iterator[Effect]]

# ---------------------------------------------------------------------------------------
# Entry point.

_HANDLED_DASHED = _names(
    """
    add stage push reset checkout clean stash branch worktree update-ref reflog gc prune switch restore commit
    merge pull rebase am config filter-branch filter-repo rm checkout-index read-tree submodule bisect
    clone fetch ls-remote remote archive cherry-pick revert
    """
)
COMMANDS: frozenset[str] | None = frozenset({"git", "hub", "bfg"} | {"git-" + s for s in _HANDLED_DASHED})


def classify(cmd: Command, ctx: Context) -> Iterator[Effect]:
    name = cmd.name
    if name == "bfg":
        yield from _bfg(cmd)
        return
    tool = "hub" if name == "hub" else "git"
    inv = _Inv(cmd, ctx, tool, cmd.cwd or ctx.cwd, _env_config(cmd.env))
    yield from _config_effects(inv, inv.config, "environment")
    yield from _exec_env(inv)
    args = list(cmd.args)
    dyn = [cmd.is_dynamic(i + 1) for i in range(len(args))]
    if name.startswith("git-"):  # the dashed form takes no global options and no aliases
        yield from _dispatch(inv, name[4:], args, dyn)
    else:
        yield from _run(inv, args, dyn)


def _run(inv: _Inv, words: list[str], dyn: list[bool]) -> Iterator[Effect]:
    """Global options, then the subcommand (or the alias it names)."""
    i, found = _globals(inv, words, dyn)
    yield from found
    if i >= len(words):
        return
    if dyn[i]:
        yield inv.opaque("dynamic subcommand", words[i])
        return
    sub = words[i]
    if sub in ("-h", "--help", "-v", "--version"):
        return
    yield from _dispatch(inv, sub, words[i + 1 :], dyn[i + 1 :])


def _globals(inv: _Inv, words: list[str], dyn: list[bool]) -> tuple[int, list[Effect]]:
    found: list[Effect] = []
    i, n = 0, len(words)
    while i < n:
        word = words[i]
        if not word.startswith("-") or word in ("-h", "--help", "-v", "--version"):
            return i, found
        nxt = words[i + 1] if i + 1 < n else None
        if word == "-C":
            if nxt:
                inv.dir = inv.ctx.resolve(nxt, cwd=inv.dir)
            i += 2
            continue
        if word in ("-c", "--config-env"):
            if nxt is not None:
                key_value = _config_env(inv.cmd.env, nxt) if word == "--config-env" else _config_arg(nxt, dyn[i + 1])
                found.extend(_set_config(inv, *key_value, source="-c"))
            i += 2
            continue
        if word.startswith("--config-env="):
            found.extend(_set_config(inv, *_config_env(inv.cmd.env, word[13:]), source="-c"))
        elif word in (
            "--git-dir",
            "--work-tree",
            "--namespace",
            "--attr-source",
            "--shallow-file",
            "--super-prefix",
        ):
            if word == "--work-tree" and nxt:
                inv.work_tree = inv.ctx.resolve(nxt, cwd=inv.dir)
            i += 2
            continue
        elif word.startswith("--work-tree="):
            inv.work_tree = inv.ctx.resolve(word[12:], cwd=inv.dir)
        elif word.startswith("--exec-path") and "=" not in word:
            return n, found  # prints the exec path and exits
        elif word in ("--html-path", "--man-path", "--info-path") or word.startswith("--list-cmds="):
            return n, found
        i += 1  # flags, --exec-path=..., --git-dir=..., and unknown options (git refuses those)
    return i, found


def _dispatch(inv: _Inv, sub: str, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    if args and args[0] == "--help":
        return  # becomes `git help <sub>`
    if sub in _HOOK_COMMANDS:
        yield from _hook_env(inv, sub)
    if sub in _TRANSPORT_COMMANDS:
        yield from _transport(inv, sub, args)
    handler = _HANDLERS.get(sub)
    alias_key = "alias." + sub.lower()
    if sub not in _BUILTINS and alias_key in inv.config:
        yield from _expand_alias(inv, sub, inv.config[alias_key], args, dyn)
        if handler is None:
            return
    if handler is not None:
        yield from handler(inv, args, dyn)
        return
    if sub not in _BUILTINS and sub not in _KNOWN_EXTERNALS:
        guess = _autocorrect(sub)
        if guess is not None:  # help.autocorrect would run the command it resembles
            yield from _HANDLERS[guess](inv.child(), args, dyn)


def _autocorrect(sub: str) -> str | None:
    if len(sub) < 3:
        return None
    close = [name for name in _HANDLERS if name in _BUILTINS and _within_one_edit(sub, name)]
    return close[0] if len(close) == 1 else None


def _within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance of at most one (substitution, insertion, deletion, swap)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]


# ---------------------------------------------------------------------------------------
# Configuration: -c, --config-env, the environment, aliases, hooksPath, program values.


def _config_arg(spec: str, dynamic: bool) -> tuple[str, str | None]:
    key, eq, value = spec.partition("=")
    return key.lower(), (value if eq and not dynamic else None)


def _config_env(env: Mapping[str, str], spec: str) -> tuple[str, str | None]:
    key, _, var = spec.partition("=")
    return key.lower(), env.get(var)


def _env_config(env: Mapping[str, str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    params = env.get("GIT_CONFIG_PARAMETERS")
    if params:
        for m in _GIT_CONFIG_PARAM.finditer(params):
            key = m.group(1)
            if "=" in key and m.group(2) is None:  # the older 'key=value' form
                key, _, val = key.partition("=")
                out[key.lower()] = val
            else:
                raw = m.group(2)
                out[key.lower()] = raw[1:-1] if raw is not None else None
    count = env.get("GIT_CONFIG_COUNT", "")
    if count.isascii() and count.isdigit():
        for n in range(min(int(count), 64)):
            key = env.get(f"GIT_CONFIG_KEY_{n}")
            if key:
                out[key.lower()] = env.get(f"GIT_CONFIG_VALUE_{n}")
    return out


def _set_config(inv: _Inv, key: str, value: str | None, source: str) -> list[Effect]:
    inv.config[key] = value
    return list(_config_effects(inv, {key: value}, source))


def _config_effects(inv: _Inv, config: Mapping[str, str | None], source: str) -> Iterator[Effect]:
    """Effects of configuration in force for this command (not aliases: those act when used)."""
    for key, value in config.items():
        if key == "core.hookspath":
            if _hooks_path_disables(inv, value):
                yield inv.emit("git.hook_bypass", operation=f"{source} core.hooksPath", hooks_path=value, tool=inv.tool)
        elif _EXEC_CONFIG.fullmatch(key) and _runs_program(key, value):
            yield inv.opaque(f"{source} {key}", value, config=key)


def _hooks_path_disables(inv: _Inv, value: str | None) -> bool:
    """A hooksPath that is not a hooks directory in the workspace switches the hooks off."""
    if not value:
        return True
    resolved = inv.ctx.resolve(value, cwd=inv.ctx.workspace or inv.dir)
    base = resolved.rstrip("/").rsplit("/", 1)[-1].lower()
    looks_like_hooks = "hook" in base or base in (".husky", "_", ".lefthook")
    inside = inv.ctx.inside_workspace(resolved) or (not value.startswith(("/", "~", "$")) and ".." not in value)
    return not (looks_like_hooks and inside)


def _runs_program(key: str, value: str | None) -> bool:
    if value is None:
        return True
    v = value.strip()
    if v.lower() in _BOOLISH:
        return False
    if key.startswith("credential") and not v.startswith("!") and "/" not in v.split()[0]:
        return False  # a named helper (git-credential-<name> [args])
    if _SHELL_META.search(v) or v.startswith("!"):
        return True
    first = v.split()[0].rsplit("/", 1)[-1]
    return first not in _PLAIN_PROGRAMS


def _exec_env(inv: _Inv) -> Iterator[Effect]:
    for var in _EXEC_ENV:
        value = inv.cmd.env.get(var)
        if value is not None and _runs_program(var.lower(), value):
            yield inv.opaque(f"environment {var}", value, env=var)


def _hook_env(inv: _Inv, sub: str) -> Iterator[Effect]:
    env = inv.cmd.env
    for var, off in _HOOK_ENV_OFF.items():
        if env.get(var, "").lower() in off and var in env:
            yield inv.emit("git.hook_bypass", operation=f"{var}={env[var]} git {sub}", env=var, tool=inv.tool)
    for var in _HOOK_ENV_SET:
        if env.get(var):
            yield inv.emit("git.hook_bypass", operation=f"{var}={env[var]} git {sub}", env=var, tool=inv.tool)


def _expand_alias(inv: _Inv, name: str, value: str | None, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    if inv.depth >= _MAX_DEPTH:
        return  # git stops alias loops too
    if value is None:
        yield inv.opaque("alias", None, alias=name)
        return
    if value.startswith("!"):
        yield inv.opaque("alias", value[1:], alias=name)
        yield from _embedded(inv.child(name), value[1:], args, reported=True)
        return
    words = _split_cmdline(value)
    if not words or words[0] == name:
        return  # git refuses an empty, unparseable or self-recursive alias
    yield from _run(inv.child(name), words + args, [False] * len(words) + dyn)


def _embedded(
    inv: _Inv, text: str, extra: Sequence[str] = (), source: str = "embedded command", reported: bool = False
) -> Iterator[Effect]:
    """A command string git hands to a shell: a simple ``git ...`` is analysed, the rest is opaque.

    ``reported``: the caller already emitted ``opaque_exec`` for it (a ``!`` alias).
    """
    words = _split_cmdline(text)
    if not words or _SHELL_META.search(text) or inv.depth >= _MAX_DEPTH:
        if not reported:
            yield inv.opaque(source, text)
        return
    program = words[0].rsplit("/", 1)[-1]
    argv = words[1:] + list(extra)
    dyn = [False] * len(argv)
    child = inv.child()
    if program == "git":
        yield from _run(child, argv, dyn)
    elif program.startswith("git-") and program[4:] in _HANDLERS:
        yield from _dispatch(child, program[4:], argv, dyn)
    elif not reported:
        yield inv.opaque(source, text)


def _split_cmdline(text: str) -> list[str] | None:
    """git's split_cmdline: whitespace-separated words, '…' and "…" quoting, backslash escapes."""
    words: list[str] = []
    cur: list[str] = []
    in_word = False
    quote = ""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if not quote and c.isspace():
            if in_word:
                words.append("".join(cur))
                cur, in_word = [], False
        elif not quote and c in "'\"":
            quote, in_word = c, True
        elif quote and c == quote:
            quote = ""
        else:
            if c == "\\" and quote != "'":
                i += 1
                if i >= n:
                    return None
                c = text[i]
            cur.append(c)
            in_word = True
        i += 1
    if quote:
        return None
    if in_word:
        words.append("".join(cur))
    return words


# ---------------------------------------------------------------------------------------
# push


@dataclass(frozen=True, slots=True)
class _Dest:
    name: str | None  # None: the branch is not known (HEAD, current branch, a variable)
    kind: str  # branch | tag | other | all
    force: bool = False
    delete: bool = False


def _push(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    p = _parse(_PUSH, args)
    if p.help:
        return
    words = p.words()
    remote = args[words[0]] if words else p.value("repo")
    remote_key = (remote or "origin").lower()
    mirror = p.on("mirror") or _truthy(inv.config.get(f"remote.{remote_key}.mirror"))
    lease = p.on("force-with-lease")
    config_force = (inv.config.get(f"remote.{remote_key}.push") or "").startswith("+")
    force_all = p.count("force") > 0 or lease or mirror or config_force
    dests = _push_dests(p, args, dyn, words[1:], mirror)
    dests = [_Dest(d.name, d.kind, (d.force or force_all) and not d.delete, d.delete) for d in dests]
    tool = inv.tool
    dry_run = p.on("dry-run")
    updated = [d for d in dests if not d.delete]
    yield inv.emit(
        "git.push",
        remote=remote,
        branches=_branch_names(updated),
        branch_unknown=_unknown(updated),
        force=any(d.force for d in dests),
        dry_run=dry_run,
        tool=tool,
    )
    if p.on("no-verify"):
        yield inv.emit("git.hook_bypass", operation="push --no-verify", tool=tool)
    if dry_run:
        return
    ctx = inv.ctx
    forced = [d for d in updated if d.force]
    if forced:
        yield inv.emit(
            "git.force_push",
            remote=remote,
            branches=_branch_names(forced),
            branch_unknown=_unknown(forced),
            refs=tuple(d.name or "HEAD" for d in forced),
            protected=any(_protected(ctx, d) for d in forced),
            mirror=mirror,
            lease=lease and p.count("force") == 0,
            tool=tool,
        )
    plain = [d for d in updated if not d.force and d.name is not None and _protected(ctx, d)]
    if plain:
        yield inv.emit("git.push_protected", remote=remote, branches=_branch_names(plain), tool=tool)
    deleted = [d for d in dests if d.delete]
    if deleted:
        yield inv.emit(
            "git.ref_delete",
            remote=remote,
            refs=tuple(d.name or "?" for d in deleted),
            protected=any(_protected(ctx, d) for d in deleted),
            tool=tool,
        )
    if p.on("prune") and not mirror:
        yield inv.emit("git.ref_delete", remote=remote, refs=(), prune=True, protected=False, tool=tool)


def _push_dests(p: _Parsed, args: list[str], dyn: list[bool], refspecs: list[int], mirror: bool) -> list[_Dest]:
    delete = p.on("delete")
    out: list[_Dest] = []
    k = 0
    while k < len(refspecs):
        idx = refspecs[k]
        word = args[idx]
        k += 1
        if dyn[idx]:
            out.append(_Dest(None, "branch", delete=delete))
        elif word == "tag" and k < len(refspecs) and not delete:
            out.append(_Dest(args[refspecs[k]], "tag"))
            k += 1
        elif delete:
            name, kind = _ref_name(word.lstrip("+"))
            out.append(_Dest(name, kind, delete=True))
        else:
            dest = _refspec(word)
            if dest is not None:
                out.append(dest)
    if refspecs:
        return out
    if mirror:
        return [_Dest("*", "all")]
    if p.on("all") or p.on("branches"):
        return [_Dest("*", "all")]
    if p.on("tags") or delete:
        return []  # only tags; or git refuses --delete without refs
    return [_Dest(None, "branch")]


def _refspec(word: str) -> _Dest | None:
    force = word.startswith("+")
    spec = word[1:] if force else word
    if spec.startswith("^"):
        return None  # a negative refspec only excludes
    if spec == ":":
        return _Dest("*", "all", force)  # "matching" branches
    src, colon, dst = spec.partition(":")
    if colon and not src:
        name, kind = _ref_name(dst)
        return _Dest(name, kind, delete=True)
    target = dst if colon and dst else src
    if not (colon and dst) and _COMMITISH_CHARS.search(src):
        return _Dest(None, "branch", force)  # a commit expression: no name to push to
    name, kind = _ref_name(target)
    return _Dest(name, kind, force)


def _ref_name(ref: str) -> tuple[str | None, str]:
    if ref in ("", "HEAD", "@"):
        return None, "branch"
    if ref.startswith("refs/heads/"):
        ref = ref[11:]
    elif ref.startswith("refs/tags/"):
        return ref[10:], "tag"
    elif ref.startswith("refs/"):
        return ref, "other"
    return ref, ("all" if "*" in ref else "branch")


def _protected(ctx: Context, d: _Dest) -> bool:
    if d.name is None:
        return True
    if d.kind == "all":
        prefix = d.name.split("*", 1)[0]
        if not prefix:
            return True
        return ctx.is_protected_branch(prefix + "x") or any(
            pat.startswith(prefix) for pat in ctx.config.protected_branches
        )
    return d.kind == "branch" and ctx.is_protected_branch(d.name)


def _branch_names(dests: Iterable[_Dest]) -> tuple[str, ...]:
    return tuple(d.name for d in dests if d.name and d.kind in ("branch", "all"))


def _unknown(dests: Iterable[_Dest]) -> bool:
    return any(d.name is None for d in dests)


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "yes", "on", "1")


# ---------------------------------------------------------------------------------------
# Discarding local work.


def _reset(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    p = _parse(_RESET, args)
    if p.help:
        return
    mode = "mixed"
    for key, _, neg in p.opts:
        if key in ("soft", "mixed", "hard", "merge", "keep") and not neg:
            mode = key
    if mode in ("hard", "merge", "keep"):
        words = [args[i] for i in p.positional]
        yield inv.discard(f"reset --{mode}", words[:1] or ["HEAD"])


def _checkout(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    p = _parse(_CHECKOUT, args)
    if p.help:
        return
    pos = [args[i] for i in p.positional]
    rest = [args[i] for i in p.rest]
    conflict_side = p.on("ours") or p.on("theirs")
    creates = p.seen("b") or p.seen("B") or p.seen("orphan")
    if p.count("force") > 0:
        yield inv.discard("checkout --force", inv.paths(rest or pos[1:]) or pos[:1])
    elif p.on("patch"):
        yield inv.discard("checkout --patch", inv.paths(rest or pos[1:]))
    elif conflict_side:
        return  # taking one side of a conflict is conflict resolution
    elif rest or p.seen("pathspec-from-file"):
        yield inv.discard("checkout -- <paths>", inv.paths(rest))
    elif p.dashdash or creates:
        return
    elif len(pos) >= 2:
        yield inv.discard("checkout <commit> <paths>", inv.paths(pos[1:]))
    elif len(pos) == 1 and not dyn[p.positional[0]] and _looks_like_path(pos[0]):
        yield inv.discard("checkout <paths>", inv.paths(pos))


def _looks_like_path(word: str) -> bool:
    """A lone ``checkout`` argument that names files rather than a branch or commit."""
    if word in (".", "..", "*") or word.startswith(("./", "../", "/", ":/", ":(", "~/")):
        return True
    if word.endswith("/") or any(c in word for c in "*?["):
        return True
    last = word.rsplit("/", 1)[-1]
    if last.startswith(".") and last not in (".", ".."):
        return True
    return last in _EXTENSIONLESS_FILES or (_FILE_EXT.fullmatch(last) is not None and "@" not in last)


def _switch(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    p = _parse(_SWITCH, args)
    if p.help:
        return
    targets = [args[i] for i in p.positional]
    if p.on("discard-changes"):
        yield inv.discard("switch --discard-changes", targets)
    elif p.count("force") > 0:
        yield inv.discard("switch --force", targets)


def _restore(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    p = _parse(_RESTORE, args)
    if p.help or p.on("ours") or p.on("theirs"):
        return
    worktree = p.on("worktree") or not p.on("staged")
    paths = [args[i] for i in p.words()]
    if worktree and (paths or p.seen("pathspec-from-file")):
        op = "restore --worktree" if p.on("staged") else "restore"
        if p.value("source"):
            op += " --source"
        yield inv.discard(op, inv.paths(paths))


def _clean(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    p = _parse(_CLEAN, args)
    if p.help or p.on("dry-run"):
        return
    if p.count("force") > 0:
        op = "clean -f"
    elif p.on("interactive"):
        op = "clean -i"
    else:
        op = "clean"  # refused by default (clean.requireForce), deletes when configured off
    paths = [args[i] for i in p.words()]
    yield inv.discard(
        op,
        inv.paths(paths) or (inv.base,),
        directories=p.on("d"),
        ignored=p.on("x") or p.on("X"),
    )


def _stash(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    i = 0
    while i < len(args) and args[i] in ("-q", "--quiet"):
        i += 1
    if i >= len(args) or args[i].startswith("-") or dyn[i]:
        return  # `git stash [push options]`
    sub = args[i]
    refs = [a for a in args[i + 1 :] if not a.startswith("-")]
    if sub == "drop":
        yield inv.discard("stash drop", refs[:1] or ["stash@{0}"])
    elif sub == "clear":
        yield inv.discard("stash clear", ["refs/stash"])


def _branch(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    p = _parse(_BRANCH, args)
    if p.help:
        return
    if p.on("D") or (p.on("delete") and p.count("force") > 0):
        yield inv.discard("branch -D", [args[i] for i in p.words()])


def _worktree(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    if not args or args[0] != "remove":
        return
    p = _parse(_FORCE_ONLY, args[1:])
    if not p.help and p.count("force") > 0:
        yield inv.discard("worktree remove --force", inv.paths(args[1 + i] for i in p.words()))


def _update_ref(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    p = _parse(_UPDATE_REF, args)
    if p.help:
        return
    if p.on("d"):
        yield inv.discard("update-ref -d", [args[i] for i in p.words()][:1])
    elif p.on("stdin"):
        stdin = inv.cmd.stdin
        if stdin is None:
            if inv.cmd.stdin_from:
                yield inv.discard("update-ref --stdin", [])  # instructions we cannot see
            return
        refs = [m.group(1) or m.group(2) for m in _STDIN_DELETE.finditer(stdin)]
        if refs:
            yield inv.discard("update-ref --stdin delete", refs)


def _reflog(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    if not args or args[0] not in ("expire", "delete"):
        return
    p = _parse(_REFLOG, args[1:])
    if p.help or p.on("dry-run"):
        return
    refs = [args[1 + i] for i in p.words()] or (["--all"] if p.on("all") else [])
    yield inv.discard(f"reflog {args[0]}", refs, unrecoverable=True, expire=p.value("expire"))


def _gc(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    p = _parse(_GC, args)
    if p.help:
        return
    prune = inv.config.get("gc.pruneexpire")
    for key, value, neg in p.opts:
        if key == "prune":
            prune = None if neg else value  # bare --prune is the default grace period
    if prune and prune.lower() not in ("never", "2.weeks.ago", "2 weeks ago"):
        yield inv.discard(f"gc --prune={prune}", [], unrecoverable=True)


def _prune(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    p = _parse(_PRUNE, args)
    if not p.help and not p.on("dry-run"):
        yield inv.discard("prune", [args[i] for i in p.words()], unrecoverable=True)


def _rm(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    p = _parse(_RM, args)
    if p.help or p.on("dry-run") or p.on("cached") or p.count("force") == 0:
        return
    yield inv.discard("rm --force", inv.paths(args[i] for i in p.words()), recursive=p.on("r"))


def _checkout_index(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    p = _parse(_CHECKOUT_INDEX, args)
    if not p.help and p.on("force") and not p.on("no-create"):
        yield inv.discard("checkout-index --force", inv.paths(args[i] for i in p.words()) or (inv.base,))


def _read_tree(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    p = _parse(_READ_TREE, args)
    if not p.help and p.on("reset") and p.on("u") and not p.on("dry-run"):
        yield inv.discard("read-tree --reset -u", [args[i] for i in p.words()])


# ---------------------------------------------------------------------------------------
# Rewriting history, hooks, embedded commands.


def _filter_branch(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    p = _parse(_FILTER_BRANCH, args)
    if p.help:
        return
    refs = tuple(args[i] for i in p.words())
    yield inv.emit("git.history_rewrite", operation="filter-branch", refs=refs, tool=inv.tool)


def _filter_repo(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    if any(a in ("-h", "--help", "--version", "--analyze", "--dry-run") for a in args):
        return  # reports only
    yield inv.emit("git.history_rewrite", operation="filter-repo", refs=(), tool=inv.tool)


def _bfg(cmd: Command) -> Iterator[Effect]:
    args = cmd.args
    if not args or any(a in ("--help", "-h", "--version") for a in args):
        return
    yield effect("git.history_rewrite", cmd, operation="bfg", refs=(), tool="bfg")


def _commit(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    p = _parse(_COMMIT, args)
    if p.help:
        return
    if p.on("no-verify"):
        yield inv.emit("git.hook_bypass", operation="commit --no-verify", tool=inv.tool)
    if not p.on("dry-run"):
        # `git commit <paths>` stages those paths first (even one just `rm --cached`)
        yield from _secrets_staged(inv, "git commit", [args[i] for i in p.words()], force=False)


def _add(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    p = _parse(_ADD, args)
    if p.help or p.on("dry-run"):
        return
    yield from _secrets_staged(inv, "git add", [args[i] for i in p.words()], force=p.count("force") > 0)


def _secrets_staged(inv: _Inv, operation: str, pathspecs: list[str], *, force: bool) -> Iterator[Effect]:
    """Secrets files named to ``add``/``commit``: the next push publishes them, history keeps them.

    Reported as ``secrets.exfil`` (``destination="git"``): the harm is disclosure to
    everyone who can fetch the repository, not a change to the secret itself.
    """
    secret = tuple(p for p in inv.paths(pathspecs) if files.is_secret_path(p, inv.ctx))
    if secret:
        yield inv.emit(
            "secrets.exfil", targets=secret, destination="git", operation=operation, force=force, tool=inv.tool
        )


def _merge(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    yield from _no_verify(inv, "merge", _MERGE, args)


def _pull(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    yield from _no_verify(inv, "pull", _PULL, args)


def _am(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    yield from _no_verify(inv, "am", _AM, args)


def _rebase(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    p = _parse(_REBASE, args)
    if p.help:
        return
    if p.on("no-verify"):
        yield inv.emit("git.hook_bypass", operation="rebase --no-verify", tool=inv.tool)
    for command in p.values("exec"):
        yield from _embedded(inv, command, source="rebase --exec")


def _no_verify(inv: _Inv, sub: str, spec: _Spec, args: list[str]) -> Iterator[Effect]:
    p = _parse(spec, args)
    if not p.help and p.on("no-verify"):
        yield inv.emit("git.hook_bypass", operation=f"{sub} --no-verify", tool=inv.tool)


def _config(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    """``git config`` writes of hooksPath, aliases and program-valued keys."""
    if args and args[0] in ("set", *_CONFIG_READS) and not args[0].startswith("-"):
        if args[0] != "set":
            return
        args, dyn = args[1:], dyn[1:]
    p = _parse(_CONFIG, args)
    if p.help or any(p.seen(k) for k in _CONFIG_READS):
        return
    words = p.words()
    if len(words) < 2:
        return
    key_raw, value = args[words[0]], args[words[1]]
    key = key_raw.lower()
    known: str | None = None if dyn[words[1]] else value
    if key == "core.hookspath":
        if _hooks_path_disables(inv, known):
            yield inv.emit("git.hook_bypass", operation="config core.hooksPath", hooks_path=known, tool=inv.tool)
    elif key.startswith("alias.") and len(key) > 6:
        yield from _define_alias(inv, key[6:], known)
    elif _EXEC_CONFIG.fullmatch(key) and _runs_program(key, known):
        yield inv.opaque(f"config {key}", known, config=key)


def _define_alias(inv: _Inv, name: str, value: str | None) -> Iterator[Effect]:
    """Defining an alias is judged by what it would run (it runs later, unseen)."""
    if value is None or value.startswith("!"):
        yield inv.opaque("alias", value[1:] if value else None, alias=name)
        if value:
            yield from _embedded(inv.child(name), value[1:], reported=True)
        return
    words = _split_cmdline(value)
    if words and words[0] != name and inv.depth < _MAX_DEPTH:
        yield from _run(inv.child(name), words, [False] * len(words))


def _submodule(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    i = 0
    while i < len(args) and args[i] in ("-q", "--quiet"):
        i += 1
    if i < len(args) and args[i] == "foreach":
        rest = [a for a in args[i + 1 :] if a not in ("-q", "--quiet", "--recursive")]
        if rest:
            text = " ".join(_shell_quote(a) for a in rest) if len(rest) > 1 else rest[0]
            yield from _embedded(inv, text, source="submodule foreach")


def _bisect(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    if len(args) >= 2 and args[0] == "run":
        yield from _embedded(inv, " ".join(_shell_quote(a) for a in args[1:]), source="bisect run")


def _shell_quote(word: str) -> str:
    return word if word and not any(c.isspace() or c in "'\"\\" for c in word) else "'" + word + "'"


def _transport(inv: _Inv, sub: str, args: list[str]) -> Iterator[Effect]:
    """``ext::`` URLs and --upload-pack/--receive-pack run programs on this machine."""
    for i, arg in enumerate(args):
        if arg.startswith("ext::"):
            yield inv.opaque(f"{sub} ext:: transport", arg[5:], url=arg)
            continue
        name, eq, value = arg.partition("=")
        if name in ("--upload-pack", "--receive-pack", "--exec"):
            program = value if eq else (args[i + 1] if i + 1 < len(args) else "")
            base = program.split()[0].rsplit("/", 1)[-1] if program.split() else ""
            if base not in ("git-upload-pack", "git-receive-pack", "git", ""):
                yield inv.opaque(f"{sub} {name}", program)


def _hub_delete(inv: _Inv, args: list[str], dyn: list[bool]) -> Iterator[Effect]:
    if inv.tool != "hub":
        return
    repos = tuple(a for a in args if not a.startswith("-"))
    yield inv.emit("infra.destroy", resource="github_repository", targets=repos, tool="hub")


_HANDLERS: dict[str, _Handler] = {
    "push": _push,
    "reset": _reset,
    "checkout": _checkout,
    "switch": _switch,
    "restore": _restore,
    "clean": _clean,
    "stash": _stash,
    "branch": _branch,
    "worktree": _worktree,
    "update-ref": _update_ref,
    "reflog": _reflog,
    "gc": _gc,
    "prune": _prune,
    "rm": _rm,
    "checkout-index": _checkout_index,
    "read-tree": _read_tree,
    "filter-branch": _filter_branch,
    "filter-repo": _filter_repo,
    "commit": _commit,
    "add": _add,
    "stage": _add,
    "merge": _merge,
    "pull": _pull,
    "am": _am,
    "rebase": _rebase,
    "config": _config,
    "submodule": _submodule,
    "bisect": _bisect,
    "delete": _hub_delete,
}
