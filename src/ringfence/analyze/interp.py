"""Inline interpreter code: ``python -c``, ``node -e``, ``perl -e``, ``ruby -e``, ``php -r``,
awk, ``lua -e``, ``osascript -e``, ``expect -c``, ``Rscript -e``, ``pwsh -Command``, and
makefiles read from standard input (``make -f -``).

The code is parsed (Python with :mod:`ast`; makefiles, Tcl words and PowerShell
statements with small dedicated readers; the others by a linear scan for the calls that
run processes or delete files) and reduced to directives for the shell walker: shell
source to analyse, an argv to analyse, ``opaque`` when the code runs something whose
value is computed at run time, or ``remote`` when it runs code it downloads. The code
itself never runs.
"""

from __future__ import annotations

import ast
import base64
import binascii
import re
import shlex
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

PYTHONS = re.compile(r"^(python(\d(\.\d+)?)?|pypy\d?)$")
NODES = frozenset({"node", "nodejs", "deno", "bun"})
# every name inline_code understands starts with one of these (a cheap first test)
_INTERPRETER_PREFIXES = (
    "python",
    "pypy",
    "node",
    "deno",
    "bun",
    "perl",
    "ruby",
    "jruby",
    "php",
    "awk",
    "gawk",
    "mawk",
    "nawk",
    "busybox",
    "lua",
    "osascript",
    "expect",
    "Rscript",
    "R",
    "pwsh",
    "powershell",
)
LUAS = frozenset({"lua", "luajit", "lua5.1", "lua5.2", "lua5.3", "lua5.4"})
POWERSHELLS = frozenset({"pwsh", "pwsh-preview", "powershell", "pwsh.exe", "powershell.exe"})
MAKES = frozenset({"make", "gmake", "bmake"})


@dataclass(frozen=True, slots=True)
class Directive:
    kind: str  # shell | argv | opaque | remote
    value: str = ""
    argv: tuple[str, ...] = ()


def inline_code(argv: Sequence[str]) -> tuple[str, str] | None:
    """``(language, code)`` when ``argv`` runs code given on the command line."""
    if not argv:
        return None
    name = argv[0].rsplit("/", 1)[-1]
    if not name.startswith(_INTERPRETER_PREFIXES):
        return None
    if PYTHONS.match(name):
        i = 1
        while i < len(argv):
            a = argv[i]
            if a in ("-W", "-X", "--check-hash-based-pycs"):
                i += 2
                continue
            if a.startswith("-") and not a.startswith("--") and "c" in a[1:]:
                return ("python", argv[i + 1]) if i + 1 < len(argv) else None
            if a == "-m" or not a.startswith("-"):
                return None
            i += 1
        return None
    if name in NODES:
        for i, a in enumerate(argv[1:], start=1):
            if a in ("-e", "--eval", "-p", "--print") and i + 1 < len(argv):
                return ("js", argv[i + 1])
            if name == "deno" and a == "eval" and i + 1 < len(argv):
                return ("js", argv[i + 1])
            if not a.startswith("-"):
                return None
        return None
    if name == "perl":
        codes = [
            argv[i + 1]
            for i, a in enumerate(argv[:-1])
            if a.startswith("-") and a[-1] in "eE" and not a.startswith("--")
        ]
        return ("perl", "\n".join(codes)) if codes else None
    if name in ("ruby", "jruby"):
        codes = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "-e"]
        return ("ruby", "\n".join(codes)) if codes else None
    if name.startswith("php"):
        for i, a in enumerate(argv[:-1]):
            if a in ("-r", "--run"):
                return ("php", argv[i + 1])
        return None
    if name in LUAS:
        return _joined_flag_values(argv, ("-e",), "lua")
    if name == "osascript":
        return _joined_flag_values(argv, ("-e",), "applescript")
    if name == "expect":
        return _joined_flag_values(argv, ("-c",), "expect")
    if name in ("Rscript", "R"):
        return _joined_flag_values(argv, ("-e", "--expr"), "r")
    if name in POWERSHELLS:
        return _powershell_command(argv)
    if name in ("awk", "gawk", "mawk", "nawk", "busybox-awk"):
        i = 1
        while i < len(argv):
            a = argv[i]
            if a in ("-f", "--file"):
                return None
            if a in ("-F", "-v", "--assign", "--field-separator"):
                i += 2
                continue
            if a.startswith("-"):
                i += 1
                continue
            return ("awk", a)
        return None
    return None


def _joined_flag_values(argv: Sequence[str], flags: tuple[str, ...], lang: str) -> tuple[str, str] | None:
    """``lua -e A -e B``: the code of every ``-e``, in order, one per line."""
    codes = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in flags]
    return (lang, "\n".join(codes)) if codes else None


def _powershell_command(argv: Sequence[str]) -> tuple[str, str] | None:
    """``pwsh -Command …`` (the rest of the line) or ``-EncodedCommand`` (base64 UTF-16LE)."""
    i = 1
    while i < len(argv):
        a = argv[i]
        low = a.lower()
        if low.startswith("--"):
            low = low[1:]
        if low in ("-command", "-c", "-com", "-comm", "-comma", "-comman"):
            code = " ".join(argv[i + 1 :])
            return ("powershell", code) if code and code != "-" else None
        if low in ("-encodedcommand", "-e", "-ec", "-en", "-enc", "-encoded") and i + 1 < len(argv):
            try:
                return ("powershell", base64.b64decode(argv[i + 1], validate=True).decode("utf-16-le"))
            except (binascii.Error, ValueError):
                return ("powershell", "Invoke-Expression $undecodable")
        if low in ("-file", "-f"):
            return None
        if low in _PS_OPTIONS_WITH_VALUE:
            i += 2
            continue
        if not a.startswith("-"):
            return None  # a script file (pwsh 7) or, for Windows PowerShell, a command
        i += 1
    return None


_PS_OPTIONS_WITH_VALUE = frozenset(
    {
        "-executionpolicy",
        "-ex",
        "-ep",
        "-inputformat",
        "-outputformat",
        "-of",
        "-windowstyle",
        "-w",
        "-workingdirectory",
        "-wd",
        "-configurationname",
        "-settingsfile",
        "-version",
        "-v",
        "-psconsolefile",
        "-custompipename",
    }
)


def language(name: str) -> str:
    """The language of interpreter ``name`` (as :func:`analyse` names it)."""
    base = name.rsplit("/", 1)[-1]
    if PYTHONS.match(base):
        return "python"
    if base in NODES:
        return "js"
    if base in MAKES:
        return "make"
    if base in LUAS:
        return "lua"
    return "php" if base.startswith("php") else base


def script_language(name: str) -> str | None:
    """The language a ``#!`` line naming interpreter ``name`` runs a file as, or ``None``
    for an interpreter :func:`analyse` does not read."""
    if PYTHONS.match(name):
        return "python"
    if name in NODES:
        return "js"
    if name in ("perl", "ruby", "jruby") or name.startswith("php"):
        return language(name)
    if name in ("awk", "gawk", "mawk", "nawk"):
        return "awk"
    return _SCRIPT_LANGUAGES.get(name) or ("lua" if name in LUAS else "make" if name in MAKES else None)


