"""SQL text → database effects, parsed with a real SQL parser (sqlglot).

What this module understands:

- **Scripts.** :func:`split_statements` splits text into statements the way a client
  would: single/double/backtick quotes, ``E'..'`` and MySQL backslash escapes, ``$tag$``
  dollar quotes, ``--``/``#``/``/* */`` comments (MySQL ``/*! .. */`` executable comments
  count as code), ``;``, MySQL ``DELIMITER``, T-SQL ``GO`` batches, psql ``\\`` and
  sqlite/duckdb ``.`` meta-commands (``\\gexec`` runs a query's output; ``\\!``,
  ``.shell`` and ``.system`` run a shell command).
- **Statements.** Each statement is parsed with sqlglot in the client's dialect. A
  statement with no risky keyword anywhere (no DELETE, UPDATE, DROP, GRANT, ...) is an
  ordinary query without a parse, so a ``SELECT 1`` never imports sqlglot. Effects:
  ``db.destructive`` (DROP, TRUNCATE, DELETE/UPDATE with no WHERE or a tautological one,
  ``ALTER .. DROP``, ``INSERT OVERWRITE``, ``CREATE OR REPLACE TABLE``, ``DROP OWNED``),
  ``db.privilege`` (GRANT, REVOKE, CREATE/ALTER/DROP USER or ROLE, SET PASSWORD) and
  ``db.query`` (everything else, with ``write``). Destructive statements nested in a CTE
  are found; function and procedure bodies being *defined* are not executed and are skipped.
- **Dynamic SQL.** ``EXECUTE``/``EXEC``/``PREPARE``/``DO`` blocks, ``sp_executesql`` and
  ``dblink_exec`` have their string literals and bodies analysed as SQL.
- **Fail closed.** A statement sqlglot cannot parse is classified from its leading
  keywords (``parsed=False``): DROP/TRUNCATE/DELETE/UPDATE are destructive, GRANT/REVOKE
  are privilege changes, and an unknown leading keyword is searched for a later risky one.
- **Bounds.** Text over 1 MiB is one ``analysis.limit`` effect; statements over 32 KiB,
  or beyond 1000 parses or 256 KiB parsed, are classified by keywords; effects are capped.

Also: :func:`looks_like_sql` (cheap, regex only) for routing MCP arguments, and
:func:`migration_file_effects` for migration files an agent writes (SQL, Alembic, Django,
Rails, Knex/Sequelize/TypeORM, Ecto, Laravel), scanning only the forward ("up") part.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ringfence.model import AttrValue, Effect

if TYPE_CHECKING:
    import ast


def _names(text: str) -> frozenset[str]:
    """A set of names written as one space-separated string (keeps long tables compact)."""
    return frozenset(text.split())


MAX_SQL_BYTES = 1 << 20
MAX_PARSED_STATEMENTS = 1000
MAX_PARSE_CHARS = 32 * 1024
MAX_PARSE_TOTAL = 256 * 1024
MAX_QUERY_EFFECTS = 50
MAX_EFFECTS = 200
SQL_ATTR_CHARS = 500
MAX_DEPTH = 6

_DIALECT_ALIASES: dict[str, str | None] = {
    "postgresql": "postgres",
    "pg": "postgres",
    "psql": "postgres",
    "cockroach": "postgres",
    "cockroachdb": "postgres",
    "supabase": "postgres",
    "mariadb": "mysql",
    "mssql": "tsql",
    "sqlserver": "tsql",
    "sqlcmd": "tsql",
    "sqlite3": "sqlite",
    "d1": "sqlite",
    "bq": "bigquery",
    "": None,
    "generic": None,
    "ansi": None,
}
_BACKSLASH_DIALECTS = _names("mysql bigquery clickhouse spark spark2 hive databricks doris starrocks")


# -- splitting -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement: ``text`` as written, ``code`` with literals blanked and comments removed.

    ``meta`` is the client meta-command that ended it (``\\gexec``, ``\\g``, ``GO``).
    """

    text: str
    code: str
    meta: str = ""


@lru_cache(maxsize=32)
def _scanner(hash_comments: bool, delimiter: str) -> re.Pattern[str]:
    parts = [
        r"(?P<q>['\"`])",
        r"(?P<dq>\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$)",
        r"(?P<lc>--" + (r"|\#" if hash_comments else "") + ")",
        r"(?P<bc>/\*)",
        r"(?P<end>" + re.escape(delimiter) + ")",
        r"(?P<bs>\\)",
        r"(?P<line>^[ \t]*(?:GO\b|DELIMITER[ \t]|\.(?=[A-Za-z])))",
    ]
    return re.compile("|".join(parts), re.M | re.I)


_STRING_END = {
    ("'", False): re.compile(r"(?:[^']++|'')*+'"),
    ("'", True): re.compile(r"(?:[^'\\]++|\\.|'')*+'", re.S),
    ('"', False): re.compile(r'(?:[^"]++|"")*+"'),
    ('"', True): re.compile(r'(?:[^"\\]++|\\.|"")*+"', re.S),
    ("`", False): re.compile(r"(?:[^`]++|``)*+`"),
    ("`", True): re.compile(r"(?:[^`]++|``)*+`"),
}
_GO_REST = re.compile(r"[ \t]*(?:\d+)?[ \t]*(?:--[^\n]*)?$", re.M)
_NONSPACE = re.compile(r"\S")
_META_TERMINATORS = _names("\\g \\gx \\gexec \\gset \\G \\watch \\crosstabview \\p\\g")


