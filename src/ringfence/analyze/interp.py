"""Inline interpreter code: ``python -c``, ``node -e``, ``perl -e``, ``ruby -e``, ``php -r``, awk.

The code is parsed (Python with :mod:`ast`; the others by a linear scan for the calls
that run processes or delete files) and reduced to directives for the shell walker:
shell source to analyse, an argv to analyse, or ``opaque`` when the code runs
something whose value is computed at run time. The code itself never runs.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
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
)


@dataclass(frozen=True, slots=True)
class Directive:
    kind: str  # shell | argv | opaque
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


def language(name: str) -> str:
    """The language of interpreter ``name`` (as :func:`analyse` names it)."""
    base = name.rsplit("/", 1)[-1]
    if PYTHONS.match(base):
        return "python"
    if base in NODES:
        return "js"
    return "php" if base.startswith("php") else base


def reads_program_from_stdin(argv: Sequence[str]) -> bool:
    """Whether the interpreter would read its program from standard input."""
    name = argv[0].rsplit("/", 1)[-1] if argv else ""
    if not (PYTHONS.match(name) or name in NODES or name in ("perl", "ruby", "php")):
        return False
    positional = [a for a in argv[1:] if not a.startswith("-")]
    return not positional or positional[0] == "-"


def analyse(lang: str, code: str) -> Iterator[Directive]:
    if lang == "python":
        yield from _python(code)
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
_BACKTICK = re.compile(r"`((?:[^`\\]|\\.)*)`")


def _scan(lang: str, code: str) -> Iterator[Directive]:
    for kind, pattern in _SCAN.get(lang, ()):
        for m in pattern.finditer(code):
            if kind == "dyn":
                yield Directive("opaque", f"{lang} runs a command computed at run time")
                continue
            index, raw = next(((i, g) for i, g in enumerate(m.groups()) if g), (0, ""))
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