_SCRIPT_LANGUAGES = {
    "Rscript": "r",
    "osascript": "applescript",
    "expect": "expect",
    "pwsh": "powershell",
    "powershell": "powershell",
}


def reads_program_from_stdin(argv: Sequence[str]) -> bool:
    """Whether the interpreter would read its program from standard input."""
    name = argv[0].rsplit("/", 1)[-1] if argv else ""
    if name in MAKES:
        return _make_reads_stdin(argv)
    if not (PYTHONS.match(name) or name in NODES or name in LUAS or name in ("perl", "ruby", "php")):
        return False
    positional = [a for a in argv[1:] if not a.startswith("-")]
    return not positional or positional[0] == "-"


def _make_reads_stdin(argv: Sequence[str]) -> bool:
    """``make -f -``, ``make -f /dev/stdin``, ``make --file=-``: the makefile is the input."""
    stdin = ("-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0")
    for i, a in enumerate(argv[1:], start=1):
        if a in ("-f", "--file", "--makefile") and i + 1 < len(argv) and argv[i + 1] in stdin:
            return True
        if a.startswith(("--file=", "--makefile=")) and a.split("=", 1)[1] in stdin:
            return True
        if a.startswith("-f") and not a.startswith("--") and a[2:] in stdin:
            return True
    return False


def analyse(lang: str, code: str) -> Iterator[Directive]:
    if lang == "python":
        yield from _python(code)
    elif lang == "make":
        yield from _make(code)
    elif lang == "expect":
        yield from _expect(code)
    elif lang == "powershell":
        yield from _powershell(code)
    elif lang == "r":
        yield from _r(code)
    else:
        yield from _scan(lang, code)


# -- Python: a real parse ---------------------------------------------------------------------

_PY_SHELL_FUNCS = frozenset({"system", "popen", "getoutput", "getstatusoutput"})
_PY_SUBPROCESS = frozenset({"run", "call", "check_call", "check_output", "Popen"})
_PY_DELETE = {
    "rmtree": ("rm", "-rf"),
    "remove": ("rm",),
    "unlink": ("rm",),
    "rmdir": ("rmdir",),
    "removedirs": ("rmdir",),
}


def _python(code: str) -> Iterator[Directive]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return  # the interpreter refuses it too: nothing runs
    except RecursionError:
        yield Directive("opaque", "python code nests too deeply to analyse")
        return
    from_subprocess: set[str] = set()
    module_alias: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("subprocess", "os", "shutil", "pty"):
            for alias in node.names:
                from_subprocess.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                module_alias[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        base, attr = _py_callee(node.func)
        module = module_alias.get(base or "", base)
        if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call):
            _, inner_attr = _py_callee(node.func.value.func)
            if inner_attr == "__import__":
                module = _const_str(node.func.value.args[0]) if node.func.value.args else None
        first = node.args[0] if node.args else None
        if attr in ("eval", "exec", "compile") and base is None:
            text = _const_str(first)
            if text is None:
                yield Directive("opaque", f"python {attr}() of a value computed at run time")
            else:
                yield from _python(text)
            continue
        imported = attr in from_subprocess and base is None
        if attr in _PY_SHELL_FUNCS and (module in ("os", "subprocess", "commands") or imported):
            yield _shell_or_opaque(first, f"python {attr}()")
        elif attr in _PY_SUBPROCESS and (module == "subprocess" or imported):
            shell = any(k.arg == "shell" and isinstance(k.value, ast.Constant) and k.value.value for k in node.keywords)
            yield _py_process(first, shell, attr)
        elif attr and (
            (attr.startswith(("execv", "execl", "spawnv", "spawnl", "posix_spawn")) and module == "os")
            or (attr == "spawn" and module == "pty")
        ):
            args = node.args[1:]
            if attr.startswith("spawn"):
                args = node.args[2:] if len(node.args) > 2 else node.args[1:]
            values = (
                _py_list(args[0])
                if args and isinstance(args[0], ast.List | ast.Tuple)
                else [_const_str(a) for a in args]
            )
            if values and all(v is not None for v in values):
                yield Directive("argv", argv=tuple(v for v in values if v is not None))
            else:
                yield Directive("opaque", f"python os.{attr}() of values computed at run time")
        elif attr in _PY_DELETE and (module in ("os", "shutil") or imported or (base is None and attr == "rmtree")):
            target = _const_str(first)
            if target is None:
                yield Directive("opaque", f"python {attr}() of a path computed at run time")
            else:
                yield Directive("argv", argv=(*_PY_DELETE[attr], target))
        elif attr in ("unlink", "rmdir") and isinstance(node.func, ast.Attribute):
            path_call = node.func.value
            if isinstance(path_call, ast.Call) and _py_callee(path_call.func)[1] in ("Path", "PosixPath"):
                target = _const_str(path_call.args[0]) if path_call.args else None
                if target is not None:
                    yield Directive("argv", argv=("rm" if attr == "unlink" else "rmdir", target))


def _py_callee(func: ast.expr) -> tuple[str | None, str | None]:
    if isinstance(func, ast.Name):
        return None, func.id
    if isinstance(func, ast.Attribute):
        value = func.value
        if isinstance(value, ast.Name):
            return value.id, func.attr
        if isinstance(value, ast.Attribute):
            return value.attr, func.attr
        return "", func.attr
    return None, None


def _const_str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return None
    return None


def _py_list(node: ast.expr) -> list[str | None]:
    if isinstance(node, ast.List | ast.Tuple):
        return [_const_str(e) for e in node.elts]
    return [None]


def _shell_or_opaque(arg: ast.expr | None, what: str) -> Directive:
    text = _const_str(arg)
    if text is None:
        return Directive("opaque", f"{what} of a command computed at run time")
    return Directive("shell", text)


def _py_process(arg: ast.expr | None, shell: bool, attr: str) -> Directive:
    if isinstance(arg, ast.List | ast.Tuple):
        values = _py_list(arg)
        if values and all(v is not None for v in values):
            argv = tuple(v for v in values if v is not None)
            if shell:
                return Directive("shell", " ".join(argv))
            return Directive("argv", argv=argv)
        return Directive("opaque", f"python subprocess.{attr}() of arguments computed at run time")
    text = _const_str(arg)
    if text is None:
        return Directive("opaque", f"python subprocess.{attr}() of a command computed at run time")
    return Directive("shell", text)


# -- other languages: a linear scan for process and deletion calls ---------------------------