def split_statements(sql: str, dialect: str | None = None) -> tuple[list[Statement], list[str]]:
    """Split ``sql`` into statements and client meta-commands, as a SQL client would."""
    backslash = dialect in _BACKSLASH_DIALECTS
    hash_comments = dialect == "mysql"
    delimiter = ";"
    pattern = _scanner(hash_comments, delimiter)
    statements: list[Statement] = []
    metas: list[str] = []
    raw: list[str] = []
    code: list[str] = []
    has_code = False
    pos = 0
    n = len(sql)

    def finish(meta: str = "") -> None:
        nonlocal raw, code, has_code
        if has_code:
            statements.append(Statement("".join(raw).strip(), " ".join("".join(code).split()), meta))
        raw, code, has_code = [], [], False

    while pos < n:
        m = pattern.search(sql, pos)
        if m is None:
            break
        start = m.start()
        gap = sql[pos:start]
        raw.append(gap)
        code.append(gap)
        if not has_code and _NONSPACE.search(gap):
            has_code = True
        kind = m.lastgroup
        end = m.end()
        if kind == "q":
            quote = m.group()
            esc = backslash or (quote == "'" and start > 0 and sql[start - 1] in "eE")
            close = _STRING_END[(quote, esc)].match(sql, end)
            end = close.end() if close else n
            raw.append(sql[start:end])
            code.append("''" if quote == "'" else sql[start:end])
            has_code = True
        elif kind == "dq":
            tag = m.group()
            idx = sql.find(tag, end)
            end = idx + len(tag) if idx >= 0 else n
            raw.append(sql[start:end])
            code.append(" $$ ")
            has_code = True
        elif kind == "lc":
            idx = sql.find("\n", end)
            end = idx if idx >= 0 else n
            raw.append(sql[start:end])
            code.append(" ")
        elif kind == "bc":
            idx = sql.find("*/", end)
            stop = idx if idx >= 0 else n
            end = idx + 2 if idx >= 0 else n
            if sql.startswith("!", start + 2):  # MySQL executable comment: the content runs
                inner = sql[start + 3 : stop].lstrip("0123456789")
                raw.append(inner)
                code.append(inner)
                has_code = has_code or bool(_NONSPACE.search(inner))
            else:
                raw.append(sql[start:end])
                code.append(" ")
        elif kind == "end":
            finish()
        elif kind == "bs":
            idx = sql.find("\n", start)
            end = idx if idx >= 0 else n
            meta = sql[start:end].strip()
            name = meta.split()[0] if meta.split() else meta
            if name in _META_TERMINATORS or name.startswith("\\g"):
                finish(name)
            else:
                metas.append(meta)
        else:  # a line-start token: GO, DELIMITER or a dot-command
            word = m.group().strip().upper()
            line_end = sql.find("\n", start)
            line_end = line_end if line_end >= 0 else n
            if word == "GO" and dialect in ("tsql", None) and _GO_REST.match(sql, end):
                finish("GO")
                end = line_end
            elif word.startswith("DELIMITER") and not has_code and dialect in ("mysql", None):
                new = sql[end:line_end].strip().split()
                if new:
                    delimiter = new[0]
                    pattern = _scanner(hash_comments, delimiter)
                metas.append(sql[start:line_end].strip())
                end = line_end
            elif word == "." and not has_code and dialect in ("sqlite", "duckdb", None):
                metas.append(sql[start:line_end].strip())
                end = line_end
            else:
                end = start + 1
                raw.append(sql[start:end])
                code.append(sql[start:end])
                has_code = has_code or bool(_NONSPACE.search(sql[start:end]))
        pos = end if end > pos else pos + 1
    if pos < n:
        rest = sql[pos:]
        raw.append(rest)
        code.append(rest)
        if _NONSPACE.search(rest):
            has_code = True
    finish()
    return statements, metas


# -- keyword helpers -------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_RISKY = re.compile(
    r"\b(?:DELETE|UPDATE|DROP|TRUNCATE|ALTER|GRANT|REVOKE|OVERWRITE|REPLACE|EXEC|EXECUTE|PREPARE|DO|"
    r"CALL|USER|ROLE|PASSWORD|OWNED|PRIVILEGES|ANALYZE|dblink\w*|sp_executesql|IMMEDIATE|BEGIN|DECLARE)\b",
    re.I,
)
_TAIL_START = re.compile(
    r"\b(?:DELETE|UPDATE|DROP|TRUNCATE|ALTER|GRANT|REVOKE|INSERT|MERGE|CREATE|SELECT|WITH|REPLACE)\b", re.I
)
_RISKY_TAIL = re.compile(r"\b(?:DELETE|UPDATE|DROP|TRUNCATE|ALTER|GRANT|REVOKE|INSERT|MERGE|REPLACE)\b", re.I)
_READ_WORDS = _names(
    "SELECT WITH SHOW EXPLAIN DESCRIBE DESC VALUES TABLE USE SET BEGIN START COMMIT ROLLBACK END "
    "SAVEPOINT RELEASE PRAGMA LISTEN FETCH CLOSE PRINT ABORT RESET DISCARD CHECKPOINT SUMMARIZE FROM "
    "PIVOT UNPIVOT"
)
_WRITE_HINT = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE|INTO|COPY|CREATE)\b", re.I)
_PLAIN_TXN = re.compile(
    r"\s*(?:BEGIN|START)\s*(?:TRANSACTION|TRAN|WORK|ISOLATION\b.*|READ\b.*|DEFERRED|IMMEDIATE|EXCLUSIVE)?\s*$",
    re.I | re.S,
)
_COPY_PROGRAM = re.compile(r"\bCOPY\b.*\b(?:FROM|TO)\s+PROGRAM\b", re.I | re.S)
_ORDINARY_WORDS = _names(
    "INSERT CREATE COPY MERGE REPLACE UPSERT COMMENT VACUUM ANALYZE REINDEX CLUSTER LOCK REFRESH "
    "OPTIMIZE ATTACH DETACH LOAD INSTALL EXPORT IMPORT"
)
_PROCEDURAL = _names("DO EXEC EXECUTE PREPARE CALL BEGIN DECLARE IF WHILE FOR LOOP FOREACH")
_OBJECT_WORDS = _names(
    "TABLE DATABASE SCHEMA VIEW INDEX SEQUENCE FUNCTION PROCEDURE TRIGGER TYPE DOMAIN EXTENSION "
    "KEYSPACE COLLECTION DATASET STAGE WAREHOUSE STREAM TASK PIPE DICTIONARY COLUMN CONSTRAINT "
    "PARTITION TABLESPACE SERVER PUBLICATION SUBSCRIPTION EVENT RULE POLICY SYNONYM PACKAGE MODEL "
    "SNAPSHOT SHARE CATALOG VOLUME AGGREGATE OPERATOR CAST COLLATION LANGUAGE MACRO"
)
_MODIFIER_WORDS = _names(
    "MATERIALIZED TEMP TEMPORARY EXTERNAL FOREIGN UNIQUE OR REPLACE GLOBAL LOCAL UNLOGGED TRANSIENT "
    "VOLATILE SECURE RECURSIVE CLUSTERED NONCLUSTERED DYNAMIC ICEBERG HYBRID ONLY IF EXISTS NOT "
    "CONCURRENTLY FULLTEXT SPATIAL LIVE STREAMING EVENT PERMANENT"
)
_ACCESS_WORDS = _names("USER ROLE LOGIN GROUP")
_NAME = re.compile(
    r"""\s*((?:"[^"]*"|`[^`]*`|\[[^\]]*\]|[\w$:@]+)(?:\s*\.\s*(?:"[^"]*"|`[^`]*`|\[[^\]]*\]|[\w$*]+))*)"""
)
_NAME_SKIP = re.compile(r"\s*(?:IF\s+EXISTS|IF\s+NOT\s+EXISTS|CONCURRENTLY|ONLY|TABLE|FROM)\b", re.I)
_NOT_NAMES = _names("WHERE SET CASCADE RESTRICT ON TO WITH USING AS BY")
_DOTS = re.compile(r"\s*\.\s*")
_COMMA = re.compile(r"\s*,")
_UNQUOTE = str.maketrans("", "", '"`[]')
_LITERAL = re.compile(r"""(?:\b[NEne])?'((?:[^']++|'')*+)'|\$([A-Za-z_]\w*|)\$(.*?)\$\2\$""", re.S)
_DYNAMIC_FUNCS = _names("dblink_exec dblink sp_executesql exec execute query_exec")


def _words(code: str, limit: int = 8) -> list[str]:
    out: list[str] = []
    for m in _WORD.finditer(code):
        out.append(m.group().upper())
        if len(out) >= limit:
            break
    return out


def _lead(code: str) -> str:
    m = _WORD.search(code)
    return m.group().upper() if m else ""


