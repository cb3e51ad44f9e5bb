"""Spellings: ways to write a shell command so that it still runs (at least once).

Each :class:`Spelling` turns a command text into another command text that a real
shell would execute with the same effect: behind a wrapper (``sudo``, ``env``,
``nice``, ``xargs``, ``ssh``, ...), inside a string run by a shell or an interpreter
(``bash -c``, ``eval``, a heredoc, ``python3 -c``), behind a chaining or compound form
(``true && …``, ``if``, a function), or with the command name quoted or hidden behind
a variable. Spellings compose: ``sudo`` applied to ``bash -c '…'`` wraps the ``bash``.

Three kinds:

- ``prefix``: a wrapper put in front of the first simple command of the text (the rest
  of a pipeline or list stays where it is, so ``sudo curl … | sh`` still pipes into a
  local ``sh``);
- ``name``: rewrites the command name of the first simple command;
- ``text``: embeds the whole text (quoted with :func:`shlex.quote` or the quoting the
  host language needs).

A spelling may not apply to a text (:meth:`Spelling.applies`): a prefix or name needs
the text to start with a plain command word, a wrapper that ``exec``s a program cannot
run a shell builtin such as ``unset``, and an unquoted heredoc would expand ``$`` in
the outer shell.

Every shell is taken to be bash-compatible: composed with ``sh``/``dash``/``zsh``, a
bash-only construct (``$'…'``, ``<<<``, field splitting of ``$c`` in zsh) may fail there
instead of running. The analysis reads all of them as bash, which only errs towards
gating, so such cells still must never be allowed.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

# Words the shell treats as syntax, not as a command name.
KEYWORDS = frozenset(
    {
        "if",
        "then",
        "else",
        "elif",
        "fi",
        "for",
        "while",
        "until",
        "do",
        "done",
        "case",
        "esac",
        "function",
        "select",
        "time",
        "coproc",
        "!",
        "{",
        "}",
        "[[",
        "]]",
        "in",
    }
)
# Shell builtins with no program of that name on disk: a wrapper that exec()s its
# argument (sudo, env, nice, xargs, find -exec, ...) cannot run them.
BUILTINS = frozenset(
    {
        "unset",
        "export",
        "cd",
        "eval",
        "exec",
        "source",
        ".",
        "alias",
        "unalias",
        "set",
        "shopt",
        "readonly",
        "declare",
        "typeset",
        "local",
        "builtin",
        "command",
        "trap",
        "ulimit",
        "umask",
        "hash",
        "type",
        "wait",
        "jobs",
        "fg",
        "bg",
        "disown",
        "shift",
        "return",
        "exit",
        "let",
    }
)
_PLAIN_WORD = re.compile(r"[A-Za-z0-9_./+:@%,-]+")
_OPERATORS = frozenset(";&|()\n")
_FUNCDEF = re.compile(r"[A-Za-z0-9_./+:@%,-]+\s*\(\s*\)")


@dataclass(frozen=True, slots=True)
class Lead:
    """A command text that starts with a plain command word: the word and what follows."""

    name: str
    rest: str  # everything after the command name


def lead(text: str) -> Lead | None:
    """Split ``text`` when it starts with a plain command word; None otherwise."""
    m = _PLAIN_WORD.match(text)
    if m is None:
        return None
    name = m.group(0)
    if "=" in name or name in KEYWORDS:
        return None
    end = m.end()
    if end < len(text) and text[end] not in " \t" and text[end] not in _OPERATORS:
        return None  # the first word goes on with quotes or expansions
    if _FUNCDEF.match(text):
        return None  # a function definition, not a command
    return Lead(name, text[end:])


def first_command_end(text: str) -> int | None:
    """Where the first simple command of ``text`` ends (at its first list or pipeline
    operator, or a comment). None when a substitution or heredoc makes that unsure."""
    if any(marker in text for marker in ("$(", "`", "<(", ">(", "<<")):
        return None
    i = 0
    quote = ""
    while i < len(text):
        ch = text[i]
        if quote == "'":
            if ch == "'":
                quote = ""
        elif quote == '"':
            if ch == "\\":
                i += 1
            elif ch == '"':
                quote = ""
        elif ch == "\\":
            i += 1
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and i > 0 and text[i - 1] in " \t":
            return i  # a comment ends the simple command
        elif ch in _OPERATORS:
            if ch == "&" and i + 1 < len(text) and text[i + 1] == ">":
                i += 2
                continue  # &> redirection
            if ch in "&|" and i > 0 and text[i - 1] in "<>":
                i += 1
                continue  # 2>&1, >|
            return i
        i += 1
    return None if quote else len(text)


def dq(text: str) -> str:
    """``text`` as a bash double-quoted string."""
    return '"' + re.sub(r'([\\"$`])', r"\\\1", text) + '"'


def _sq_lang(text: str) -> str:
    """``text`` as a single-quoted Perl/Ruby string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _close(text: str) -> str:
    """What ends ``text`` before more syntax follows it: a newline when the text has
    several lines (it may end with a heredoc delimiter or a comment), else ``;``."""
    return "\n" if "\n" in text else "; "