_STR = r"""(?:"((?:[^"\\]|\\[\s\S])*)"|'((?:[^'\\]|\\[\s\S])*)'|`((?:[^`\\]|\\[\s\S])*)`)"""
_SCAN: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
    "js": (
        ("shell", re.compile(r"\b(?:exec|execSync)\s*\(\s*" + _STR)),
        ("argv0", re.compile(r"\b(?:spawn|spawnSync|execFile|execFileSync)\s*\(\s*" + _STR)),
        ("rm -rf", re.compile(r"\b(?:rmSync|rmdirSync|rm|rmdir)\s*\(\s*" + _STR)),
        ("rm", re.compile(r"\b(?:unlinkSync|unlink)\s*\(\s*" + _STR)),
        (
            "dyn",
            re.compile(r"\b(?:exec|execSync|spawn|spawnSync|execFile|execFileSync|eval)\s*\(\s*[A-Za-z_$(]"),
        ),
    ),
    "perl": (
        ("shell", re.compile(r"\b(?:system|exec)\s*\(?\s*" + _STR)),
        ("shell", re.compile(r"\bqx\s*[{(]([^})]*)[})]()()")),
        ("rm -rf", re.compile(r"\b(?:rmtree|remove_tree)\s*\(?\s*" + _STR)),
        ("rm", re.compile(r"\bunlink\s*\(?\s*" + _STR)),
        ("dyn", re.compile(r"\b(?:system|exec|eval)\s*\(?\s*[$@]")),
    ),
    "ruby": (
        ("shell", re.compile(r"\b(?:system|exec|spawn|capture2|capture3|popen3|popen)\s*\(?\s*" + _STR)),
        ("shell", re.compile(r"%x\s*[{(]([^})]*)[})]()()")),
        ("rm -rf", re.compile(r"\b(?:rm_rf|rm_r|remove_dir|remove_entry)\s*\(?\s*" + _STR)),
        ("rm", re.compile(r"\b(?:File\.delete|File\.unlink|rm_f|rm)\s*\(?\s*" + _STR)),
        ("dyn", re.compile(r"\b(?:system|exec|eval|spawn)\s*\(?\s*[a-z_@$]")),
    ),
    "php": (
        ("shell", re.compile(r"\b(?:system|exec|shell_exec|passthru|popen|proc_open)\s*\(\s*" + _STR)),
        ("rm", re.compile(r"\bunlink\s*\(\s*" + _STR)),
        ("rm -rf", re.compile(r"\brmdir\s*\(\s*" + _STR)),
        ("dyn", re.compile(r"\b(?:system|exec|shell_exec|passthru|popen|proc_open|eval)\s*\(\s*\$")),
    ),
    "awk": (
        ("shell", re.compile(r"\bsystem\s*\(\s*" + _STR)),
        ("shell", re.compile(r"(?:\"((?:[^\"\\]|\\.)*)\"()())\s*\|\s*getline")),
        ("dyn", re.compile(r"\bsystem\s*\(\s*[A-Za-z_$]|\|\s*\"(?:sh|bash)\"")),
    ),
}
_LUA_STR = r"""(?:"((?:[^"\\]|\\[\s\S])*)"|'((?:[^'\\]|\\[\s\S])*)'|()\[\[([\s\S]*?)\]\])"""
_SCAN["lua"] = (
    ("shell", re.compile(r"\b(?:os\.execute|io\.popen)\s*\(?\s*" + _LUA_STR)),
    ("rm", re.compile(r"\bos\.remove\s*\(?\s*" + _LUA_STR)),
    ("dyn", re.compile(r"\b(?:os\.execute|io\.popen|loadstring|load)\s*\(\s*[A-Za-z_(]")),
)
_SCAN["applescript"] = (
    ("shell", re.compile(r'\bdo\s+shell\s+script\s+"((?:[^"\\]|\\[\s\S])*)"()()')),
    ("shell", re.compile(r"\bdoShellScript\s*\(\s*" + _STR)),  # JavaScript for Automation
    ("dyn", re.compile(r'\bdo\s+shell\s+script\s+(?!")|\bdoShellScript\s*\(\s*[A-Za-z_$(]')),
)
_BACKTICK = re.compile(r"`((?:[^`\\]|\\.)*)`")
# what, right after a string literal, makes it part of a longer expression (a command
# built at run time): `exec("rm -rf " + dir)`, `os.execute("rm " .. d)`, awk `"rm " f`
_CONTINUED = {
    "js": re.compile(r"\s*\+"),
    "perl": re.compile(r"\s*\.(?![.\d])"),
    "php": re.compile(r"\s*\.(?![.\d])"),
    "ruby": re.compile(r"\s*(?:\+|<<)"),
    "lua": re.compile(r"\s*\.\."),
    "applescript": re.compile(r"\s*&"),
    "awk": re.compile(r"[ \t]*[A-Za-z_$\"(]"),
}


def _scan(lang: str, code: str) -> Iterator[Directive]:
    continued = _CONTINUED.get(lang)
    for kind, pattern in _SCAN.get(lang, ()):
        for m in pattern.finditer(code):
            if kind == "dyn":
                yield Directive("opaque", f"{lang} runs a command computed at run time")
                continue
            index, raw = next(((i, g) for i, g in enumerate(m.groups()) if g), (0, ""))
            end = m.end(index + 1) + 1 if raw else m.end()
            if continued is not None and raw and code[end - 1 : end] in ("'", '"', "`") and continued.match(code, end):
                yield Directive("opaque", f"{lang} runs a command built by string concatenation")
                continue
            text = _unquote(lang, "\"'`"[index] if index < 3 else '"', raw)
            if text is None:
                yield Directive("opaque", f"{lang} runs a command built by string interpolation")
                continue
            if kind == "shell":
                yield Directive("shell", text)
            elif kind == "argv0":
                yield Directive("argv", argv=(text,))
            else:
                yield Directive("argv", argv=(*kind.split(), text))
    if lang in ("perl", "ruby", "php"):
        for m in _BACKTICK.finditer(code):
            text = _unquote(lang, "`", m.group(1))
            yield (
                Directive("shell", text)
                if text is not None
                else Directive("opaque", f"{lang} runs a command built by string interpolation")
            )


_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "0": "\0",
    "a": "\a",
    "e": "\x1b",
}
_HEX_ESCAPE = re.compile(r"\\(?:x([0-9A-Fa-f]{1,2})|u\{([0-9A-Fa-f]{1,6})\}|u([0-9A-Fa-f]{4})|(\n)|([\s\S]))")
_INTERPOLATES = {
    # language -> (quotes that interpolate, pattern of an interpolation)
    "js": ("`", re.compile(r"\$\{")),
    "ruby": ('"`', re.compile(r"#\{")),
    "perl": ('"`', re.compile(r"[$@][A-Za-z_{:]")),
    "php": ('"`', re.compile(r"\$[A-Za-z_{]|\{\$")),
}


def _unquote(lang: str, quote: str, raw: str) -> str | None:
    """The value of a string literal's body ``raw`` in ``lang``, as the interpreter reads it.

    Single-quoted Perl/Ruby/PHP strings only know two escapes (backslash, quote); every
    other literal gets the C-like escapes (newline, tab, hex, unicode, an escaped quote).
    ``None`` when the literal interpolates a value (``${…}``, ``#{…}``, ``$var``), which
    is only known at run time.
    """
    if quote == "'" and lang in ("perl", "ruby", "php"):
        return re.sub(r"\\([\\'])", r"\1", raw)
    quotes, interpolation = _INTERPOLATES.get(lang, ("", None))
    if quote in quotes and interpolation is not None and interpolation.search(raw):
        return None
    return _HEX_ESCAPE.sub(_escape_value, raw)


def _escape_value(m: re.Match[str]) -> str:
    hex2, brace, hex4, newline, other = m.groups()
    code = hex2 or brace or hex4
    if code is not None:
        try:
            return chr(int(code, 16))
        except (ValueError, OverflowError):
            return "?"
    if newline is not None:
        return ""  # a line continuation inside the literal
    return _ESCAPES.get(other, other)