def _object_word(words: list[str], start: int) -> tuple[str, int]:
    """The object type after a verb (``DROP MATERIALIZED VIEW`` → ``MATERIALIZED VIEW``)."""
    mods: list[str] = []
    for i in range(start, len(words)):
        w = words[i]
        if w in _OBJECT_WORDS or w in _ACCESS_WORDS or w == "OWNED":
            if w == "VIEW" and "MATERIALIZED" in mods:
                return "MATERIALIZED VIEW", i
            return w, i
        if w in _MODIFIER_WORDS:
            mods.append(w)
            continue
        break
    return "", -1


def _statement_name(code: str) -> str:
    words = _words(code, 6)
    if not words:
        return ""
    verb = words[0]
    if verb in ("CREATE", "ALTER", "DROP", "TRUNCATE", "COMMENT"):
        obj, _ = _object_word(words, 1)
        if obj:
            return f"{verb} {obj}"
    return verb


def _names_after(text: str, words: Iterable[str]) -> tuple[str, ...]:
    """Best-effort object names following ``words`` (used when the parser gave up)."""
    pat = r"\b" + r"\s+".join(re.escape(w) for w in words) + r"\b"
    m = re.search(pat, text, re.I)
    if not m:
        return ()
    rest = text[m.end() : m.end() + 2000]
    names: list[str] = []
    pos = 0
    while len(names) < 50:
        skip = _NAME_SKIP.match(rest, pos)
        while skip:
            pos = skip.end()
            skip = _NAME_SKIP.match(rest, pos)
        nm = _NAME.match(rest, pos)
        if not nm or nm.group(1).upper() in _NOT_NAMES:
            break
        names.append(_DOTS.sub(".", nm.group(1)).translate(_UNQUOTE))
        comma = _COMMA.match(rest, nm.end())
        if not comma:
            break
        pos = comma.end()
    return tuple(n for n in names if n)


def _schemas(objects: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for o in objects:
        parts = o.split(".")
        if len(parts) >= 2 and parts[-2] not in out:
            out.append(parts[-2])
    return tuple(out)


# -- found effects -------------------------------------------------------------------------


@dataclass(slots=True)
class _Found:
    """Effects found so far (kind, attrs), with caps and the parse budget."""

    items: list[tuple[str, dict[str, AttrValue]]] = field(default_factory=list)
    queries: int = 0
    gated: int = 0
    parses_left: int = MAX_PARSED_STATEMENTS
    chars_left: int = MAX_PARSE_TOTAL

    def add(self, kind: str, attrs: dict[str, AttrValue]) -> None:
        if kind == "db.query":
            if self.queries >= MAX_QUERY_EFFECTS:
                return
            self.queries += 1
        else:
            if self.gated >= MAX_EFFECTS:
                return
            self.gated += 1
        self.items.append((kind, attrs))


def _clip(text: str) -> str:
    text = " ".join(text.split()) if len(text) < 4 * SQL_ATTR_CHARS else text[: 4 * SQL_ATTR_CHARS]
    return text if len(text) <= SQL_ATTR_CHARS else text[: SQL_ATTR_CHARS - 1] + "…"


def _query(text: str, code: str, *, write: bool | None = None, parsed: bool = True) -> dict[str, AttrValue]:
    lead = _lead(code)
    if write is None:
        write = lead not in _READ_WORDS or (lead in ("SELECT", "WITH") and bool(_WRITE_HINT.search(code)))
    return {"statement": _statement_name(code) or lead, "write": write, "parsed": parsed, "sql": _clip(text)}


def _destructive(
    statement: str,
    object_type: str,
    objects: tuple[str, ...],
    text: str,
    *,
    where: str | None = None,
    parsed: bool = True,
    schemas: tuple[str, ...] | None = None,
    **more: AttrValue,
) -> dict[str, AttrValue]:
    attrs: dict[str, AttrValue] = {
        "statement": statement,
        "object_type": object_type,
        "objects": objects,
        "schemas": schemas if schemas is not None else _schemas(objects),
    }
    if where is not None:
        attrs["where"] = where
    attrs.update(more)
    attrs["parsed"] = parsed
    attrs["sql"] = _clip(text)
    return attrs


def _privilege(
    statement: str, objects: tuple[str, ...], text: str, *, parsed: bool = True, **more: AttrValue
) -> dict[str, AttrValue]:
    attrs: dict[str, AttrValue] = {"statement": statement, "objects": objects}
    attrs.update(more)
    attrs["parsed"] = parsed
    attrs["sql"] = _clip(text)
    return attrs


# -- one statement ---------------------------------------------------------------------------


def _statement(text: str, code: str, dialect: str | None, found: _Found, depth: int) -> None:
    """Classify one statement into ``found``."""
    if depth > MAX_DEPTH or not code.strip():
        return
    if _COPY_PROGRAM.search(code):
        attrs: dict[str, AttrValue] = {"reason": "COPY ... PROGRAM runs a shell command on the database server"}
        found.add("opaque_exec", {**attrs, "command": _clip(text)})
    plain_txn = _PLAIN_TXN.match(code) is not None
    if plain_txn or not _RISKY.search(text):
        found.add("db.query", _query(text, code))
        return
    procedural = _lead(code) in _PROCEDURAL
    if procedural or len(text) > min(MAX_PARSE_CHARS, found.chars_left) or found.parses_left <= 0:
        _fallback(text, code, dialect, found, depth)
        return
    found.parses_left -= 1
    found.chars_left -= len(text)
    trees = _parse(text, dialect)
    if trees is None:
        _fallback(text, code, dialect, found, depth)
        return
    for tree in trees:
        if tree is not None:
            _tree(tree, text, code, dialect, found, depth)


def _sqlglot() -> Any:
    import logging

    import sqlglot

    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    return sqlglot


def _parse(text: str, dialect: str | None) -> list[Any] | None:
    sqlglot = _sqlglot()
    try:
        return list(sqlglot.parse(text, read=dialect))
    except Exception:
        if dialect is not None:
            try:
                return list(sqlglot.parse(text, read=_known_dialect(dialect)))
            except Exception:
                return None
        return None


@lru_cache(maxsize=64)
def _known_dialect(dialect: str | None) -> str | None:
    if dialect is None:
        return None
    sqlglot = _sqlglot()
    try:
        sqlglot.Dialect.get_or_raise(dialect)
    except Exception:
        return None
    return dialect


def _cls(*names: str) -> tuple[type, ...]:
    from sqlglot import exp

    return tuple(c for c in (getattr(exp, n, None) for n in names) if isinstance(c, type))


def _node_name(node: Any) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Table | exp.Column):
        parts = [p.name for p in node.parts if p is not None]
        name = ".".join(p for p in parts if p)
        return name or node.sql()
    if isinstance(node, exp.Identifier):
        return str(node.name)
    if isinstance(node, exp.Expression):
        return str(node.sql())
    return str(node)


def _targets(node: Any) -> list[Any]:
    from sqlglot import exp

    items = node.args.get("tables") or node.args.get("expressions") or []
    if not items and isinstance(node.args.get("this"), exp.Expression):
        items = [node.args["this"]]
    return list(items)