def _group(text: str) -> str:
    """``text`` as one compound command: ``{ text; }``."""
    return f"{{ {text}{_close(text)}}}"


def _not_funcdef(text: str) -> bool:
    return _FUNCDEF.match(text) is None


def _fresh(text: str, stem: str) -> str:
    """``stem`` + the first number that does not occur in ``text`` (nested spellings)."""
    n = 0
    while f"{stem}{n}" in text:
        n += 1
    return f"{stem}{n}"


def _delimiter(text: str) -> str:
    return _fresh(text, "RF_EOF_")


def _tmux(text: str) -> str:
    return f"tmux new-session -d -s {_fresh(text, 'rf_session_')} {shlex.quote(text)}"


def _script_then_run(text: str) -> str:
    path = f"/tmp/{_fresh(text, 'rf_script_')}.sh"
    return f"printf '%s\\n' {shlex.quote(text)} > {path} && sh {path}"


@dataclass(frozen=True, slots=True)
class Spelling:
    name: str
    kind: str  # prefix | name | text
    fn: Callable[[str], str]
    needs_program: bool = False  # the spelled command must be a program, not a builtin
    when: Callable[[str], bool] | None = None  # extra applicability test on the text

    def applies(self, text: str) -> bool:
        if self.when is not None and not self.when(text):
            return False
        if self.kind == "text":
            return True
        head = lead(text)
        if head is None:
            return False
        return not (self.needs_program and head.name in BUILTINS)

    def __call__(self, text: str) -> str:
        if not self.applies(text):
            raise ValueError(f"spelling {self.name!r} does not apply to {text!r}")
        return self.fn(text)


def _prefix(words: str) -> Callable[[str], str]:
    def spell(text: str) -> str:
        return f"{words} {text}"

    return spell


def _find_exec(text: str) -> str:
    """``find . -maxdepth 0 -exec CMD \\;`` + the rest of the text."""
    end = first_command_end(text)
    assert end is not None
    first, rest = text[:end].rstrip(" \t"), text[end:]
    if rest and not rest.startswith((" ", "\n")):
        rest = " " + rest
    return f"find . -maxdepth 0 -exec {first} \\;{rest}"


def _rename(make: Callable[[str], str]) -> Callable[[str], str]:
    def spell(text: str) -> str:
        head = lead(text)
        assert head is not None
        return f"{make(head.name)}{head.rest}"

    return spell


def _ansi_c(name: str) -> str:
    return "$'" + "".join(f"\\x{ord(c):02x}" for c in name) + "'"


def _split_quotes(name: str) -> str:
    return name[0] + "''" + name[1:] if len(name) > 1 else "''" + name


def _has_args(text: str) -> bool:
    head = lead(text)
    if head is None or not head.rest.startswith(" "):
        return False
    following = head.rest.lstrip(" \t")[:1]
    return following != "" and following not in "#;|&\n)<>"


def _first_command_known(text: str) -> bool:
    return first_command_end(text) is not None