# -- R: system(), system2(), shell(), unlink() -------------------------------------------------

_R_SHELL = re.compile(r"\b(?:system|shell)\s*\(\s*(?:command\s*=\s*)?" + _STR)
_R_SYSTEM2 = re.compile(r"\bsystem2\s*\(\s*(?:command\s*=\s*)?" + _STR + r"([^()]*(?:\([^()]*\)[^()]*)*)\)")
_R_DELETE = re.compile(r"\b(unlink|file\.remove)\s*\(\s*(?:x\s*=\s*)?" + _STR + r"([^()]*)\)")
_R_DYNAMIC = re.compile(
    r"\b(?:system|system2|shell|unlink|file\.remove)\s*\(\s*(?:command\s*=\s*|x\s*=\s*)?[A-Za-z_.(]"
)
_R_STRINGS = re.compile(_STR)


def _r_literal(m: re.Match[str], first: int = 0) -> str | None:
    groups = m.groups()[first : first + 3]
    index, raw = next(((i, g) for i, g in enumerate(groups) if g is not None), (0, ""))
    return _unquote("r", "\"'`"[index], raw)


def _r(code: str) -> Iterator[Directive]:
    for m in _R_SHELL.finditer(code):
        text = _r_literal(m)
        if text is not None:
            yield Directive("shell", text)
    for m in _R_SYSTEM2.finditer(code):
        command = _r_literal(m)
        rest = m.group(4) or ""
        if command is None:
            continue
        args = [a for a in (_r_literal(x) for x in _R_STRINGS.finditer(rest)) if a is not None]
        if re.search(r"\b(?:args\s*=\s*)?[A-Za-z_.][A-Za-z0-9_.]*\s*(?:,|\)|$)", rest.replace("TRUE", "")):
            yield Directive("opaque", "r system2() of arguments computed at run time")
        # system2 pastes its arguments into a shell command line
        yield Directive("shell", " ".join([shlex.quote(command), *args]))
    for m in _R_DELETE.finditer(code):
        target = _r_literal(m, 1)
        if target is None:
            continue
        recursive = m.group(1) == "unlink" and re.search(r"recursive\s*=\s*(?:TRUE|T)\b", m.group(5) or "")
        yield Directive("argv", argv=("rm", "-rf", target) if recursive else ("rm", target))
    if _R_DYNAMIC.search(code):
        yield Directive("opaque", "r runs a command computed at run time")


# -- makefiles: recipe lines, `$(shell …)` and `!=` assignments are shell commands ---------------

_MAKE_ASSIGN = re.compile(
    r"^(?:(?:export|override|private)\s+)*([A-Za-z_][A-Za-z0-9_.-]*)\s*(:::=|::=|:=|\?=|\+=|!=|=)\s*(.*)$"
)
_MAKE_INLINE_RECIPE = re.compile(r"^[^\t#=:][^#=;]*?:(?![:=])[^;#]*;(.*)$")
_MAKE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAKE_MAX_EXPANSION = 64 * 1024


def _make(code: str) -> Iterator[Directive]:
    """The shell commands a makefile runs: every recipe line (a line starting with a TAB,
    or after ``;`` on a rule line), ``$(shell …)`` and ``VAR != cmd``.

    Make variables defined in the makefile are substituted; other references
    (environment variables, automatic variables, function calls) become unknown shell
    variables. Every recipe is analysed, not only those of the goal that would run.
    """
    variables: dict[str, str] = {}
    found: list[Directive] = []
    for line in code.replace("\\\n", " ").split("\n"):
        if line.startswith("\t"):
            recipe = line[1:].lstrip(" \t@-+")
            if recipe and not recipe.startswith("#"):
                found.append(Directive("shell", _make_expand(recipe, variables, found)))
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = _MAKE_ASSIGN.match(stripped)
        if m is not None:
            name, op, value = m.groups()
            expanded = _make_expand(value, variables, found)
            if op == "!=":
                found.append(Directive("shell", expanded))
                variables[name] = "$(shell)"
            elif op == "+=":
                variables[name] = f"{variables.get(name, '')} {value}".strip()
            elif op != "?=" or name not in variables:
                variables[name] = value
            continue
        inline = _MAKE_INLINE_RECIPE.match(stripped)
        if inline is not None and inline.group(1).strip():
            found.append(Directive("shell", _make_expand(inline.group(1).strip(), variables, found)))
        else:
            _make_expand(stripped, variables, found)  # conditionals, includes: only `$(shell …)` runs
    yield from found


def _make_expand(text: str, variables: dict[str, str], found: list[Directive], depth: int = 0) -> str:
    """``text`` as make hands it to the shell: ``$$`` is ``$``, known variables are
    substituted, ``$(shell CMD)`` records CMD; anything else is an unknown value."""
    out: list[str] = []
    i = 0
    n = len(text)
    size = 0
    while i < n:
        c = text[i]
        if c != "$" or i + 1 >= n:
            out.append(c)
            i += 1
            size += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        if nxt not in "({":
            out.append("${make_automatic}")  # $@ $< $^ $* ...
            i += 2
            continue
        close = _balanced(text, i + 1)
        inner = text[i + 2 : close]
        i = close + 1
        value: str
        if inner.startswith("shell ") or inner.startswith("shell\t"):
            found.append(Directive("shell", _make_expand(inner[6:], variables, found, depth + 1)))
            value = "${make_shell_output}"
        elif _MAKE_NAME.fullmatch(inner) and inner in variables and depth < 8 and size < _MAKE_MAX_EXPANSION:
            value = _make_expand(variables[inner], variables, found, depth + 1)
        elif _SHELL_NAME.fullmatch(inner):
            value = "${" + inner + "}"  # from the environment, or unset: unknown
        else:
            if depth < 8:
                _make_expand(inner, variables, found, depth + 1)  # a function call: its `$(shell …)`
            value = "${make_value}"
        out.append(value)
        size += len(value)
    return "".join(out)


def _balanced(text: str, start: int) -> int:
    """Index of the bracket closing the one at ``start`` (or the end of ``text``)."""
    opening = text[start]
    closing = ")" if opening == "(" else "}"
    depth = 0
    for j in range(start, len(text)):
        if text[j] == opening:
            depth += 1
        elif text[j] == closing:
            depth -= 1
            if depth == 0:
                return j
    return len(text)


# -- expect (Tcl): spawn, exec, system, and what is typed into a spawned shell ------------------

_TCL_COMMAND = re.compile(r"(?:^|(?<=[\n;{\[]))[ \t]*(spawn|exec|system|send)(?=[ \t])")
_TCL_ESCAPES = {"r": "\n", "n": "\n", "t": "\t"}
_SPAWN_OPTIONS_WITH_VALUE = frozenset({"-open", "-leaveopen", "-ignore"})
_SEND_OPTIONS_WITH_VALUE = frozenset({"-i"})
_INTERACTIVE = frozenset(
    {"sh", "bash", "zsh", "dash", "ksh", "fish", "ssh", "su", "sudo", "telnet", "docker", "kubectl", "script"}
)
_TCL_EXEC_OPERATORS = frozenset({"|", "|&", "&"})