def _tree(tree: Any, text: str, code: str, dialect: str | None, found: _Found, depth: int) -> None:
    from sqlglot import exp

    if isinstance(tree, exp.Command):
        _fallback(text, code, dialect, found, depth)
        return
    executes = _cls("Execute", "ExecuteSql")
    drop_parts = _cls("DropPartition", "DropPrimaryKey")
    handled: set[int] = set()
    before = len(found.items)
    dynamic = False

    def prune(node: Any) -> bool:
        return isinstance(node, exp.Create) and str(node.args.get("kind") or "").upper() in (
            "FUNCTION",
            "PROCEDURE",
            "TRIGGER",
            "MACRO",
        )

    for node in tree.walk(prune=prune):
        if id(node) in handled:
            continue
        if isinstance(node, exp.Alter):
            _alter(node, text, found, handled, drop_parts)
        elif isinstance(node, exp.Drop):
            _drop(node, text, code, found, tree is node)
        elif isinstance(node, exp.TruncateTable):
            objs = tuple(_node_name(t) for t in _targets(node))
            db = bool(node.args.get("is_database"))
            found.add(
                "db.destructive",
                _destructive("TRUNCATE DATABASE" if db else "TRUNCATE", "database" if db else "table", objs, text),
            )
        elif isinstance(node, exp.Delete | exp.Update):
            _dml(node, text, found)
        elif isinstance(node, exp.Grant | exp.Revoke):
            verb = "GRANT" if isinstance(node, exp.Grant) else "REVOKE"
            sec = node.args.get("securable")
            privs = tuple(
                _node_name(p.this if isinstance(p, exp.GrantPrivilege) else p)
                for p in node.args.get("privileges") or []
            )
            principals = tuple(
                _node_name(p.this if hasattr(p, "this") else p) for p in node.args.get("principals") or []
            )
            found.add(
                "db.privilege",
                _privilege(
                    verb,
                    (_node_name(sec),) if sec is not None else (),
                    text,
                    privileges=privs,
                    principals=principals,
                ),
            )
        elif isinstance(node, exp.Insert) and node.args.get("overwrite"):
            found.add("db.destructive", _destructive("INSERT OVERWRITE", "table", (_node_name(node.this),), text))
        elif (
            isinstance(node, exp.Create)
            and node.args.get("replace")
            and str(node.args.get("kind") or "").upper() == "TABLE"
        ):
            found.add(
                "db.destructive",
                _destructive("CREATE OR REPLACE TABLE", "table", (_node_name(node.this),), text),
            )
        elif (executes and isinstance(node, executes)) or (
            isinstance(node, exp.Anonymous) and str(node.name).lower() in _DYNAMIC_FUNCS
        ):
            dynamic = True
    if dynamic and depth < MAX_DEPTH:
        _dynamic(text, dialect, found, depth)
    if len(found.items) == before:
        write = None
        if isinstance(tree, exp.Select) and not tree.args.get("into"):
            write = any(isinstance(n, exp.Insert | exp.Merge | exp.Create | exp.Copy) for n in tree.walk(prune=prune))
        found.add("db.query", _query(text, code, write=write))


def _drop(node: Any, text: str, code: str, found: _Found, is_root: bool) -> None:
    kind = str(node.args.get("kind") or "").upper()
    if node.args.get("materialized") and kind == "VIEW":
        kind = "MATERIALIZED VIEW"
    if is_root:
        written, _ = _object_word(_words(code, 6), 1)
        if written and written not in ("OWNED",):
            kind = written
    objs = tuple(_node_name(t) for t in _targets(node))
    if kind in _ACCESS_WORDS:
        found.add("db.privilege", _privilege(f"DROP {kind}", objs, text))
        return
    schemas = objs if kind in ("SCHEMA", "DATABASE") else None
    found.add(
        "db.destructive",
        _destructive(f"DROP {kind}".strip(), kind.lower() or "object", objs, text, schemas=schemas),
    )


def _alter(node: Any, text: str, found: _Found, handled: set[int], drop_parts: tuple[type, ...]) -> None:
    from sqlglot import exp

    kind = str(node.args.get("kind") or "TABLE").upper()
    table = _node_name(node.this) if node.this is not None else ""
    objs = (table,) if table else ()
    for action in node.args.get("actions") or []:
        handled.add(id(action))
        if isinstance(action, exp.Drop):
            akind = str(action.args.get("kind") or "").upper() or "OBJECT"
            cols = tuple(_node_name(t) for t in _targets(action))
            attrs = _destructive(f"ALTER {kind} DROP {akind}", akind.lower(), objs, text)
            attrs["columns" if akind == "COLUMN" else "names"] = cols
            found.add("db.destructive", attrs)
        elif drop_parts and isinstance(action, drop_parts):
            what = "PRIMARY KEY" if type(action).__name__ == "DropPrimaryKey" else "PARTITION"
            found.add("db.destructive", _destructive(f"ALTER {kind} DROP {what}", what.lower(), objs, text))
        elif isinstance(action, exp.Delete | exp.Update):
            verb = "DELETE" if isinstance(action, exp.Delete) else "UPDATE"
            where = _where(action)
            if where == "present":
                found.add(
                    "db.query",
                    {"statement": f"ALTER {kind} {verb}", "write": True, "parsed": True, "sql": _clip(text)},
                )
            else:
                found.add("db.destructive", _destructive(f"ALTER {kind} {verb}", "table", objs, text, where=where))
            for sub in action.walk():
                handled.add(id(sub))


def _dml(node: Any, text: str, found: _Found) -> None:
    from sqlglot import exp

    verb = "DELETE" if isinstance(node, exp.Delete) else "UPDATE"
    targets = list(node.args.get("tables") or []) or ([node.this] if node.this is not None else [])
    objs = tuple(_node_name(t) for t in targets)
    where = _where(node)
    if where == "present":
        found.add(
            "db.query",
            {
                "statement": verb,
                "write": True,
                "parsed": True,
                "objects": objs,
                "where": where,
                "sql": _clip(text),
            },
        )
        return
    found.add("db.destructive", _destructive(verb, "rows", objs, text, where=where))


def _where(node: Any) -> str:
    from sqlglot import exp

    where = node.args.get("where")
    this = node.args.get("this")
    joined = isinstance(this, exp.Expression) and any(
        j.args.get("on") is not None or j.args.get("using") for j in this.args.get("joins") or []
    )
    if where is None:
        return "present" if joined else "none"
    cond = where.this if isinstance(where, exp.Where) else where
    return "tautology" if _truth(cond) is True else "present"


def _truth(e: Any) -> bool | None:
    """True when ``e`` holds for every row, False when for none, None when it depends."""
    from sqlglot import exp

    if isinstance(e, exp.Paren):
        return _truth(e.this)
    if isinstance(e, exp.Boolean):
        return bool(e.this)
    if isinstance(e, exp.Null):
        return False
    if isinstance(e, exp.Literal):
        if e.is_string:
            return None
        try:
            return float(str(e.this)) != 0
        except ValueError:
            return None
    if isinstance(e, exp.Not):
        inner = _truth(e.this)
        return None if inner is None else not inner
    if isinstance(e, exp.And):
        left, right = _truth(e.this), _truth(e.expression)
        if left is False or right is False:
            return False
        return True if left is True and right is True else None
    if isinstance(e, exp.Or):
        left, right = _truth(e.this), _truth(e.expression)
        if left is True or right is True:
            return True
        if _null_pair(e):
            return True
        return False if left is False and right is False else None
    if isinstance(e, exp.Like) and isinstance(e.expression, exp.Literal) and e.expression.is_string:
        return True if str(e.expression.this).strip("%") == "" and str(e.expression.this) else None
    if isinstance(e, exp.In):
        needle = e.this
        options = e.expressions
        if isinstance(needle, exp.Literal) and any(
            isinstance(o, exp.Literal) and o.this == needle.this for o in options
        ):
            return True
        return None
    return _compare(e)