def _no_shell_expansion(text: str) -> bool:
    return not any(c in text for c in "$`\\")


def _no_slash_name(text: str) -> bool:
    head = lead(text)
    return head is not None and "/" not in head.name


_PLAIN_WORDS = re.compile(r"[A-Za-z0-9_./+:@%,=-]+(?: [A-Za-z0-9_./+:@%,=-]+)*")


def _plain_words(text: str) -> bool:
    """Only plain words: a variable holding the text splits back into the same argv
    (no quotes, globs or ``~``, which are not processed again after expansion)."""
    return _PLAIN_WORDS.fullmatch(text) is not None and lead(text) is not None


def _var_indirect(text: str) -> str:
    head = lead(text)
    assert head is not None
    return f"X={shlex.quote(head.name)}; $X{head.rest}"


def _var_braced(text: str) -> str:
    head = lead(text)
    assert head is not None
    return f'cmd={shlex.quote(head.name)}; "${{cmd}}"{head.rest}'


def _line_continuation(text: str) -> str:
    head = lead(text)
    assert head is not None
    return f"{head.name} \\\n  {head.rest.lstrip(' ')}"


def _ifs(text: str) -> str:
    head = lead(text)
    assert head is not None
    return f"{head.name}${{IFS}}{head.rest.lstrip(' ')}"


def _heredoc(shell: str, quoted: bool) -> Callable[[str], str]:
    def spell(text: str) -> str:
        d = _delimiter(text)
        start = f"'{d}'" if quoted else d
        return f"{shell} <<{start}\n{text}\n{d}"

    return spell


def _nl(text: str) -> str:
    return "\n" if "\n" in text else " "


def _backtick_subst(text: str) -> str:
    inner = text.replace("\\", "\\\\").replace("`", "\\`").replace("$", "\\$")
    return f"out=`{inner}{_nl(text)}`"