def _expect(code: str) -> Iterator[Directive]:
    """``spawn``/``exec``/``system`` run commands; ``send`` types text into what was spawned,
    which is a command line when that is a shell (or ssh, su, ...)."""
    shell_spawned = False
    for m in _TCL_COMMAND.finditer(code):
        verb = m.group(1)
        words = _tcl_words(_tcl_command_text(code, m.end()))
        if words is None:
            if verb != "send" or shell_spawned:
                yield Directive("opaque", f"expect {verb} of a value computed at run time")
            continue
        if verb == "spawn":
            argv = _skip_tcl_options(words, _SPAWN_OPTIONS_WITH_VALUE)
            if argv:
                shell_spawned = shell_spawned or argv[0].rsplit("/", 1)[-1] in _INTERACTIVE
                yield Directive("argv", argv=tuple(argv))
        elif verb == "exec":
            argv = _skip_tcl_options(words, frozenset())
            if any(w in _TCL_EXEC_OPERATORS or w.startswith(("<", ">", "2>")) for w in argv):
                yield Directive("shell", " ".join(_tcl_exec_word(w) for w in argv if "@" not in w[:3]))
            elif argv:
                yield Directive("argv", argv=tuple(argv))
        elif verb == "system":
            yield Directive("shell", " ".join(words))
        elif shell_spawned:
            typed = _skip_tcl_options(words, _SEND_OPTIONS_WITH_VALUE)
            if typed:
                yield Directive("shell", typed[0])


def _tcl_exec_word(word: str) -> str:
    if word in _TCL_EXEC_OPERATORS:
        return word
    if word.startswith("<<"):
        return "<<< " + shlex.quote(word[2:])
    for op in ("2>>", "2>", ">>", ">", "<"):
        if word.startswith(op):
            return op + (shlex.quote(word[len(op) :]) if word[len(op) :] else "")
    return shlex.quote(word)


def _skip_tcl_options(words: list[str], with_value: frozenset[str]) -> list[str]:
    i = 0
    while i < len(words) and words[i].startswith("-") and len(words[i]) > 1:
        if words[i] == "--":
            i += 1
            break
        i += 2 if words[i] in with_value else 1
    return words[i:]


def _tcl_command_text(code: str, start: int) -> str:
    """The rest of one Tcl command: up to a newline, ``;`` or ``]``/``}`` closing an outer bracket."""
    depth = 0
    quoted = False
    i = start
    while i < len(code):
        c = code[i]
        if c == "\\":
            i += 2
            continue
        if c == '"' and depth == 0:
            quoted = not quoted
        elif c == "{" and not quoted:
            depth += 1
        elif c == "}" and not quoted:
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and not quoted and c in "\n;]":
            break
        i += 1
    return code[start:i]


def _tcl_words(text: str) -> list[str] | None:
    """Tcl words (``{…}`` literal, ``"…"`` and bare words with backslash escapes); ``None``
    when a word substitutes a variable or a command (``$x``, ``[cmd]``)."""
    words: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        if text[i] in " \t\r\n":
            i += 1
            continue
        if text[i] == "{":
            depth = 0
            j = i
            while j < n:
                if text[j] == "\\":
                    j += 2
                    continue
                depth += text[j] == "{"
                depth -= text[j] == "}"
                if depth == 0:
                    break
                j += 1
            words.append(text[i + 1 : j])
            i = j + 1
            continue
        quote = text[i] == '"'
        j = i + 1 if quote else i
        out: list[str] = []
        while j < n and (text[j] != '"' if quote else text[j] not in " \t\r\n"):
            c = text[j]
            if c == "\\" and j + 1 < n:
                out.append(_TCL_ESCAPES.get(text[j + 1], text[j + 1]))
                j += 2
                continue
            if c in "$[":
                return None
            out.append(c)
            j += 1
        words.append("".join(out))
        i = j + 1 if quote else j
    return words


# -- PowerShell: statements translated to the shell commands they amount to -----------------------

_PS_REMOVE = frozenset({"remove-item", "rm", "del", "erase", "ri", "rd", "rmdir"})
_PS_INVOKE = frozenset({"iex", "invoke-expression"})
_PS_START = frozenset({"start-process", "saps", "start"})
_PS_CD = frozenset({"cd", "chdir", "set-location", "sl", "push-location", "pushd"})
_PS_ECHO = frozenset({"write-output", "write", "echo", "write-host", "write-information", "write-verbose"})
_PS_READ = frozenset({"get-content", "gc", "cat", "type"})
_PS_WRITE = {
    "set-content": ">",
    "sc": ">",
    "out-file": ">",
    "add-content": ">>",
    "ac": ">>",
    "clear-content": ">",
    "clc": ">",
    "tee-object": ">",
    "tee": ">",
}
_PS_COPY = {"copy-item": "cp", "copy": "cp", "cpi": "cp", "cp": "cp", "move-item": "mv", "move": "mv", "mi": "mv"}
_PS_COPY |= {"mv": "mv", "rename-item": "mv", "ren": "mv", "rni": "mv"}
_PS_NEW_ITEM = frozenset({"new-item", "ni", "mkdir", "md"})
_PS_LIST = frozenset({"get-childitem", "gci", "ls", "dir", "get-item", "gi"})
_PS_FETCH = frozenset({"invoke-webrequest", "iwr", "invoke-restmethod", "irm", "curl", "wget"})
_PS_CMDLET = re.compile(r"^[A-Za-z]+-[A-Za-z]+$")
_PS_KEYWORDS = frozenset(
    {
        "if",
        "else",
        "elseif",
        "foreach",
        "for",
        "while",
        "do",
        "until",
        "switch",
        "function",
        "filter",
        "param",
        "return",
        "try",
        "catch",
        "finally",
        "throw",
        "trap",
        "exit",
        "break",
        "continue",
        "begin",
        "process",
        "end",
        "class",
        "using",
    }
)
_PS_DOWNLOAD_RUN = re.compile(r"(?i)\b(?:iex|invoke-expression)\b")
_PS_DOWNLOAD = re.compile(
    r"(?i)\b(?:iwr|irm|invoke-webrequest|invoke-restmethod|downloadstring|downloaddata|net\.webclient|curl|wget)\b"
)
_PS_HOME = re.compile(r"(?i)^(?:\$env:(?:HOME|USERPROFILE)|\$\{env:(?:HOME|USERPROFILE)\}|\$HOME|~)(?=$|[\\/])")
_PS_ENV_VAR = re.compile(r"(?i)\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}|\$env:([A-Za-z_][A-Za-z0-9_]*)")
_PS_VARIABLE = re.compile(r"\$(?:\{[^}]*\}|[A-Za-z_][\w:]*|\$|\?|\^)?")
_PS_ENV_DRIVE = re.compile(r"(?i)^env:(?:[\\/]?([A-Za-z_][A-Za-z0-9_]*))?[\\/]?$")
_PS_GET_ENV = re.compile(r"(?i)^\[(?:system\.)?environment\]::getenvironmentvariable$")
_PS_WINDOWS_PATH = re.compile(r"^(?:[A-Za-z]:[\\/]|[A-Za-z]:$|\\\\|\.{1,2}\\|~\\)")
_PS_MAX_STATEMENTS = 1_000