_CMP_OPS: dict[str, str] = {
    "EQ": "==",
    "NullSafeEQ": "==",
    "NEQ": "!=",
    "GT": ">",
    "GTE": ">=",
    "LT": "<",
    "LTE": "<=",
}


def _compare(e: Any) -> bool | None:
    from sqlglot import exp

    op = _CMP_OPS.get(type(e).__name__)
    if op is None or not isinstance(e, exp.Binary):
        return None
    left, right = e.this, e.expression
    if isinstance(left, exp.Literal) and isinstance(right, exp.Literal):
        lv: Any = left.this
        rv: Any = right.this
        if not left.is_string and not right.is_string:
            try:
                lv, rv = float(lv), float(rv)
            except ValueError:
                return None
        elif left.is_string != right.is_string:
            return None
        table = {
            "==": lv == rv,
            "!=": lv != rv,
            ">": lv > rv,
            ">=": lv >= rv,
            "<": lv < rv,
            "<=": lv <= rv,
        }
        return bool(table[op])
    if left == right and not any(isinstance(n, exp.Func) for n in left.walk()):
        return op in ("==", ">=", "<=")
    return None


def _null_pair(e: Any) -> bool:
    """``x IS NULL OR x IS NOT NULL`` (any order, at the top of an OR chain)."""
    from sqlglot import exp

    nulls: list[Any] = []
    not_nulls: list[Any] = []
    for part in e.flatten():
        p = part.this if isinstance(part, exp.Paren) else part
        if isinstance(p, exp.Is) and isinstance(p.expression, exp.Null):
            nulls.append(p.this)
        elif isinstance(p, exp.Not) and isinstance(p.this, exp.Is) and isinstance(p.this.expression, exp.Null):
            not_nulls.append(p.this.this)
    return any(a == b for a in nulls for b in not_nulls)


# -- statements the parser could not understand ------------------------------------------------


def _fallback(text: str, code: str, dialect: str | None, found: _Found, depth: int) -> None:
    """Classify a statement from its leading keywords (``parsed=False``), conservatively."""
    words = _words(code, 8)
    if not words:
        return
    verb = words[0]
    second = words[1] if len(words) > 1 else ""
    priv = _privilege_statement(words)
    if priv:
        obj_words = words[:2] if second in _ACCESS_WORDS else words[:1]
        names = _names_after(code, obj_words) if verb != "GRANT" and verb != "REVOKE" else ()
        found.add("db.privilege", _privilege(priv, names, text, parsed=False))
        return
    if verb == "DROP":
        obj, idx = _object_word(words, 1)
        if obj == "OWNED":
            found.add(
                "db.destructive",
                _destructive(
                    "DROP OWNED",
                    "owned",
                    (),
                    text,
                    parsed=False,
                    principals=_names_after(code, ["OWNED", "BY"]),
                ),
            )
            return
        names = _names_after(code, words[: idx + 1]) if idx > 0 else ()
        obj = obj or second or "OBJECT"
        schemas = names if obj in ("SCHEMA", "DATABASE", "KEYSPACE") else None
        found.add(
            "db.destructive",
            _destructive(f"DROP {obj}", obj.lower(), names, text, parsed=False, schemas=schemas),
        )
        return
    if verb == "TRUNCATE":
        names = _names_after(code, ["TRUNCATE"])
        found.add("db.destructive", _destructive("TRUNCATE", "table", names, text, parsed=False))
        return
    if verb in ("DELETE", "UPDATE"):
        names = _names_after(code, ["DELETE", "FROM"] if "FROM" in words[:3] else [verb])
        where = "unknown" if re.search(r"\bWHERE\b", code, re.I) else "none"
        found.add("db.destructive", _destructive(verb, "rows", names, text, where=where, parsed=False))
        return
    if verb == "ALTER":
        m = re.search(r"\b(DROP|DELETE|TRUNCATE|UPDATE|REMOVE|CLEAR|DETACH)\b", code, re.I)
        if m:
            obj, idx = _object_word(words, 1)
            names = _names_after(code, words[: idx + 1]) if idx > 0 else ()
            found.add(
                "db.destructive",
                _destructive(
                    f"ALTER {obj or second} {m.group(1).upper()}".replace("  ", " "),
                    (obj or second).lower(),
                    names,
                    text,
                    parsed=False,
                ),
            )
            return
        found.add("db.query", _query(text, code, write=True, parsed=False))
        return
    if verb == "EXPLAIN":
        if "ANALYZE" in words[1:4] or re.match(r"EXPLAIN\s*\([^)]*\bANALY[SZ]E\b", code, re.I):
            tail = _TAIL_START.search(code, len("EXPLAIN"))
            if tail:
                _statement(code[tail.start() :], code[tail.start() :], dialect, found, depth + 1)
                return
        found.add("db.query", _query(text, code, write=False, parsed=False))
        return
    if verb not in _PROCEDURAL and (verb in _READ_WORDS or verb in _ORDINARY_WORDS):
        found.add("db.query", _query(text, code, parsed=False))
        return
    # Unknown or procedural leading keyword: look inside for something risky.
    before = found.gated
    if depth < MAX_DEPTH:
        _dynamic(text, dialect, found, depth)
        lead = _WORD.search(code)
        for n, tail in enumerate(_RISKY_TAIL.finditer(code, lead.end() if lead else 0)):
            if found.gated != before or n >= 8:
                break
            sub = code[tail.start() :]
            mark = len(found.items)
            _statement(sub, sub, dialect, found, depth + 1)
            kept = [it for it in found.items[mark:] if it[0] != "db.query"]
            found.queries -= len(found.items) - mark - len(kept)
            del found.items[mark:]
            found.items.extend(kept)
    if found.gated == before:
        found.add("db.query", _query(text, code, write=verb in _PROCEDURAL or None, parsed=False))


def _privilege_statement(words: list[str]) -> str:
    verb = words[0]
    second = words[1] if len(words) > 1 else ""
    if verb in ("GRANT", "REVOKE"):
        return verb
    if verb in ("CREATE", "ALTER", "DROP", "RENAME"):
        obj = _object_word(words, 1)[0]
        if obj in _ACCESS_WORDS:
            return f"{verb} {obj}"
        if second in _ACCESS_WORDS:
            return f"{verb} {second}"
    if verb == "ALTER" and second == "DEFAULT" and "PRIVILEGES" in words[:4]:
        return "ALTER DEFAULT PRIVILEGES"
    if verb == "SET" and second == "PASSWORD":
        return "SET PASSWORD"
    if verb == "REASSIGN" and second == "OWNED":
        return "REASSIGN OWNED"
    return ""