SPELLINGS: tuple[Spelling, ...] = (
    # -- wrappers in front of the first simple command --------------------------------
    Spelling("sudo", "prefix", _prefix("sudo"), needs_program=True),
    Spelling("sudo -u root", "prefix", _prefix("sudo -u root"), needs_program=True),
    Spelling("sudo -E -H", "prefix", _prefix("sudo -E -H"), needs_program=True),
    Spelling("doas", "prefix", _prefix("doas"), needs_program=True),
    Spelling("doas -u root", "prefix", _prefix("doas -u root"), needs_program=True),
    Spelling("env X=1", "prefix", _prefix("env X=1"), needs_program=True),
    Spelling("env -i", "prefix", _prefix("env -i"), needs_program=True),
    Spelling("env -u LANG", "prefix", _prefix("env -u LANG"), needs_program=True),
    Spelling("command", "prefix", _prefix("command")),
    Spelling("command -p", "prefix", _prefix("command -p"), needs_program=True),
    Spelling("exec", "prefix", _prefix("exec"), needs_program=True),
    Spelling("nohup", "prefix", _prefix("nohup"), needs_program=True),
    Spelling("nice -n 5", "prefix", _prefix("nice -n 5"), needs_program=True),
    Spelling("ionice -c3", "prefix", _prefix("ionice -c3"), needs_program=True),
    Spelling("timeout 10", "prefix", _prefix("timeout 10"), needs_program=True),
    Spelling("timeout -s KILL 30s", "prefix", _prefix("timeout -s KILL 30s"), needs_program=True),
    Spelling("stdbuf -oL", "prefix", _prefix("stdbuf -oL"), needs_program=True),
    Spelling("flock /tmp/l", "prefix", _prefix("flock /tmp/l"), needs_program=True),
    Spelling("watch -n 1 -x", "prefix", _prefix("watch -n 1 -x"), needs_program=True),
    Spelling("strace -f -o /dev/null", "prefix", _prefix("strace -f -o /dev/null"), needs_program=True),
    Spelling("setsid", "prefix", _prefix("setsid"), needs_program=True),
    Spelling("taskset -c 0", "prefix", _prefix("taskset -c 0"), needs_program=True),
    Spelling("xargs -I", "prefix", _prefix("echo x | xargs -I{}"), needs_program=True),
    Spelling("find -exec", "prefix", _find_exec, needs_program=True, when=_first_command_known),
    Spelling("docker exec", "prefix", _prefix("docker exec app"), needs_program=True),
    Spelling("kubectl exec", "prefix", _prefix("kubectl exec deploy/api --"), needs_program=True),
    Spelling("sudo env nice", "prefix", _prefix("sudo -u root env X=1 nice -n 5"), needs_program=True),
    Spelling("timeout sudo", "prefix", _prefix("timeout 10 sudo"), needs_program=True),
    # -- the command name, rewritten --------------------------------------------------
    Spelling('"name"', "name", _rename(lambda n: f'"{n}"')),
    Spelling("'name'", "name", _rename(lambda n: f"'{n}'")),
    Spelling("\\name", "name", _rename(lambda n: "\\" + n)),
    Spelling("na''me", "name", _rename(_split_quotes)),
    Spelling("$'\\x..'", "name", _rename(_ansi_c)),
    Spelling("/usr/bin/name", "name", _rename(lambda n: f"/usr/bin/{n}"), needs_program=True, when=_no_slash_name),
    Spelling("$(which name)", "name", _rename(lambda n: f"$(which {n})"), needs_program=True, when=_no_slash_name),
    Spelling(
        "`which name`",
        "name",
        _rename(lambda n: f"`command -v {n}`"),
        needs_program=True,
        when=_no_slash_name,
    ),
    Spelling("X=name; $X", "name", _var_indirect),
    Spelling('cmd=name; "${cmd}"', "name", _var_braced),
    Spelling("c='whole command'; $c", "text", lambda t: f"c={shlex.quote(t)}; $c", when=_plain_words),
    Spelling("line continuation", "name", _line_continuation, when=_has_args),
    Spelling("${IFS}", "name", _ifs, when=_has_args),
    # -- the whole text, run by a shell -------------------------------------------------
    Spelling("bash -c", "text", lambda t: f"bash -c {shlex.quote(t)}"),
    Spelling('sh -c "…"', "text", lambda t: f"sh -c {dq(t)}"),
    Spelling("zsh -c", "text", lambda t: f"zsh -c {shlex.quote(t)}"),
    Spelling("dash -c", "text", lambda t: f"dash -c {shlex.quote(t)}"),
    Spelling("bash -e -o pipefail -c", "text", lambda t: f"bash -e -o pipefail -c {shlex.quote(t)} bash"),
    Spelling("bash -c \"sh -c '…'\"", "text", lambda t: f"bash -c {dq('sh -c ' + shlex.quote(t))}"),
    Spelling('eval "…"', "text", lambda t: f"eval {dq(t)}"),
    Spelling("eval '…'", "text", lambda t: f"eval {shlex.quote(t)}"),
    Spelling("builtin eval", "text", lambda t: f"builtin eval {shlex.quote(t)}"),
    Spelling("echo | bash", "text", lambda t: f"echo {shlex.quote(t)} | bash"),
    Spelling("printf | sh", "text", lambda t: f"printf '%s\\n' {shlex.quote(t)} | sh"),
    Spelling("bash <<<", "text", lambda t: f"bash <<< {shlex.quote(t)}"),
    Spelling("sh <<'EOF'", "text", _heredoc("sh", quoted=True)),
    Spelling("bash -s <<EOF", "text", _heredoc("bash -s", quoted=False), when=_no_shell_expansion),
    Spelling("ssh host", "text", lambda t: f"ssh prod-1 {shlex.quote(t)}"),
    Spelling(
        "ssh -p -o user@host",
        "text",
        lambda t: f"ssh -p 2222 -o StrictHostKeyChecking=no deploy@10.0.0.5 {shlex.quote(t)}",
    ),
    Spelling("su -c", "text", lambda t: f"su root -c {shlex.quote(t)}"),
    Spelling("sudo sh -c", "text", lambda t: f"sudo sh -c {shlex.quote(t)}"),
    Spelling("sudo env bash -c", "text", lambda t: f"sudo env PATH=/usr/bin:/bin bash -c {shlex.quote(t)}"),
    Spelling("env -i bash -c", "text", lambda t: f"env -i bash -c {shlex.quote(t)}"),
    Spelling("nohup bash -c", "text", lambda t: f"nohup bash -c {shlex.quote(t)} >/dev/null 2>&1"),
    Spelling("parallel -N0", "text", lambda t: f"parallel -N0 {shlex.quote(t)} ::: 1"),
    Spelling("tmux new -d", "text", _tmux),
    Spelling("| at now", "text", lambda t: f"echo {shlex.quote(t)} | at now"),
    Spelling("write script; sh it", "text", _script_then_run),
    # -- the whole text, run by an interpreter -------------------------------------------
    Spelling("python3 os.system", "text", lambda t: "python3 -c " + shlex.quote(f"import os; os.system({t!r})")),
    Spelling(
        "python subprocess shell=True",
        "text",
        lambda t: "python -c " + shlex.quote(f"import subprocess; subprocess.run({t!r}, shell=True)"),
    ),
    Spelling(
        "node execSync",
        "text",
        lambda t: "node -e " + shlex.quote(f'require("child_process").execSync({json.dumps(t)})'),
    ),
    Spelling("perl system", "text", lambda t: "perl -e " + shlex.quote(f"system({_sq_lang(t)})")),
    Spelling("ruby system", "text", lambda t: "ruby -e " + shlex.quote(f"system({_sq_lang(t)})")),
    # -- substitutions ----------------------------------------------------------------------
    Spelling('echo "$(…)"', "text", lambda t: f'echo "$( {t}{_nl(t)})"'),
    Spelling("x=`…`", "text", _backtick_subst),
    Spelling("cat <(…)", "text", lambda t: f"cat <( {t}{_nl(t)})"),
    # -- lists, compounds, functions ----------------------------------------------------
    Spelling("a=1; …", "text", lambda t: f"a=1; {t}"),
    Spelling("true && …", "text", lambda t: f"true && {t}"),
    Spelling("false || …", "text", lambda t: f"false || {t}"),
    Spelling("…; true", "text", lambda t: f"{t}{_close(t)}true"),
    Spelling("newline", "text", lambda t: f"echo start\n{t}"),
    Spelling("comment newline", "text", lambda t: f"true # harmless\n{t}"),
    Spelling("( … )", "text", lambda t: f"( {t}{_nl(t)})"),
    Spelling("{ …; }", "text", _group),
    Spelling("if true", "text", lambda t: f"if true; then {t}{_close(t)}fi"),
    Spelling("if false else", "text", lambda t: f"if false; then :; else {t}{_close(t)}fi"),
    Spelling("for", "text", lambda t: f"for i in 1; do {t}{_close(t)}done"),
    Spelling("while", "text", lambda t: f"while true; do {t}{_close(t)}break; done"),
    Spelling("case", "text", lambda t: f"case x in x) {t}{_nl(t)};; esac"),
    Spelling("f() { …; }; f", "text", lambda t: f"f() {_group(t)}; f"),
    Spelling("function g { …; }; g", "text", lambda t: f"function g {{\n  {t}\n}}\ng"),
    Spelling("… & wait", "text", lambda t: f"{_group(t)} & wait"),
    Spelling("true | …", "text", lambda t: f"true | {_group(t)}"),
    Spelling("… | cat", "text", lambda t: f"{_group(t)} | cat"),
    Spelling("! …", "text", lambda t: f"! {t}", when=_not_funcdef),
    Spelling("time …", "text", lambda t: f"time {t}", when=_not_funcdef),
)

BY_NAME: dict[str, Spelling] = {s.name: s for s in SPELLINGS}
assert len(BY_NAME) == len(SPELLINGS), "spelling names must be unique"


def applicable(text: str) -> list[Spelling]:
    """The spellings that apply to ``text``."""
    return [s for s in SPELLINGS if s.applies(text)]