@dataclass(frozen=True, slots=True)
class _PsWord:
    value: str
    dynamic: bool = False
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class _PsStatement:
    words: list[_PsWord]
    piped_from: list[_PsWord] | None = None  # the statement whose output this one reads


def _powershell(code: str, depth: int = 0) -> Iterator[Directive]:
    """PowerShell statements as the shell commands they amount to.

    A native command (``git push``, ``kubectl …``) is that command; ``Remove-Item
    [-Recurse] [-Force] PATH`` (and its aliases, and ``Get-ChildItem X | Remove-Item``)
    is ``rm``; ``Set-Location`` is ``cd``; ``Write-Output``/``Write-Host`` are ``echo``
    (``$env:NAME`` is the variable ``$NAME``); ``Get-Content`` is ``cat``;
    ``Set-Content``/``Add-Content``/``Out-File``/``New-Item`` write their path;
    ``Copy-Item``/``Move-Item`` are ``cp``/``mv``; ``Invoke-WebRequest`` is ``curl``;
    ``Start-Process`` runs its program; ``Invoke-Expression`` of a literal is PowerShell
    again, of a download remote code, of anything else opaque. Windows paths become
    absolute paths (``C:\\x`` → ``/C:/x``). Every translated statement goes into one
    shell source, in order, so a ``cd`` applies to what follows. Other cmdlets are not
    interpreted.
    """
    lines: list[str] = []
    for directive in _ps_directives(code, depth):
        if directive.kind == "shell":
            lines.append(directive.value)
        elif directive.kind == "argv":
            lines.append(shlex.join(directive.argv))
        else:
            yield directive
    if lines:
        yield Directive("shell", "\n".join(lines))


def _ps_directives(code: str, depth: int) -> Iterator[Directive]:
    for line in code.splitlines():
        if _PS_DOWNLOAD_RUN.search(line) and _PS_DOWNLOAD.search(line):
            yield Directive("remote", "powershell runs code it downloads")
    statements = _ps_statements(code)
    for statement in statements[:_PS_MAX_STATEMENTS]:
        yield from _ps_statement(statement, depth)
    if len(statements) > _PS_MAX_STATEMENTS:
        yield Directive("opaque", "powershell code too long to analyse")


def _ps_statement(statement: _PsStatement, depth: int) -> Iterator[Directive]:
    words = statement.words
    if len(words) >= 2 and words[0].value.startswith("$") and words[1].value in ("=", "+="):
        words = words[2:]  # $x = command ...
    called = False
    while words and words[0].value in ("&", ".") and not words[0].quoted:
        words = words[1:]
        called = True  # the call operator: `& $tool args`, `& "C:/x.exe"`
    if not words:
        return
    head = words[0]
    name = head.value.lower()
    if called and head.dynamic and head.value.startswith("{"):
        return  # `& { … }`: a script block, whose statements are analysed on their own
    if called and head.dynamic:
        yield Directive("opaque", "powershell runs a command computed at run time")
        return
    if not called and len(words) == 1 and _PS_ENV_VAR.fullmatch(head.value):
        yield Directive("argv", argv=("printenv", _env_name(head.value)))  # `$env:TOKEN` prints it
        return
    if not called and _PS_GET_ENV.match(head.value) and len(words) == 2:
        inner = re.fullmatch(r"\(\s*['\"]([A-Za-z_]\w*)['\"]\s*(?:,[^)]*)?\)", words[1].value)
        if inner is not None:
            yield Directive("argv", argv=("printenv", inner.group(1)))
        return
    if not called and (head.dynamic or head.quoted or head.value[:1] in "-[@$0123456789"):
        return  # an expression ($x.Length -gt 1, "text", (…)): not a command
    if name in _PS_KEYWORDS:
        return
    if name in _PS_INVOKE:
        args = [w for w in words[1:] if not w.value.lower().startswith("-command")]
        if len(args) == 1 and not args[0].dynamic and depth < 4:
            yield from _ps_directives(args[0].value, depth + 1)
        elif args:
            yield Directive("opaque", "powershell Invoke-Expression of a value computed at run time")
        return
    translate = _PS_TRANSLATIONS.get(name)
    if translate is not None:
        yield from translate(statement, words)
        return
    if _PS_CMDLET.match(head.value):
        return  # a cmdlet the analysis does not interpret
    yield Directive("shell", " ".join(_ps_shell_word(w) for w in words))


def _env_name(value: str) -> str:
    m = _PS_ENV_VAR.fullmatch(value)
    return (m.group(1) or m.group(2)) if m is not None else value


def _ps_params(
    words: list[_PsWord], with_value: frozenset[str], prefixes: dict[str, str] | None = None
) -> tuple[dict[str, _PsWord | None], list[_PsWord]]:
    """Named parameters (lowered, without ``-``; their value when they take one) and the
    positional words of a cmdlet call. ``prefixes`` maps abbreviations to full names."""
    named: dict[str, _PsWord | None] = {}
    positional: list[_PsWord] = []
    i = 1
    while i < len(words):
        w = words[i]
        if w.value.startswith("-") and len(w.value) > 1 and not w.quoted and not w.dynamic:
            param, colon, inline = w.value[1:].partition(":")
            param = param.lower()
            for full, short in (prefixes or {}).items():
                if param == short or (len(param) >= 2 and full.startswith(param)):
                    param = full
                    break
            if colon and inline:
                named[param] = _PsWord(inline)
            elif param in with_value and i + 1 < len(words):
                named[param] = words[i + 1]
                i += 1
            else:
                named[param] = None
        else:
            positional.append(w)
        i += 1
    return named, positional


def _ps_split(w: _PsWord) -> list[_PsWord]:
    """``a,b`` (an array argument) as its elements."""
    if w.quoted or w.dynamic:
        return [w]
    return [_PsWord(p) for p in w.value.split(",") if p]


def _ps_remove(statement: _PsStatement, words: list[_PsWord]) -> Iterator[Directive]:
    flags: list[str] = []
    paths: list[_PsWord] = []
    skip = False
    for w in words[1:]:
        if skip:
            skip = False
            continue
        if w.value.startswith("-") and len(w.value) > 1 and not w.quoted and not w.dynamic:
            param, _, inline = w.value[1:].partition(":")
            param = param.lower()
            if param in ("whatif", "wi"):
                return  # a dry run
            if param in ("rf", "fr") or (param and "recurse".startswith(param)):
                flags.append("-r")
            if param in ("rf", "fr", "f") or (len(param) >= 2 and "force".startswith(param)):
                flags.append("-f")
            if param in ("filter", "include", "exclude", "credential", "stream"):
                skip = not inline
            if param in ("path", "literalpath", "lp", "pspath") and inline:
                paths.extend(_ps_split(_PsWord(inline)))
            continue
        paths.extend(_ps_split(w))
    if not paths and statement.piped_from is not None:
        paths, recurse = _ps_listed(statement.piped_from)
        flags = ["-r", *flags] if recurse or "-r" in flags else flags
    if paths:
        yield Directive("shell", " ".join(["rm", *dict.fromkeys(flags), *(_ps_shell_word(p) for p in paths)]))