def _dynamic(text: str, dialect: str | None, found: _Found, depth: int) -> None:
    """Analyse SQL hidden in string literals and dollar-quoted bodies (EXECUTE, DO, PREPARE)."""
    for m in _LITERAL.finditer(text):
        body = m.group(3) if m.group(3) is not None else (m.group(1) or "").replace("''", "'")
        if not body or not _TAIL_START.search(body):
            continue
        before = found.gated
        stmts, _ = split_statements(body, dialect)
        mark = len(found.items)
        for st in stmts:
            _statement(st.text, st.code, dialect, found, depth + 1)
        if found.gated > before:
            for i in range(mark, len(found.items)):
                kind, attrs = found.items[i]
                if kind != "db.query":
                    attrs["dynamic"] = True
        # queries found inside literals are not separate statements: drop them
        kept = [it for it in found.items[mark:] if it[0] != "db.query"]
        found.queries -= len(found.items) - mark - len(kept)
        del found.items[mark:]
        found.items.extend(kept)


# -- public API ------------------------------------------------------------------------------


def normalize_dialect(dialect: str | None) -> str | None:
    """A sqlglot dialect name for a client or engine name (``postgresql`` → ``postgres``)."""
    if dialect is None:
        return None
    d = dialect.strip().lower()
    return _DIALECT_ALIASES.get(d, d)


def sql_effects(
    sql: str,
    *,
    dialect: str | None,
    environment: str | None,
    evidence: str,
    via: tuple[str, ...] = (),
    tool: str | None = None,
    extra: Mapping[str, AttrValue] | None = None,
) -> list[Effect]:
    """The database effects of running every statement in ``sql``.

    ``extra`` attributes (host, database, remote, ...) are added to every effect; the
    analysis's own attributes win on a clash.
    """
    base: dict[str, AttrValue] = dict(extra or {})
    common: dict[str, AttrValue] = {"environment": environment, "tool": tool}
    if len(sql) > MAX_SQL_BYTES or len(sql.encode("utf-8", "surrogatepass")) > MAX_SQL_BYTES:
        attrs = {
            **base,
            **common,
            "reason": "SQL text exceeds 1 MiB",
            "size": len(sql),
            "limit": MAX_SQL_BYTES,
        }
        return [Effect("analysis.limit", attrs, evidence, via)]
    d = normalize_dialect(dialect)
    statements, metas = split_statements(sql, d)
    found = _Found()
    for st in statements:
        _statement(st.text, st.code, d, found, 0)
        if st.meta == "\\gexec":
            _gexec(st, d, found)
    effects = [Effect(kind, {**base, **attrs, **common}, evidence, via) for kind, attrs in found.items]
    for meta in metas:
        if _SHELL_META.match(meta):
            attrs = {
                **base,
                **common,
                "reason": "a SQL client meta-command runs a shell command",
                "command": _clip(meta),
            }
            effects.append(Effect("opaque_exec", attrs, evidence, via))
    return effects


_SHELL_META = re.compile(r"^(?:\\!|\\system\b|\.shell\b|\.system\b|\\setenv\b.*\bPAGER\b)", re.I)


def _gexec(st: Statement, dialect: str | None, found: _Found) -> None:
    """``query \\gexec`` runs every value the query returns as SQL."""
    before = found.gated
    _dynamic(st.text, dialect, found, 0)
    if found.gated == before:
        found.add(
            "db.query",
            {
                "statement": "\\gexec",
                "write": True,
                "parsed": False,
                "generated": True,
                "sql": _clip(st.text),
            },
        )


