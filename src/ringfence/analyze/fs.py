"""Filesystem and host commands: deletion, destruction, permissions, disks, file writes.

Understands ``rm``/``srm``/``rimraf``/``unlink``/``rmdir``, ``find … -delete``, ``shred``,
``truncate``, ``mv`` (onto ``/dev/null``, or of a critical path), ``cp``/``install``/
``ln``/``tee``/``sed -i``/``dd of=`` (what they write; ``git_config`` when that is a
repository's ``.git/config``), ``chmod``/``chown``/``chgrp``,
``git rm``/``git mv`` (the worktree side), and the disk tools (``dd`` to a device,
``mkfs*``, ``mke2fs``, ``mkswap``, ``wipefs``, ``fdisk``/``sfdisk``/``cfdisk``/``gdisk``/
``sgdisk``/``parted`` when they write, ``blkdiscard``, ``diskutil erase*``, LVM/ZFS
removal, ``cryptsetup luksFormat``).

Effects: ``fs.delete``, ``fs.destroy``, ``fs.permission``, ``host.destroy``, ``fs.write``
and ``ci.config_write``. Targets are resolved absolute paths; a word whose value is
unknown (``$DIR``, ``$(…)``, an ``xargs`` input) is an unknown target, and a variable
that would leave a critical root behind when empty (``"$X"/*``, ``~/$X``) is critical.

:func:`file_ops` is the parsed view (what a command deletes, destroys, moves, writes,
reads and re-permissions) that :mod:`ringfence.analyze.secrets` and
:mod:`ringfence.analyze.gate` reuse, so each command is parsed once.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from ringfence.analyze import files
from ringfence.analyze.command import Command
from ringfence.analyze.context import CRITICAL_DIRS, Context
from ringfence.analyze.files import words
from ringfence.analyze.registry import effect
from ringfence.model import AttrValue, Effect

_MKFS = frozenset(
    words("""
        mkfs mke2fs mkswap mkfs.ext2 mkfs.ext3 mkfs.ext4 mkfs.xfs mkfs.btrfs mkfs.vfat mkfs.fat
        mkfs.msdos mkfs.exfat mkfs.ntfs mkntfs mkfs.f2fs mkfs.minix mkfs.cramfs mkfs.bfs mkfs.jfs
        mkfs.reiserfs mkfs.zfs mkfs.hfsplus mkdosfs mkexfatfs newfs newfs_hfs newfs_apfs newfs_msdos
    """)
)
_PARTITIONERS = frozenset(
    words("""
        fdisk sfdisk cfdisk gdisk sgdisk cgdisk parted wipefs blkdiscard
    """)
)
COMMANDS: frozenset[str] | None = (
    frozenset(
        words("""
            rm srm rimraf unlink rmdir shred truncate mv cp install ln tee sed dd chmod chown chgrp find git
            diskutil lvremove vgremove pvremove zpool zfs cryptsetup
        """)
    )
    | _MKFS
    | _PARTITIONERS
)

_VAR_RE = re.compile(r"\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_][A-Za-z0-9_]*|\$[0-9@*#?$!-]|`[^`]*`|\{xargs-input\}")
_HOME_VAR_RE = re.compile(r"^(\$HOME|\$\{HOME\})(?=/|$)")
_OCTAL_RE = re.compile(r"^[0-7]{1,4}$")
_SYMBOLIC_RE = re.compile(r"^[ugoa]*([-+=][rwxXstugo]*)+(,[ugoa]*([-+=][rwxXstugo]*)+)*$")
_SIZE_RE = re.compile(r"^(\d+)\s*[A-Za-z]*$")


# -- argument parsing -------------------------------------------------------------------


@dataclass(slots=True)
class Args:
    """Options and operands of a GNU-style command line (options may follow operands)."""

    flags: set[str] = field(default_factory=set)
    values: dict[str, list[str]] = field(default_factory=dict)
    operands: list[tuple[int, str]] = field(default_factory=list)

    def has(self, *names: str) -> bool:
        return any(n in self.flags for n in names)

    def value(self, *names: str) -> str | None:
        for n in names:
            got = self.values.get(n)
            if got:
                return got[-1]
        return None


def parse_args(
    argv: tuple[str, ...],
    *,
    short_value: str = "",
    long_value: frozenset[str] = frozenset(),
    start: int = 1,
    is_operand: Callable[[str], bool] | None = None,
) -> Args:
    """Split ``argv[start:]`` into options and operands.

    ``short_value`` lists the short option letters that take a value, ``long_value`` the
    long options that take one as the next word; ``--name=value`` always carries one.
    ``is_operand`` may claim dash-words that are operands (``chmod -x file``).
    """
    out = Args()
    i, n = start, len(argv)
    while i < n:
        a = argv[i]
        if a == "--":
            out.operands.extend((k, argv[k]) for k in range(i + 1, n))
            break
        if not a.startswith("-") or a == "-" or (is_operand is not None and is_operand(a)):
            out.operands.append((i, a))
        elif a.startswith("--"):
            name, eq, val = a.partition("=")
            out.flags.add(name)
            if eq:
                out.values.setdefault(name, []).append(val)
            elif name in long_value and i + 1 < n:
                out.values.setdefault(name, []).append(argv[i + 1])
                i += 1
        else:
            for j in range(1, len(a)):
                opt = "-" + a[j]
                out.flags.add(opt)
                if a[j] in short_value:
                    if j + 1 < len(a):
                        out.values.setdefault(opt, []).append(a[j + 1 :])
                    elif i + 1 < n:
                        out.values.setdefault(opt, []).append(argv[i + 1])
                        i += 1
                    break
        i += 1
    return out


# -- targets ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """One path operand: ``path`` is resolved (globs kept), None when unknown."""

    word: str
    path: str | None
    unknown: bool = False
    dynamic: bool = False
    glob: bool = False
    critical: bool = False
    alt: bool = False  # one of two readings (``cp a b``: ``b`` or ``b/a``)

    @property
    def shown(self) -> str:
        return self.path if self.path is not None else self.word


def _critical_root(path: str, ctx: Context) -> bool:
    """``/``, a system directory, the home directory or the workspace root itself."""
    return path in CRITICAL_DIRS or path == ctx.home.rstrip("/") or path == ctx.workspace


def _glob_parent(path: str) -> str:
    parts = path.split("/")
    for k, part in enumerate(parts):
        if files.has_glob(part):
            return "/".join(parts[:k]) or "/"
    return path


def make_target(cmd: Command, ctx: Context, index: int, word: str) -> Target:
    """Resolve the argv word at ``index`` as a path operand of ``cmd``."""
    cwd = cmd.cwd or None
    w = _HOME_VAR_RE.sub(ctx.home.rstrip("/"), word)
    in_dynamic = index in cmd.dynamic
    if _VAR_RE.search(w) or (in_dynamic and not files.has_glob(w)):
        rest = _VAR_RE.sub("", w)
        critical = False
        if rest.startswith(("/", "~")) or (rest.startswith(".") and _VAR_RE.match(w) is None):
            p = ctx.resolve(rest, cwd)
            critical = _critical_root(_glob_parent(p) if files.has_glob(p) else p, ctx)
        return Target(word, None, unknown=True, dynamic=True, critical=critical)
    path = ctx.resolve(w, cwd)
    if files.has_glob(w):
        parent = _glob_parent(path)
        critical = ctx.is_critical(parent) and parent != ctx.workspace
        return Target(word, path, dynamic=True, glob=True, critical=critical)
    return Target(word, path, dynamic=in_dynamic, critical=ctx.is_critical(path))


def _targets(cmd: Command, ctx: Context, operands: list[tuple[int, str]]) -> list[Target]:
    return [make_target(cmd, ctx, i, w) for i, w in operands if w]


# -- the parsed view of a command -------------------------------------------------------


@dataclass(slots=True)
class FileOps:
    """What one command does to files (paths as :class:`Target`)."""

    tool: str
    deletes: list[Target] = field(default_factory=list)
    destroys: list[Target] = field(default_factory=list)
    moved: list[Target] = field(default_factory=list)
    writes: list[Target] = field(default_factory=list)
    reads: list[Target] = field(default_factory=list)
    perms: list[Target] = field(default_factory=list)
    devices: list[Target] = field(default_factory=list)
    recursive: bool = False
    force: bool = False
    no_preserve_root: bool = False
    empty_only: bool = False
    world_writable: bool = False
    setuid: bool = False
    operation: str = ""

    def touched(self) -> list[tuple[str, Target]]:
        """Every modified target with its operation name."""
        out: list[tuple[str, Target]] = []
        if not self.tool:
            return out
        for op, items in (
            ("destroy", self.destroys),
            ("delete", self.deletes),
            ("move", self.moved),
            ("write", self.writes),
            ("permission", self.perms),
        ):
            out.extend((op, t) for t in items)
        return out


_EMPTY = FileOps("")
_last: tuple[Command, Context, FileOps] | None = None


def file_ops(cmd: Command, ctx: Context) -> FileOps:
    """The parsed file operations of ``cmd`` (memoised for the command being classified)."""
    global _last
    if _last is not None and _last[0] is cmd and _last[1] is ctx:
        return _last[2]
    handler = _HANDLERS.get(cmd.name)
    if handler is None and cmd.name in _MKFS:
        handler = _mkfs
    ops = handler(cmd, ctx) if handler is not None else _EMPTY
    _last = (cmd, ctx, ops)
    return ops


def _rm(cmd: Command, ctx: Context) -> FileOps:
    a = parse_args(cmd.argv)
    ops = FileOps(cmd.name, operation="delete")
    ops.deletes = _targets(cmd, ctx, a.operands)
    ops.recursive = a.has("-r", "-R", "--recursive")
    ops.force = a.has("-f", "--force")
    ops.no_preserve_root = a.has("--no-preserve-root")
    return ops


def _rimraf(cmd: Command, ctx: Context) -> FileOps:
    """``rimraf PATH...`` (npm): always a recursive, forced delete."""
    a = parse_args(cmd.argv)
    ops = FileOps(cmd.name, operation="delete")
    ops.deletes = _targets(cmd, ctx, a.operands)
    ops.recursive = ops.force = True
    ops.no_preserve_root = a.has("--no-preserve-root")
    return ops


def _unlink(cmd: Command, ctx: Context) -> FileOps:
    ops = FileOps(cmd.name, operation="delete")
    ops.deletes = _targets(cmd, ctx, parse_args(cmd.argv).operands)
    return ops


def _rmdir(cmd: Command, ctx: Context) -> FileOps:
    ops = _unlink(cmd, ctx)
    ops.empty_only = True
    return ops


_FIND_FILTERS = frozenset(
    words("""
        -name -iname -path -ipath -wholename -iwholename -regex -iregex -newer -mtime -mmin -atime -amin
        -ctime -cmin -size -empty -user -group -perm -links -inum -samefile -lname -ilname -nouser -nogroup
    """)
)


def _find(cmd: Command, ctx: Context) -> FileOps:
    argv = cmd.argv
    i = 1
    while i < len(argv) and (argv[i] in ("-H", "-L", "-P") or argv[i].startswith("-O")):
        i += 1
    if i < len(argv) and argv[i] == "-D":
        i += 2
    roots: list[tuple[int, str]] = []
    while i < len(argv) and not argv[i].startswith(("-", "(", "!", ")")):
        roots.append((i, argv[i]))
        i += 1
    ops = FileOps("find", operation="delete")
    if "-delete" in argv[i:]:
        roots = roots or [(-1, ".")]
        if any(a in _FIND_FILTERS for a in argv[i:]):
            # a filtered clean-up deletes some files *under* each root (``find . -name
            # '*.pyc' -delete``), the way ``find -exec rm {}`` is unwrapped: ROOT/**
            roots = [(k, w.rstrip("/") + "/**" if w.rstrip("/") else "/**") for k, w in roots]
        ops.deletes = _targets(cmd, ctx, roots)
        ops.recursive = True
    return ops


def _shred(cmd: Command, ctx: Context) -> FileOps:
    a = parse_args(cmd.argv, short_value="ns", long_value=frozenset({"--iterations", "--size", "--random-source"}))
    ops = FileOps("shred", operation="shred")
    for t in _targets(cmd, ctx, a.operands):
        if t.path is not None and files.is_block_device(t.path):
            ops.devices.append(t)
        else:
            ops.destroys.append(t)
    if a.has("-u", "--remove"):
        ops.deletes = list(ops.destroys)
    return ops


def _shrinks(size: str) -> bool:
    size = size.strip()
    if size.startswith(("-", "<", "/", "%")):
        return True
    m = _SIZE_RE.match(size.lstrip("+>"))
    return m is not None and int(m.group(1)) == 0 and not size.startswith(("+", ">"))


def _truncate(cmd: Command, ctx: Context) -> FileOps:
    a = parse_args(cmd.argv, short_value="sr", long_value=frozenset({"--size", "--reference"}))
    ops = FileOps("truncate", operation="truncate")
    size = a.value("-s", "--size")
    targets = _targets(cmd, ctx, a.operands)
    if size is not None and _shrinks(size):
        ops.destroys = targets
    else:
        ops.writes = targets
    return ops


def _dest_candidates(dest: Target, sources: list[Target], is_dir: bool) -> list[Target]:
    """Paths written by copying ``sources`` to ``dest``: the file itself, or inside it.

    Without looking at the disk the analysis cannot know whether ``dest`` is a
    directory, so both readings are kept unless the command line says which.
    """
    as_dir = is_dir or dest.word.endswith("/")
    out = [] if as_dir else [dest]
    if dest.path is None:
        return out
    for s in sources:
        if s.path is not None and not s.glob:
            name = posixpath.basename(s.path)
            joined = posixpath.join(dest.path, name)
            if joined != dest.path:
                out.append(Target(name, joined, alt=not as_dir))
    return out


_COPY_SHORT_VALUE = {"cp": "tS", "mv": "tS", "ln": "tS", "install": "tSmogZ"}
_COPY_LONG_VALUE = frozenset({"--target-directory", "--suffix", "--mode", "--owner", "--group"})


def _copy_like(cmd: Command, ctx: Context) -> FileOps:
    name = cmd.name
    a = parse_args(cmd.argv, short_value=_COPY_SHORT_VALUE[name], long_value=_COPY_LONG_VALUE)
    ops = FileOps(name, operation="move" if name == "mv" else "write")
    ops.recursive = a.has("-r", "-R", "-a", "--recursive", "--archive")
    ops.force = a.has("-f", "--force")
    targets = _targets(cmd, ctx, a.operands)
    if name == "install" and a.has("-d", "--directory"):
        ops.writes = targets
        return ops
    tdir = a.value("-t", "--target-directory")
    if tdir is not None:
        dest, sources, is_dir = make_target(cmd, ctx, -1, tdir), targets, True
    elif name == "ln" and len(targets) == 1:
        dest, sources, is_dir = make_target(cmd, ctx, -1, "."), targets, True
    elif len(targets) >= 2:
        dest, sources, is_dir = targets[-1], targets[:-1], len(targets) > 2
    else:
        return ops
    if name == "mv" and dest.path == "/dev/null":
        ops.destroys = sources
        ops.operation = "move_to_null"
        return ops
    if name == "mv":
        ops.moved = sources
    elif name != "ln":
        ops.reads = sources
    writes = _dest_candidates(dest, sources, is_dir)
    if name == "cp" and any(s.path in ("/dev/null", "/dev/zero") for s in sources):
        ops.destroys = [dest]
        ops.operation = "truncate"
        return ops
    if dest.path is not None and files.is_block_device(dest.path):
        ops.devices = [dest]
        return ops
    ops.writes = writes
    return ops


def _tee(cmd: Command, ctx: Context) -> FileOps:
    ops = FileOps("tee", operation="write")
    ops.writes = _targets(cmd, ctx, parse_args(cmd.argv).operands)
    ops.devices = [t for t in ops.writes if t.path is not None and files.is_block_device(t.path)]
    return ops


def _sed(cmd: Command, ctx: Context) -> FileOps:
    argv = cmd.argv
    in_place = False
    script_given = False
    operands: list[tuple[int, str]] = []
    i, n = 1, len(argv)
    while i < n:
        a = argv[i]
        if a == "--":
            operands.extend((k, argv[k]) for k in range(i + 1, n))
            break
        if a.startswith("--"):
            name = a.split("=", 1)[0]
            if name == "--in-place":
                in_place = True
            elif name in ("--expression", "--file"):
                script_given = True
                i += 0 if "=" in a else 1
            elif name == "--line-length" and "=" not in a:
                i += 1
        elif a.startswith("-") and a != "-":
            letters = a[1:]
            for k, c in enumerate(letters):
                if c == "i":
                    in_place = True
                    if k == len(letters) - 1 and i + 1 < n and (argv[i + 1] == "" or _is_suffix(argv, i + 1)):
                        i += 1  # BSD: -i '' / -i .bak
                    break
                if c in "ef":
                    script_given = True
                    if k == len(letters) - 1:
                        i += 1
                    break
                if c == "l":
                    if k == len(letters) - 1:
                        i += 1
                    break
        else:
            operands.append((i, a))
        i += 1
    if not script_given and operands:
        operands = operands[1:]
    ops = FileOps("sed", operation="edit")
    targets = _targets(cmd, ctx, operands)
    if in_place:
        ops.writes = targets
    else:
        ops.reads = targets
    return ops


def _is_suffix(argv: tuple[str, ...], k: int) -> bool:
    """``sed -i .bak 's/a/b/' f``: a dotted word followed by a script and a file."""
    w = argv[k]
    return w.startswith(".") and len(w) <= 8 and "/" not in w and len(argv) - k >= 3


def _dd(cmd: Command, ctx: Context) -> FileOps:
    ops = FileOps("dd", operation="write")
    for i, a in enumerate(cmd.argv[1:], start=1):
        key, eq, val = a.partition("=")
        if not eq or not val:
            continue
        t = make_target(cmd, ctx, i, val)
        if key == "of":
            if t.path is not None and files.is_harmless_device(t.path):
                continue
            if t.unknown or (t.path is not None and files.is_block_device(t.path)):
                ops.devices.append(t)
            else:
                ops.writes.append(t)
        elif key == "if":
            ops.reads.append(t)
    return ops


def _mode_bits(mode: str) -> tuple[bool, bool]:
    """(world_writable, setuid_or_setgid) for an octal or symbolic chmod mode."""
    if _OCTAL_RE.match(mode):
        val = int(mode, 8)
        return bool(val & 0o002), bool(val & 0o6000)
    world = suid = False
    for clause in mode.split(","):
        who = clause[: len(clause) - len(clause.lstrip("ugoa"))]
        for op, perms in re.findall(r"([-+=])([rwxXstugo]*)", clause[len(who) :]):
            if op == "-":
                continue
            if "w" in perms and ("o" in who or "a" in who):
                world = True
            if "s" in perms and (not who or any(c in who for c in "uga")):
                suid = True
    return world, suid


def _is_mode_word(word: str) -> bool:
    return bool(_SYMBOLIC_RE.match(word)) and not set(word[1:]) <= set("RcfvHLPh")


def _chmod(cmd: Command, ctx: Context) -> FileOps:
    a = parse_args(cmd.argv, is_operand=_is_mode_word if cmd.name == "chmod" else None)
    ops = FileOps(cmd.name, operation="permission")
    operands = a.operands
    if a.value("--reference") is None and operands:
        spec = operands[0][1]
        operands = operands[1:]
        if cmd.name == "chmod":
            ops.world_writable, ops.setuid = _mode_bits(spec)
    ops.perms = _targets(cmd, ctx, operands)
    ops.recursive = a.has("-R", "--recursive")
    ops.no_preserve_root = a.has("--no-preserve-root")
    return ops


def _git(cmd: Command, ctx: Context) -> FileOps:
    args = cmd.args
    if not args or args[0] not in ("rm", "mv"):
        return _EMPTY
    if args[0] == "mv":
        inner = Command(argv=("mv", *args[1:]), dynamic=frozenset(k - 1 for k in cmd.dynamic), cwd=cmd.cwd)
        return _copy_like(inner, ctx)
    a = parse_args(cmd.argv, start=2, long_value=frozenset({"--pathspec-from-file"}))
    ops = FileOps("git rm", operation="delete")
    if not a.has("--cached"):
        ops.deletes = _targets(cmd, ctx, a.operands)
        ops.recursive = a.has("-r")
        ops.force = a.has("-f", "--force")
    return ops


# -- disks ------------------------------------------------------------------------------


def _device_targets(cmd: Command, ctx: Context, operands: list[tuple[int, str]]) -> list[Target]:
    """The operands when any of them may be a disk (a device, unknown, or outside the workspace)."""
    targets = _targets(cmd, ctx, operands)
    for t in targets:
        if t.unknown or t.path is None:
            return targets
        if (t.path.startswith("/dev/") and not files.is_harmless_device(t.path)) or files.outside_workspace(
            t.path, ctx
        ):
            return targets
    return []


def _mkfs(cmd: Command, ctx: Context) -> FileOps:
    a = parse_args(cmd.argv, short_value="t", long_value=frozenset({"--type"}))
    ops = FileOps(cmd.name, operation="format")
    if a.operands or not a.has("-V", "--version", "--help", "-h"):
        ops.devices = _device_targets(cmd, ctx, a.operands)
    return ops


_READ_ONLY = {
    "fdisk": frozenset(
        words("""
            -l --list -s --getsz -V --version -h --help -x --list-details
        """)
    ),
    "sfdisk": frozenset(
        words("""
            -l --list -d --dump -J --json -s --show-size -V --verify -g --show-geometry -F --list-free
            -r --reorder-dry -h --help --version --backup-file
        """)
    ),
    "gdisk": frozenset({"-l", "-h", "--help", "-V", "--version"}),
    "sgdisk": frozenset(
        words("""
            -p --print -i --info -v --verify -L --list-types -V --version -O --print-mbr -P --pretend -b
            --backup -? --help
        """)
    ),
    "wipefs": frozenset({"-n", "--no-act", "-h", "--help", "-V", "--version"}),
    "parted": frozenset({"-l", "--list", "-h", "--help", "-v", "--version"}),
    "cfdisk": frozenset({"-h", "--help", "-V", "--version"}),
    "blkdiscard": frozenset({"-h", "--help", "-V", "--version"}),
}
_PARTED_READ = frozenset(
    words("""
        print p help version unit free list all devices s b kb mb gb tb kib mib gib tib % cyl chs
        compact align-check opt min
    """)
)


def _partitioner(cmd: Command, ctx: Context) -> FileOps:
    name = cmd.name
    short_value = {
        "sfdisk": "NXYoO",
        "fdisk": "btoOSH",
        "sgdisk": "acdnAtuUbBcCEgGkK",
        "wipefs": "ot",
        "parted": "a",
        "blkdiscard": "olp",
    }.get(name, "")
    a = parse_args(cmd.argv, short_value=short_value)
    ops = FileOps(name, operation="partition")
    read_only = _READ_ONLY.get(name, frozenset())
    if name == "wipefs":
        if not a.has("-a", "--all", "-o", "--offset") or a.has("-n", "--no-act"):
            return ops
    elif name == "sgdisk":
        if a.flags and a.flags <= read_only:
            return ops
    elif a.flags & read_only:
        return ops
    operands = a.operands
    if name == "parted" and len(operands) > 1:
        words = {w.lower() for _, w in operands[1:]}
        if words <= _PARTED_READ:
            return ops
        operands = operands[:1]
    ops.devices = _device_targets(cmd, ctx, operands)
    return ops


_DISKUTIL_DESTROY = frozenset(
    words("""
        erasedisk erasevolume reformat zerodisk randomdisk secureerase partitiondisk splitpartition
        mergepartitions deletecontainer deletevolume erasecontainer deletepv deletevolumegroup
        eraseoptical
    """)
)


def _raw_devices(cmd: Command, words: list[tuple[int, str]], operation: str) -> FileOps:
    ops = FileOps(cmd.name, operation=operation)
    ops.devices = [Target(w, None, unknown=False) for _, w in words if not w.startswith("-")] or [
        Target(cmd.name, None)
    ]
    return ops


def _diskutil(cmd: Command, ctx: Context) -> FileOps:
    words = [(i, w) for i, w in enumerate(cmd.argv[1:], start=1)]
    for k, (_, w) in enumerate(words):
        if w.lower() in _DISKUTIL_DESTROY:
            return _raw_devices(cmd, words[k + 1 :], w)
    return _EMPTY


def _volume_tools(cmd: Command, ctx: Context) -> FileOps:
    args = cmd.args
    verbs = {
        "zpool": ("destroy", "labelclear"),
        "zfs": ("destroy",),
        "cryptsetup": ("luksformat", "erase", "lukserase"),
    }.get(cmd.name)
    if verbs is None:  # lvremove / vgremove / pvremove
        return _raw_devices(cmd, list(enumerate(args, start=1)), cmd.name)
    for k, w in enumerate(args):
        if w.lower() in verbs:
            return _raw_devices(cmd, list(enumerate(args[k + 1 :], start=k + 2)), w)
    return _EMPTY


_HANDLERS: dict[str, Callable[[Command, Context], FileOps]] = {
    "rm": _rm,
    "srm": _rm,
    "rimraf": _rimraf,
    "unlink": _unlink,
    "rmdir": _rmdir,
    "find": _find,
    "shred": _shred,
    "truncate": _truncate,
    "mv": _copy_like,
    "cp": _copy_like,
    "install": _copy_like,
    "ln": _copy_like,
    "tee": _tee,
    "sed": _sed,
    "dd": _dd,
    "chmod": _chmod,
    "chown": _chmod,
    "chgrp": _chmod,
    "git": _git,
    "diskutil": _diskutil,
    "lvremove": _volume_tools,
    "vgremove": _volume_tools,
    "pvremove": _volume_tools,
    "zpool": _volume_tools,
    "zfs": _volume_tools,
    "cryptsetup": _volume_tools,
    **{name: _partitioner for name in _PARTITIONERS},
}


# -- effects ----------------------------------------------------------------------------


def _empties_temp_root(path: str) -> bool:
    """``/tmp/*``: everything in a system temporary directory."""
    parent, base = posixpath.split(path)
    return base in ("*", ".*", "*.*") and files.is_temp_root(parent)


def scope(targets: list[Target], cmd: Command, ctx: Context) -> dict[str, AttrValue]:
    """The attributes that say where ``targets`` are: critical, inside/outside the workspace."""
    remote = cmd.remote is not None
    known = [t.path for t in targets if t.path is not None]
    outside = any(remote or files.outside_workspace(p, ctx) for p in known) or any(
        t.glob and t.path is not None and _empties_temp_root(t.path) for t in targets
    )
    inside_only = (
        bool(targets)
        and not remote
        and all(t.path is not None and files.inside_workspace(t.path, ctx) for t in targets)
    )
    return {
        "targets": tuple(t.shown for t in targets),
        "critical": any(t.critical for t in targets),
        "outside_workspace": outside,
        "inside_workspace_only": inside_only,
        "unknown_target": any(t.unknown for t in targets),
        "dynamic": any(t.dynamic for t in targets),
    }


def classify(cmd: Command, ctx: Context) -> Iterator[Effect]:
    ops = file_ops(cmd, ctx)
    if ops is _EMPTY:
        return
    yield from _deletions(cmd, ctx, ops)
    if ops.destroys:
        yield effect("fs.destroy", cmd, **scope(ops.destroys, cmd, ctx), tool=ops.tool, operation=ops.operation)
    if ops.perms:
        yield from _permission(cmd, ctx, ops)
    if ops.devices:
        yield effect(
            "host.destroy",
            cmd,
            targets=tuple(t.shown for t in ops.devices),
            critical=True,
            tool=ops.tool,
            operation=ops.operation,
        )
    yield from _writes(cmd, ctx, ops)


def _deletions(cmd: Command, ctx: Context, ops: FileOps) -> Iterator[Effect]:
    if ops.deletes:
        yield effect(
            "fs.delete",
            cmd,
            **scope(ops.deletes, cmd, ctx),
            recursive=ops.recursive,
            force=ops.force,
            no_preserve_root=ops.no_preserve_root,
            empty_only=ops.empty_only,
            tool=ops.tool,
            operation="delete",
        )
    critical_moves = [t for t in ops.moved if t.critical]
    if critical_moves:
        yield effect(
            "fs.delete",
            cmd,
            **scope(critical_moves, cmd, ctx),
            recursive=True,
            force=ops.force,
            tool=ops.tool,
            operation="move",
        )
    ci = [t for t in (*ops.deletes, *ops.moved) if t.path is not None and files.is_ci_config(t.path, ctx)]
    if ci:
        yield effect("ci.config_write", cmd, targets=tuple(t.shown for t in ci), operation="delete", tool=ops.tool)


def _permission(cmd: Command, ctx: Context, ops: FileOps) -> Iterator[Effect]:
    system = any(t.path is not None and files.is_system_path(t.path, ctx) for t in ops.perms)
    attrs = scope(ops.perms, cmd, ctx)
    if not (ops.recursive or ops.world_writable or ops.setuid or system or attrs["critical"]):
        return
    yield effect(
        "fs.permission",
        cmd,
        **attrs,
        recursive=ops.recursive,
        system=system,
        world_writable=ops.world_writable,
        setuid=ops.setuid,
        tool=ops.tool,
        operation=cmd.name,
    )


_WRITE_KINDS = frozenset({"fs.write", "ci.config_write", "host.destroy"})


def _writes(cmd: Command, ctx: Context, ops: FileOps) -> Iterator[Effect]:
    """One effect per kind for everything the command writes (``fs.write``, CI, devices)."""
    device_paths = {t.path for t in ops.devices}
    merged: dict[str, dict[str, AttrValue]] = {}
    for t in ops.writes:
        if t.path is None or t.path in device_paths:
            continue
        for eff in files.write_effects(t.path, ctx, evidence=cmd.evidence, via=cmd.via):
            if eff.kind in _WRITE_KINDS and not (t.alt and eff.kind == "fs.write" and not _alt_matters(eff)):
                _merge(merged.setdefault(eff.kind, {}), eff.attrs)
    for kind, attrs in merged.items():
        if cmd.remote is not None:
            attrs["inside_workspace"] = False
        attrs["tool"] = ops.tool
        yield effect(kind, cmd, **attrs)


def _alt_matters(eff: Effect) -> bool:
    """Whether the second reading of a copy (``cp f dir`` -> ``dir/f``) is worth a write effect."""
    return bool(eff.attrs.get("system")) or bool(eff.attrs.get("git_config"))


def _merge(into: dict[str, AttrValue], attrs: Mapping[str, AttrValue]) -> None:
    """Fold the attributes of one more written path into ``into``."""
    for key, value in attrs.items():
        old = into.get(key)
        if key not in into:
            into[key] = value
        elif isinstance(old, tuple) and isinstance(value, tuple):
            into[key] = old + tuple(v for v in value if v not in old)
        elif isinstance(old, bool) and isinstance(value, bool):
            into[key] = (old and value) if key == "inside_workspace" else (old or value)