def _ps_listed(source: list[_PsWord]) -> tuple[list[_PsWord], bool]:
    """What ``source | Remove-Item`` deletes: the items a listing names, or unknown items."""
    if not source or source[0].value.lower() not in _PS_LIST:
        return [_PsWord("$input", dynamic=True)], True
    named, positional = _ps_params(source, frozenset({"path", "literalpath", "filter", "include", "exclude"}))
    base = named.get("path") or named.get("literalpath") or (positional[0] if positional else None)
    recurse = any(p.startswith("rec") or p == "r" for p in named)
    if base is None:
        return [_PsWord("./*")], recurse
    if base.dynamic:
        return [base], True
    listed = base.value.rstrip("\\/") + "/*" if source[0].value.lower() not in ("get-item", "gi") else base.value
    return [_PsWord(listed)], recurse


def _ps_cd(statement: _PsStatement, words: list[_PsWord]) -> Iterator[Directive]:
    named, positional = _ps_params(words, frozenset({"path", "literalpath", "stackname"}))
    target = named.get("path") or named.get("literalpath") or (positional[0] if positional else None)
    yield Directive("shell", "cd " + (_ps_shell_word(target) if target is not None else "~"))


def _ps_echo(statement: _PsStatement, words: list[_PsWord]) -> Iterator[Directive]:
    named, positional = _ps_params(
        words, frozenset({"foregroundcolor", "backgroundcolor", "separator", "inputobject", "messagedata", "tags"})
    )
    values = [*positional, *(v for k, v in named.items() if k in ("inputobject", "messagedata") and v is not None)]
    yield Directive("shell", " ".join(["echo", *(_ps_shell_word(v) for v in values)]))


def _ps_read(statement: _PsStatement, words: list[_PsWord]) -> Iterator[Directive]:
    named, positional = _ps_params(
        words,
        frozenset({"path", "literalpath", "tail", "totalcount", "head", "first", "last", "encoding", "delimiter"}),
    )
    paths = [
        p for w in (named.get("path"), named.get("literalpath"), *positional) if w is not None for p in _ps_split(w)
    ]
    for p in paths:
        drive = _PS_ENV_DRIVE.match(p.value)
        if drive is not None:
            yield Directive("argv", argv=("printenv", drive.group(1)) if drive.group(1) else ("env",))
            return
    if paths:
        yield Directive("shell", " ".join(["cat", *(_ps_shell_word(p) for p in paths)]))


def _ps_write(statement: _PsStatement, words: list[_PsWord]) -> Iterator[Directive]:
    name = words[0].value.lower()
    named, positional = _ps_params(
        words,
        frozenset({"path", "literalpath", "filepath", "value", "encoding", "inputobject", "width", "variable"}),
    )
    target = named.get("path") or named.get("literalpath") or named.get("filepath")
    if target is None and positional:
        target = positional[0]
    if target is None:
        return
    op = ">>" if _PS_WRITE[name] == ">>" or "append" in named else ">"
    for p in _ps_split(target):
        yield Directive("shell", f": {op} {_ps_shell_word(p)}")


def _ps_copy(statement: _PsStatement, words: list[_PsWord]) -> Iterator[Directive]:
    program = _PS_COPY[words[0].value.lower()]
    named, positional = _ps_params(
        words, frozenset({"path", "literalpath", "destination", "newname", "filter", "include", "exclude"})
    )
    source = named.get("path") or named.get("literalpath") or (positional.pop(0) if positional else None)
    dest = named.get("destination") or named.get("newname") or (positional[0] if positional else None)
    if source is None or dest is None:
        return
    if words[0].value.lower() in ("rename-item", "ren", "rni") and not dest.dynamic:
        folder = source.value.replace("\\", "/").rsplit("/", 1)[0] if "/" in source.value.replace("\\", "/") else ""
        dest = _PsWord(f"{folder}/{dest.value}" if folder else dest.value, quoted=dest.quoted)
    recursive = ["-r"] if program == "cp" and "recurse" in named else []
    argv = [program, *recursive, *(_ps_shell_word(p) for p in _ps_split(source)), _ps_shell_word(dest)]
    yield Directive("shell", " ".join(argv))


def _ps_new_item(statement: _PsStatement, words: list[_PsWord]) -> Iterator[Directive]:
    named, positional = _ps_params(words, frozenset({"path", "name", "itemtype", "type", "value", "target"}))
    path = named.get("path") or (positional[0] if positional else None)
    item = named.get("name")
    kind = (named.get("itemtype") or named.get("type") or _PsWord("file")).value.lower()
    if words[0].value.lower() in ("mkdir", "md"):
        kind = "directory"
    if path is None and item is None:
        return
    if path is not None and item is not None and not path.dynamic and not item.dynamic:
        path = _PsWord(path.value.rstrip("\\/") + "/" + item.value)
    target = path or item
    assert target is not None
    if kind in ("directory", "dir", "d"):
        yield Directive("shell", "mkdir -p " + _ps_shell_word(target))
    elif kind in ("symboliclink", "junction", "hardlink"):
        link = named.get("target") or named.get("value")
        if link is not None:
            yield Directive("shell", f"ln -s {_ps_shell_word(link)} {_ps_shell_word(target)}")
    else:
        yield Directive("shell", ": > " + _ps_shell_word(target))


def _ps_list(statement: _PsStatement, words: list[_PsWord]) -> Iterator[Directive]:
    for w in words[1:]:
        drive = _PS_ENV_DRIVE.match(w.value)
        if drive is not None and not w.dynamic:
            yield Directive("argv", argv=("printenv", drive.group(1)) if drive.group(1) else ("env",))
            return


def _ps_fetch(statement: _PsStatement, words: list[_PsWord]) -> Iterator[Directive]:
    named, positional = _ps_params(
        words,
        frozenset({"uri", "outfile", "infile", "method", "body", "headers", "contenttype", "useragent", "credential"}),
    )
    url = named.get("uri") or (positional[0] if positional else None)
    if url is None:
        return
    argv = ["curl", "-fsSL"]
    out = named.get("outfile")
    if out is not None:
        argv += ["-o", _ps_shell_word(out)]
    infile = named.get("infile")
    if infile is not None and not infile.dynamic:
        argv += ["--data-binary", shlex.quote("@" + _ps_path(infile.value))]
    method = named.get("method")
    if method is not None and not method.dynamic:
        argv += ["-X", shlex.quote(method.value.upper())]
    argv.append(_ps_shell_word(url))
    yield Directive("shell", " ".join(argv))