class LazyRegex:
    """A regular expression compiled on first use, so importing this module stays cheap."""

    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def _re(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return self._compiled

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self._re().search(text, pos)

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self._re().match(text, pos)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self._re().finditer(text)


_SQL_SHAPE = LazyRegex(
    r"""(?:^|[;\n(])[ \t]*(?:
        SELECT\s+(?:DISTINCT\s+|TOP\s+\d+\s+|ALL\s+)?(?:\*|\d|'|"|\(|[\w."`\[\]]+\s*(?:,|\(|$|;|\bAS\b|\bFROM\b))
      | SELECT\s[^;\n]{0,400}?\bFROM\s+[\w."`\[]
      | WITH\s+(?:RECURSIVE\s+)?[\w"`]+\s*(?:\([^)]{0,200}\)\s*)?AS\s*(?:NOT\s+)?(?:MATERIALIZED\s+)?\(
      | INSERT\s+(?:IGNORE\s+|OR\s+\w+\s+)?INTO\s
      | INSERT\s+OVERWRITE\b
      | (?:REPLACE|UPSERT)\s+INTO\s
      | UPDATE\s+(?:ONLY\s+)?[\w."`\[\]]+\s+(?:(?:AS\s+)?\w+\s+)?SET\s
      | DELETE\s+(?:[\w.]+\s+)?FROM\s+[\w."`\[]
      | TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?[\w."`\[\]]+\s*(?:$|;|,|\bCASCADE\b|\bRESTART\b|\bRESTRICT\b)
      | DROP\s+(?:TEMP(?:ORARY)?\s+|MATERIALIZED\s+|EXTERNAL\s+)?(?:TABLE|DATABASE|SCHEMA|VIEW|INDEX|SEQUENCE|
                 FUNCTION|PROCEDURE|TRIGGER|TYPE|USER|ROLE|OWNED|KEYSPACE|EXTENSION|DOMAIN|COLLECTION)\b
      | ALTER\s+(?:TABLE|DATABASE|SCHEMA|USER|ROLE|VIEW|INDEX|SEQUENCE|TYPE|DEFAULT\s+PRIVILEGES|SYSTEM)\b
      | CREATE\s+(?:OR\s+REPLACE\s+)?(?:UNIQUE\s+|TEMP(?:ORARY)?\s+|MATERIALIZED\s+|UNLOGGED\s+)?
                 (?:TABLE|DATABASE|SCHEMA|VIEW|INDEX|SEQUENCE|FUNCTION|PROCEDURE|TRIGGER|TYPE|USER|ROLE|EXTENSION)\b
      | GRANT\s+[\w ,()]{1,200}?\s(?:ON|TO)\s
      | REVOKE\s+[\w ,()]{1,200}?\s(?:ON|FROM)\s
      | MERGE\s+INTO\s
      | EXPLAIN\s+(?:ANALYZE\s+|QUERY\s+PLAN\s+|\()?(?:SELECT|INSERT|UPDATE|DELETE|WITH)\b
      | SHOW\s+(?:TABLES|DATABASES|SCHEMAS|COLUMNS|INDEX|CREATE|GRANTS|PROCESSLIST|VARIABLES|STATUS)\b
      | (?:DESCRIBE|DESC)\s+[\w."`]+\s*(?:;|$)
      | PRAGMA\s+\w+
      | VACUUM\b\s*(?:FULL\b|ANALYZE\b|\w+\s*)?(?:;|$)
      | COPY\s+[\w.]+\s*(?:\([^)]{0,400}\)\s*)?(?:FROM|TO)\s
      | (?:BEGIN|START\s+TRANSACTION|COMMIT)\s*(?:;|$)
      | DO\s+\$\w*\$
      | EXEC(?:UTE)?\s+(?:IMMEDIATE\s|sp_\w+|\w+\s*\()
    )""",
    re.I | re.X | re.M,
)


def looks_like_sql(text: str) -> bool:
    """Whether ``text`` reads as SQL statements (regex only; no parser import)."""
    if not text or len(text) < 6:
        return False
    return _SQL_SHAPE.search(text[:65536]) is not None


# -- migration files -------------------------------------------------------------------------

_MIGRATION_SQL = LazyRegex(
    r"(?:^|/)(?:migrations?|migrate|db/migration|versions|changelogs?|changesets?|schema_migrations|"
    r"sql/migrations|deploy|up)/(?:[^/]+/)*[^/]+\.sql$",
    re.I,
)
_DOWN_SQL = LazyRegex(r"(?:^|/)(?:revert|verify|down|rollback)/|\.down\.sql$|(?:^|/)down\.sql$|(?:^|/)U\d[^/]*__", re.I)
_DJANGO = LazyRegex(r"(?:^|/)migrations/\d{4}_[^/]*\.py$")
_ALEMBIC = LazyRegex(r"(?:^|/)(?:alembic|migrations?|db|database)/versions/[^/]+\.py$")
_RAILS = LazyRegex(r"(?:^|/)db/(?:migrate|[\w-]+_migrate)/[^/]+\.rb$")
_JS = LazyRegex(r"(?:^|/)(?:migrations?|migration)/(?:[^/]+/)*[^/]+\.(?:js|ts|mjs|cjs|mts|cts)$", re.I)
_ECTO = LazyRegex(r"(?:^|/)priv/(?:[^/]+/)*migrations/[^/]+\.exs$")
_LARAVEL = LazyRegex(r"(?:^|/)database/migrations/[^/]+\.php$")

_SQL_DOWN_MARKER = LazyRegex(r"^\s*--\s*(?:\+goose\s+Down|migrate:down|\+migrate\s+Down|rollback\b)", re.I | re.M)


def migration_framework(path: str) -> str | None:
    """Which migration tool a file path belongs to, or None when it is not a migration."""
    p = path.replace("\\", "/")
    if p.lower().endswith(".sql"):
        if _DOWN_SQL.search(p):
            return None
        if "prisma/migrations/" in p:
            return "prisma"
        return "sql" if _MIGRATION_SQL.search(p) else None
    if _DJANGO.search(p):
        return "django"
    if _ALEMBIC.search(p):
        return "alembic"
    if _RAILS.search(p):
        return "rails"
    if _ECTO.search(p):
        return "ecto"
    if _LARAVEL.search(p):
        return "laravel"
    if _JS.search(p):
        return "js"
    return None


def migration_file_effects(
    path: str,
    content: str,
    *,
    evidence: str | None = None,
    via: tuple[str, ...] = (),
    tool: str | None = None,
) -> list[Effect]:
    """Destructive or privilege-changing operations in a migration file being written.

    Only the forward part is scanned (``downgrade()``, ``def down``, ``-- +goose Down`` and
    revert scripts undo a migration and are ordinary). Effects carry
    ``migration_file=True``, ``file`` and ``framework``, and no environment.
    """
    framework = migration_framework(path)
    if framework is None or not content:
        return []
    ev = evidence or f"write {path}"
    extra: dict[str, AttrValue] = {"migration_file": True, "file": path, "framework": framework}
    if len(content) > MAX_SQL_BYTES:
        return [
            Effect(
                "analysis.limit",
                {
                    **extra,
                    "reason": "migration file exceeds 1 MiB",
                    "size": len(content),
                    "environment": None,
                    "tool": tool,
                },
                ev,
                via,
            )
        ]
    out: list[Effect] = []
    if framework in ("sql", "prisma"):
        down = _SQL_DOWN_MARKER.search(content)
        out = _sql_in_file(content[: down.start()] if down else content, extra, ev, via, tool)
    elif framework in ("alembic", "django"):
        out = _python_migration(content, framework, extra, ev, via, tool)
    else:
        out = _code_migration(content, framework, extra, ev, via, tool)
    return out


def _sql_in_file(
    sql: str, extra: dict[str, AttrValue], ev: str, via: tuple[str, ...], tool: str | None
) -> list[Effect]:
    effects = sql_effects(sql, dialect=None, environment=None, evidence=ev, via=via, tool=tool, extra=extra)
    return [e for e in effects if e.kind != "db.query"]


def _file_effect(
    statement: str,
    object_type: str,
    objects: tuple[str, ...],
    extra: dict[str, AttrValue],
    ev: str,
    via: tuple[str, ...],
    tool: str | None,
    operation: str,
) -> Effect:
    attrs = {
        **extra,
        **_destructive(statement, object_type, objects, operation),
        "operation": operation,
        "environment": None,
        "tool": tool,
    }
    return Effect("db.destructive", attrs, ev, via)


_ALEMBIC_OPS = {
    "drop_table": ("DROP TABLE", "table"),
    "drop_column": ("ALTER TABLE DROP COLUMN", "column"),
    "drop_constraint": ("ALTER TABLE DROP CONSTRAINT", "constraint"),
    "drop_index": ("DROP INDEX", "index"),
}
_DJANGO_OPS = {
    "DeleteModel": ("DROP TABLE", "table"),
    "RemoveField": ("ALTER TABLE DROP COLUMN", "column"),
    "RemoveConstraint": ("ALTER TABLE DROP CONSTRAINT", "constraint"),
}


def _python_migration(
    content: str, framework: str, extra: dict[str, AttrValue], ev: str, via: tuple[str, ...], tool: str | None
) -> list[Effect]:
    import ast

    try:
        module = ast.parse(content)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        cut = re.search(r"^\s*def\s+downgrade\b", content, re.M)
        return _code_migration(content[: cut.start()] if cut else content, framework, extra, ev, via, tool)
    out: list[Effect] = []
    if framework == "alembic":
        roots: list[ast.AST] = [
            n for n in module.body if isinstance(n, ast.FunctionDef) and n.name.startswith("upgrade")
        ]
        for root in roots:
            for node in ast.walk(root):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    spec = _ALEMBIC_OPS.get(node.func.attr)
                    if spec:
                        names = tuple(_const_str(a) for a in node.args[:2] if _const_str(a))
                        out.append(_file_effect(spec[0], spec[1], names, extra, ev, via, tool, f"op.{node.func.attr}"))
                elif isinstance(node, ast.Constant) and isinstance(node.value, str) and looks_like_sql(node.value):
                    out.extend(_sql_in_file(node.value, extra, ev, via, tool))
        return out
    for node in ast.walk(module):
        if not isinstance(node, ast.Call):
            continue
        fname = (
            node.func.attr
            if isinstance(node.func, ast.Attribute)
            else (node.func.id if isinstance(node.func, ast.Name) else "")
        )
        spec = _DJANGO_OPS.get(fname)
        if spec:
            names = tuple(s for s in (_const_str(a) for a in [*node.args, *(k.value for k in node.keywords)]) if s)
            out.append(_file_effect(spec[0], spec[1], names[:3], extra, ev, via, tool, f"migrations.{fname}"))
        elif fname == "RunSQL":
            sql_arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "sql"), None)
            for text in _const_strs(sql_arg):
                out.extend(_sql_in_file(text, extra, ev, via, tool))
    return out


def _const_str(node: ast.AST | None) -> str:
    import ast

    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""


def _const_strs(node: ast.AST | None) -> list[str]:
    import ast

    if isinstance(node, ast.List | ast.Tuple):
        out: list[str] = []
        for elt in node.elts:
            out.extend(_const_strs(elt))
        return out
    s = _const_str(node)
    return [s] if s else []


_DOWN_DEF = {
    "rails": LazyRegex(r"^[ \t]*def[ \t]+(?:self\.)?down\b", re.M),
    "ecto": LazyRegex(r"^[ \t]*def[ \t]+down\b", re.M),
    "laravel": LazyRegex(r"\bfunction[ \t]+down[ \t]*\(", re.M),
    "js": LazyRegex(
        r"(?:\bexports\.down\s*=|\bexport\s+(?:async\s+)?function\s+down\b|\b(?:public\s+|private\s+)?async\s+down\s*\(|"
        r"^\s*down\s*\(|\bdown\s*:\s*(?:async\s*)?(?:function\b|\())",
        re.M,
    ),
    "alembic": LazyRegex(r"^[ \t]*def[ \t]+downgrade\b", re.M),
    "django": LazyRegex(r"(?!)"),
}
_UP_DEF = {
    "rails": LazyRegex(r"^[ \t]*def[ \t]+(?:self\.)?(?:up|change)\b", re.M),
    "ecto": LazyRegex(r"^[ \t]*def[ \t]+(?:up|change)\b", re.M),
    "laravel": LazyRegex(r"\bfunction[ \t]+up[ \t]*\(", re.M),
    "js": LazyRegex(
        r"(?:\bexports\.up\s*=|\bexport\s+(?:async\s+)?function\s+up\b|\b(?:public\s+|private\s+)?async\s+up\s*\(|"
        r"^\s*up\s*\(|\bup\s*:\s*(?:async\s*)?(?:function\b|\())",
        re.M,
    ),
    "alembic": LazyRegex(r"^[ \t]*def[ \t]+upgrade\b", re.M),
    "django": LazyRegex(r"(?!)"),
}
_CODE_OPS: dict[str, list[tuple[LazyRegex, str, str]]] = {
    "rails": [
        (LazyRegex(r"\b(?:drop_table|drop_join_table)\b\s*\(?\s*:?[\"']?(\w*)"), "DROP TABLE", "table"),
        (
            LazyRegex(
                r"\b(?:remove_column|remove_columns|remove_reference|remove_belongs_to|remove_timestamps)\b"
                r"\s*\(?\s*:?[\"']?(\w*)"
            ),
            "ALTER TABLE DROP COLUMN",
            "column",
        ),
        (LazyRegex(r"\bt\.remove\b\s*\(?\s*:?[\"']?(\w*)"), "ALTER TABLE DROP COLUMN", "column"),
    ],
    "ecto": [
        (LazyRegex(r"\bdrop(?:_if_exists)?\s*\(?\s*table\s*\(\s*:?\"?(\w*)"), "DROP TABLE", "table"),
        (LazyRegex(r"^\s*remove\s+:(\w+)", re.M), "ALTER TABLE DROP COLUMN", "column"),
    ],
    "laravel": [
        (
            LazyRegex(r"Schema::(?:drop|dropIfExists|dropAllTables)\s*\(\s*['\"]?(\w*)"),
            "DROP TABLE",
            "table",
        ),
        (
            LazyRegex(
                r"->(?:dropColumn|dropColumns|dropTimestamps|dropSoftDeletes|dropMorphs)\s*\(\s*\[?\s*['\"]?(\w*)"
            ),
            "ALTER TABLE DROP COLUMN",
            "column",
        ),
    ],
    "js": [
        (
            LazyRegex(
                r"\.(?:dropTable|dropTableIfExists|dropAllTables|dropSchema|dropSchemaIfExists)\s*\(\s*['\"`]?([\w.]*)"
            ),
            "DROP TABLE",
            "table",
        ),
        (
            LazyRegex(r"\.(?:dropColumn|dropColumns|removeColumn)\s*\(\s*['\"`]?([\w.]*)"),
            "ALTER TABLE DROP COLUMN",
            "column",
        ),
        (
            LazyRegex(r"\bqueryInterface\.bulkDelete\s*\(\s*['\"`]?([\w.]*)['\"`]?\s*,\s*(?:null|\{\s*\}|undefined)"),
            "DELETE",
            "rows",
        ),
    ],
    "alembic": [
        (LazyRegex(r"\bop\.drop_table\s*\(\s*['\"]?(\w*)"), "DROP TABLE", "table"),
        (
            LazyRegex(r"\b(?:op|batch_op)\.drop_column\s*\(\s*['\"]?(\w*)"),
            "ALTER TABLE DROP COLUMN",
            "column",
        ),
    ],
    "django": [
        (LazyRegex(r"\bmigrations\.DeleteModel\s*\(\s*(?:name\s*=\s*)?['\"]?(\w*)"), "DROP TABLE", "table"),
        (
            LazyRegex(r"\bmigrations\.RemoveField\s*\(\s*(?:model_name\s*=\s*)?['\"]?(\w*)"),
            "ALTER TABLE DROP COLUMN",
            "column",
        ),
    ],
}
_CODE_STRINGS = LazyRegex(
    r'"""(.*?)"""|\'\'\'(.*?)\'\'\'|`([^`]*)`|"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'|'
    r"<<[~-]?['\"]?(\w+)['\"]?[^\n]*\n(.*?)^\s*\6\b|<<<['\"]?(\w+)['\"]?\n(.*?)^\s*\8\b",
    re.S | re.M,
)


def _forward_part(content: str, framework: str) -> str:
    """The text of a code migration without its ``down`` part."""
    down = _DOWN_DEF.get(framework)
    if down is None:
        return content
    d = down.search(content)
    if d is None:
        return content
    up = _UP_DEF[framework]
    after = up.search(content, d.end())
    return content[: d.start()] + (content[after.start() :] if after else "")


def _code_migration(
    content: str, framework: str, extra: dict[str, AttrValue], ev: str, via: tuple[str, ...], tool: str | None
) -> list[Effect]:
    text = _forward_part(content, framework)
    out: list[Effect] = []
    for pattern, statement, object_type in _CODE_OPS.get(framework, []):
        for m in pattern.finditer(text):
            name = m.group(1) if m.groups() else ""
            out.append(
                _file_effect(
                    statement,
                    object_type,
                    (name,) if name else (),
                    extra,
                    ev,
                    via,
                    tool,
                    " ".join(m.group().split())[:80],
                )
            )
    for m in _CODE_STRINGS.finditer(text):
        body = next((g for i, g in enumerate(m.groups()) if g is not None and i not in (5, 7)), None)
        if body and looks_like_sql(body):
            out.extend(_sql_in_file(body, extra, ev, via, tool))
    return out