def _ps_start(statement: _PsStatement, words: list[_PsWord]) -> Iterator[Directive]:
    program: _PsWord | None = None
    args: list[_PsWord] = []
    i = 1
    while i < len(words):
        w = words[i]
        param = w.value[1:].lower() if w.value.startswith("-") and not w.quoted else ""
        if param in ("filepath", "file", "path") and i + 1 < len(words):
            program = words[i + 1]
            i += 2
            continue
        if param in ("argumentlist", "args", "arguments") and i + 1 < len(words):
            args.append(words[i + 1])
            i += 2
            continue
        if param:
            i += 1 if param not in ("workingdirectory", "verb", "redirectstandardoutput") else 2
            continue
        if program is None:
            program = w
        else:
            args.append(w)
        i += 1
    if program is None:
        return
    if program.dynamic or any(a.dynamic for a in args):
        yield Directive("opaque", "powershell Start-Process of a command computed at run time")
        return
    argv = [_ps_path(program.value), *(part for a in args for v in a.value.split(",") for part in v.split())]
    yield Directive("argv", argv=tuple(argv))


_PsTranslation = Callable[[_PsStatement, list[_PsWord]], Iterator[Directive]]
_PS_TRANSLATIONS: dict[str, _PsTranslation] = {
    **dict.fromkeys(_PS_REMOVE, _ps_remove),
    **dict.fromkeys(_PS_START, _ps_start),
    **dict.fromkeys(_PS_CD, _ps_cd),
    **dict.fromkeys(_PS_ECHO, _ps_echo),
    **dict.fromkeys(_PS_READ, _ps_read),
    **dict.fromkeys(_PS_WRITE, _ps_write),
    **dict.fromkeys(_PS_COPY, _ps_copy),
    **dict.fromkeys(_PS_NEW_ITEM, _ps_new_item),
    **dict.fromkeys(_PS_LIST, _ps_list),
    **dict.fromkeys(_PS_FETCH, _ps_fetch),
}


def _ps_path(value: str) -> str:
    """A Windows path as the analysis reads paths: ``C:\\x`` → ``/C:/x``, ``.\\x`` → ``./x``."""
    if _PS_WINDOWS_PATH.match(value):
        value = value.replace("\\", "/")
        if len(value) >= 2 and value[1] == ":":
            value = "/" + value[:2] + (value[2:] or "/")
        return value
    return value


def _ps_shell_word(w: _PsWord) -> str:
    value = w.value
    if w.dynamic:
        return _ps_dynamic_word(value)
    home = _PS_HOME.match(value)
    if home is not None:
        rest = value[home.end() :].replace("\\", "/")
        return "~" + (("/" + shlex.quote(rest[1:])) if len(rest) > 1 else rest)
    if not w.quoted and value in _PS_REDIRECTIONS:
        return _PS_REDIRECTIONS[value]
    return shlex.quote(_ps_path(value))


def _ps_dynamic_word(value: str) -> str:
    """A word holding variables as a bash double-quoted word: ``$env:NAME`` is ``${NAME}``
    (the same environment variable), any other variable or subexpression is unknown."""
    if value[:1] in "({" or value.startswith(("$(", "@(", "@{")):
        return '"$powershell_value"'
    home = _PS_HOME.match(value)
    prefix = ""
    if home is not None:
        prefix, value = "${HOME}", value[home.end() :].replace("\\", "/")
    out: list[str] = [prefix]
    pos = 0
    for m in _PS_VARIABLE.finditer(value):
        out.append(_dq_escape(value[pos : m.start()]))
        env = _PS_ENV_VAR.match(value, m.start())
        if env is not None:
            out.append("${" + (env.group(1) or env.group(2)) + "}")
            pos = env.end()
        else:
            out.append("${powershell_value}")
            pos = m.end()
    out.append(_dq_escape(value[pos:]))
    return '"' + "".join(out) + '"'


def _dq_escape(text: str) -> str:
    return re.sub(r'([\\"$`])', r"\\\1", text)


_PS_REDIRECTIONS = {">": ">", ">>": ">>", "2>": "2>", "2>>": "2>>", "2>&1": "2>&1", "*>": "&>", "*>>": "&>>"}


def _ps_statements(code: str) -> list[_PsStatement]:
    """Statements of a PowerShell string, split at ``;``, newlines, ``|``, ``&&``/``||``
    (a statement after ``|`` knows the one it reads from). A bracketed part (``(…)``,
    ``$(…)``, ``@(…)``, ``{…}``) is one unknown word of its statement, and its own
    statements are listed too. A backtick at the end of a line continues the statement."""
    statements: list[_PsStatement] = []
    current: list[_PsWord] = []
    piped_from: list[_PsWord] | None = None
    pending: list[str] = []
    i = 0
    n = len(code)
    while i < n:
        c = code[i]
        if c in " \t\r":
            i += 1
            continue
        if c == "`" and code[i + 1 : i + 2] in ("\n", "\r"):
            i += 3 if code.startswith("`\r\n", i) else 2
            continue
        if code.startswith("<#", i):
            end = code.find("#>", i + 2)
            i = n if end < 0 else end + 2
            continue
        if c == "#":
            end = code.find("\n", i)
            i = n if end < 0 else end
            continue
        if c in ";\n|" or code.startswith("&&", i):
            pipe = c == "|" and not code.startswith("||", i)
            if current:
                statements.append(_PsStatement(current, piped_from))
            piped_from = current if pipe and current else None
            current = []
            i += 2 if code.startswith(("&&", "||"), i) else 1
            continue
        nxt = code[i + 1 : i + 2]
        start = i if c in "({" else i + 1 if (c in "$@" and nxt == "(") or (c == "@" and nxt == "{") else -1
        if start >= 0:
            close = _balanced(code, start)
            pending.append(code[start + 1 : close])
            current.append(_PsWord(code[i : close + 1], dynamic=True))
            i = close + 1
            continue
        if c == "'":
            j = i + 1
            out: list[str] = []
            while j < n:
                if code[j] == "'" and code.startswith("''", j):
                    out.append("'")
                    j += 2
                    continue
                if code[j] == "'":
                    break
                out.append(code[j])
                j += 1
            current.append(_PsWord("".join(out), quoted=True))
            i = j + 1
            continue
        if c == '"':
            j = i + 1
            out = []
            while j < n and code[j] != '"':
                if code[j] == "`" and j + 1 < n:
                    out.append(code[j + 1])
                    j += 2
                    continue
                out.append(code[j])
                j += 1
            value = "".join(out)
            current.append(_ps_value(value, quoted=True))
            i = j + 1
            continue
        j = i
        out = []
        while j < n and code[j] not in " \t\r\n;|(){}'\"":
            if code.startswith("${", j):  # ${env:HOME}: a variable, not a block
                end = code.find("}", j)
                end = n - 1 if end < 0 else end
                out.append(code[j : end + 1])
                j = end + 1
                continue
            if code[j] == "`" and j + 1 < n:
                if code[j + 1] in "\r\n":
                    break  # a line continuation ends the word
                out.append(code[j + 1])
                j += 2
                continue
            out.append(code[j])
            j += 1
        if j == i:  # a stray closing bracket
            i += 1
            continue
        current.append(_ps_value("".join(out), quoted=False))
        i = j
    if current:
        statements.append(_PsStatement(current, piped_from))
    for inner in pending:
        statements.extend(_ps_statements(inner))
    return statements


def _ps_value(value: str, *, quoted: bool) -> _PsWord:
    """A word's value; a variable (other than the home directory at its start) is unknown."""
    home = _PS_HOME.match(value)
    rest = value[home.end() :] if home is not None else value
    return _PsWord(value, dynamic="$" in rest, quoted=quoted)
