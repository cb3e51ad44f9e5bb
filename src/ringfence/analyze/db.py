"""Database clients and migration tools → database effects.

What this module understands (never running anything; it only reads SQL files a client
would read):

- **SQL clients**: ``psql`` (``-c``, ``-f``, conninfo/URI), ``mysql``/``mariadb`` (``-e``,
  ``--init-command``), ``sqlite3``/``duckdb`` (SQL arguments, ``-cmd``, ``-c``, ``-init``),
  ``clickhouse-client``/``clickhouse client``/``clickhouse local``, ``sqlcmd`` (``-Q``,
  ``-q``, ``-i``), ``cockroach sql``, ``snowsql``/``snow sql``, ``bq query``/``bq rm``,
  ``cqlsh``, ``wrangler d1``, ``prisma db execute``, ``typeorm query``, ``liquibase
  execute-sql``, and SQL fed on stdin (heredoc, here-string, ``<`` file, a pipe whose
  text is known). The SQL goes to :func:`ringfence.analyze.sql.sql_effects`.
- **Other stores**: ``redis-cli``/``valkey-cli`` ``FLUSHALL``/``FLUSHDB`` (arguments,
  ``EVAL`` scripts, stdin), ``mongo``/``mongosh`` scripts (``dropDatabase()``,
  ``.drop()``, ``deleteMany({})``, user/role changes), ``mongorestore --drop``,
  ``pg_restore --clean``, ``dropdb``, ``dropuser``/``createuser``, ``mysqladmin drop``.
- **Frameworks and migration tools**: prisma, rails/rake, Django ``manage.py``,
  alembic, Flask-Migrate, knex, sequelize, typeorm, flyway, liquibase, atlas, goose,
  dbmate, golang-migrate, sqitch, supabase, drizzle-kit, mix (Ecto), Laravel artisan.
  Resets, drops and full rollbacks are ``db.destructive`` (``framework``,
  ``operation``); forward migrations are ``db.migrate`` (``direction`` ``up``), single
  rollbacks ``db.migrate`` (``direction`` ``down``).
- **Environment**: host options, connection URIs and conninfo strings, ``PGHOST``/
  ``DATABASE_URL``-style variables, ``RAILS_ENV``/``NODE_ENV``/``MIX_ENV``/``APP_ENV``-style
  variables and ``--env`` flags, database names (``app_production``), the remote host a
  command runs on. Local hosts are development; local SQLite/DuckDB files are
  development (``local=True``) unless the action's environment says otherwise;
  Rails, Ecto, knex and sequelize default to development like the tools themselves.
  Effects carry ``host`` and ``database`` when known.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ringfence.analyze.command import Command
from ringfence.analyze.context import Context
from ringfence.analyze.registry import effect
from ringfence.analyze.sql import MAX_SQL_BYTES, LazyRegex, looks_like_sql, sql_effects
from ringfence.model import AttrValue, Effect


def _names(text: str) -> frozenset[str]:
    """A set of names written as one space-separated string (keeps long tables compact)."""
    return frozenset(text.split())


_PYTHONS = frozenset({"python", "python3", "python2", *(f"python3.{i}" for i in range(6, 16))})

COMMANDS: frozenset[str] | None = _PYTHONS | _names(
    "psql mysql mariadb sqlite3 sqlite duckdb clickhouse-client clickhouse sqlcmd cockroach snowsql "
    "snow bq cqlsh redis-cli valkey-cli keydb-cli mongo mongosh mongorestore pg_restore dropdb "
    "dropuser createuser mysqladmin prisma rails rake manage.py django-admin flask alembic knex "
    "sequelize sequelize-cli typeorm typeorm-ts-node-commonjs typeorm-ts-node-esm flyway liquibase "
    "atlas goose dbmate migrate sqitch supabase drizzle-kit mix php artisan wrangler"
)

MAX_FILE_BYTES = MAX_SQL_BYTES
_SEVERITY = {"development": 0, "staging": 1, "production": 2}


# -- argument parsing ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Spec:
    """Which options take a value. ``single``: every ``-word`` is one option (sqlite3, flyway)."""

    short: str = ""
    long: frozenset[str] = frozenset()
    attached: str = ""  # short options whose value can only be attached (mysql -pSECRET)
    single: bool = False


@dataclass(slots=True)
class _Args:
    opts: list[tuple[str, str | None, int]] = field(default_factory=list)  # name, value, argv index of value
    pos: list[tuple[str, int]] = field(default_factory=list)  # word, argv index

    def values(self, *names: str) -> list[str]:
        return [v for n, v, _ in self.opts if n in names and v is not None]

    def indexed(self, *names: str) -> list[tuple[str, int]]:
        return [(v, i) for n, v, i in self.opts if n in names and v is not None]

    def first(self, *names: str) -> str | None:
        vals = self.values(*names)
        return vals[-1] if vals else None

    def has(self, *names: str) -> bool:
        return any(n in names for n, _, _ in self.opts)

    def words(self) -> list[str]:
        return [w for w, _ in self.pos]


def _parse_args(args: Iterable[str], spec: _Spec, offset: int = 1) -> _Args:
    """Split arguments into options and positionals; indexes are argv indexes (``offset`` + i)."""
    words = list(args)
    out = _Args()
    i = 0
    n = len(words)
    while i < n:
        a = words[i]
        idx = i + offset
        if a == "--":
            out.pos.extend((w, j + offset) for j, w in enumerate(words[i + 1 :], start=i + 1))
            break
        if spec.single and a.startswith("-") and len(a) > 1:
            name, eq, val = a.lstrip("-").partition("=")
            if eq:
                out.opts.append((name, val, idx))
            elif name in spec.long or (len(name) == 1 and name in spec.short):
                out.opts.append((name, words[i + 1] if i + 1 < n else None, idx + 1))
                i += 1
            elif len(name) > 1 and name[0] in spec.short and name not in spec.long:
                out.opts.append((name[0], name[1:], idx))
            else:
                out.opts.append((name, None, idx))
        elif a.startswith("--") and len(a) > 2:
            name, eq, val = a[2:].partition("=")
            if eq:
                out.opts.append((name, val, idx))
            elif name in spec.long:
                out.opts.append((name, words[i + 1] if i + 1 < n else None, idx + 1))
                i += 1
            else:
                out.opts.append((name, None, idx))
        elif a.startswith("-") and len(a) > 1 and not a[1].isdigit():
            j = 1
            while j < len(a):
                ch = a[j]
                if ch in spec.attached:
                    out.opts.append((ch, a[j + 1 :] or None, idx))
                    break
                if ch in spec.short:
                    if j + 1 < len(a):
                        out.opts.append((ch, a[j + 1 :], idx))
                    else:
                        out.opts.append((ch, words[i + 1] if i + 1 < n else None, idx + 1))
                        i += 1
                    break
                out.opts.append((ch, None, idx))
                j += 1
        else:
            out.pos.append((a, idx))
        i += 1
    return out


# -- environment -------------------------------------------------------------------------------

_LOCAL_HOSTS = _names("localhost 127.0.0.1 ::1 0.0.0.0 host.docker.internal (local) .")
_HOST_VARS = (
    "PGHOST",
    "PGHOSTADDR",
    "MYSQL_HOST",
    "DB_HOST",
    "DATABASE_HOST",
    "REDIS_HOST",
    "CLICKHOUSE_HOST",
    "MONGO_HOST",
    "POSTGRES_HOST",
    "MYSQL_TCP_HOST",
)
_DB_VARS = ("PGDATABASE", "MYSQL_DATABASE", "DB_NAME", "DATABASE_NAME", "POSTGRES_DB")
_APP_ENV_VARS = (
    "RAILS_ENV",
    "RACK_ENV",
    "NODE_ENV",
    "APP_ENV",
    "MIX_ENV",
    "FLASK_ENV",
    "DJANGO_ENV",
    "ENVIRONMENT",
    "ENV",
    "STAGE",
    "ASPNETCORE_ENVIRONMENT",
    "DOTNET_ENVIRONMENT",
    "SPRING_PROFILES_ACTIVE",
    "DJANGO_SETTINGS_MODULE",
    "FLYWAY_ENVIRONMENT",
)
_URL_VAR = re.compile(r"(?:^|_)(?:URL|URI|DSN|DBSTRING|CONNECTION_STRING|CONN)$")
_PROD_TOKENS = _names("prod production prd live")
_STAGING_TOKENS = _names("staging stage stg preprod uat")
_DEV_TOKENS = _names("dev development test testing local sandbox")
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_CONNINFO_HOST = re.compile(r"(?:^|[\s;])(?:host|hostaddr|server|data\s+source|addr|address)\s*=\s*'?([^\s;']+)", re.I)
_CONNINFO_DB = re.compile(r"(?:^|[\s;])(?:dbname|database|initial\s+catalog)\s*=\s*'?([^\s;']+)", re.I)


@dataclass(slots=True)
class _Target:
    """Where a command's statements go: hosts, database names and app environment names."""

    hosts: list[str] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)
    apps: list[str] = field(default_factory=list)
    local: bool = False

    def add_url(self, value: str | None) -> bool:
        parsed = _parse_url(value) if value else None
        if parsed is None:
            return False
        host, db = parsed
        if host:
            self.hosts.append(host)
        if db:
            self.databases.append(db)
        return True

    def add_host(self, value: str | None) -> None:
        if value and not self.add_url(value):
            self.hosts.append(value)

    def add_db(self, value: str | None) -> None:
        if value and not self.add_url(value):
            self.databases.append(value)

    def attrs(self) -> dict[str, AttrValue]:
        out: dict[str, AttrValue] = {}
        if self.hosts:
            out["host"] = self.hosts[0]
        if self.databases:
            out["database"] = self.databases[0]
        if self.local:
            out["local"] = True
        return out


def _parse_url(value: str) -> tuple[str | None, str | None] | None:
    """(host, database) of a connection URI or conninfo string, or None if it is neither."""
    from urllib.parse import urlsplit

    v = value.strip()
    if v.lower().startswith("jdbc:"):
        v = v[5:]
    if "://" in v:
        try:
            parts = urlsplit(v)
        except ValueError:
            return None
        scheme = parts.scheme.lower()
        if scheme.startswith(("sqlite", "file", "duckdb")):
            return ("localhost", parts.path or None)
        netloc = parts.netloc.rsplit("@", 1)[-1].split(";", 1)[0].split(",", 1)[0]
        host = netloc[1:].split("]", 1)[0] if netloc.startswith("[") else netloc.rsplit(":", 1)[0]
        db = parts.path.lstrip("/").split("/", 1)[0] or None
        if db is None and ";" in parts.netloc:
            m = _CONNINFO_DB.search(";" + parts.netloc.split(";", 1)[1])
            db = m.group(1) if m else None
        return (host or None, db)
    m = _CONNINFO_HOST.search(v)
    d = _CONNINFO_DB.search(v)
    if m or d:
        return (m.group(1) if m else None, d.group(1) if d else None)
    return None


def _is_local(host: str) -> bool:
    h = host.strip().lower()
    if h.startswith(("tcp:", "np:", "lpc:")):
        h = h.split(":", 1)[1]
    h = h.split(",", 1)[0].split("\\", 1)[0]
    return h in _LOCAL_HOSTS or h.startswith(("127.", "/")) or h == ""


def _match(ctx: Context, domain: str, name: str) -> str | None:
    """The environment ``name`` maps to by configuration or default patterns (no fallback)."""
    probe = dataclasses.replace(ctx, environment=None)
    return probe.environment_for(domain, name)


def _db_name_env(name: str) -> str | None:
    tokens = set(_TOKEN_SPLIT.split(posixpath.basename(name).lower()))
    if tokens & _PROD_TOKENS:
        return "production"
    if tokens & _STAGING_TOKENS:
        return "staging"
    if tokens & _DEV_TOKENS:
        return "development"
    return None


def _signals(cmd: Command, target: _Target, *, app_vars: Iterable[str] = _APP_ENV_VARS) -> _Target:
    """Add what ``cmd.env`` says about the target (host, URL, database and app env variables)."""
    env = cmd.env
    for var in _HOST_VARS:
        if env.get(var):
            target.add_host(env[var])
    for var, value in env.items():
        if value and _URL_VAR.search(var):
            target.add_url(value)
    for var in _DB_VARS:
        if env.get(var):
            target.databases.append(env[var])
    for var in app_vars:
        if env.get(var):
            target.apps.append(env[var])
    return target


def _environment(ctx: Context, cmd: Command, target: _Target, default: str | None = None) -> str | None:
    """The most severe environment any signal names; else the action's; else ``default``."""
    found: list[str] = []
    for host in target.hosts:
        if _is_local(host):
            if cmd.remote is None:
                found.append("development")
            continue
        env = _match(ctx, "db_host", host)
        if env:
            found.append(env)
    if cmd.remote:
        env = _match(ctx, "db_host", cmd.remote)
        if env:
            found.append(env)
    for name in target.databases:
        env = _db_name_env(name)
        if env:
            found.append(env)
    for app in target.apps:
        env = _match(ctx, "app", app)
        if env:
            found.append(env)
    known = [e for e in found if e in _SEVERITY]
    if known:
        return max(known, key=lambda e: _SEVERITY[e])
    if ctx.environment:
        return ctx.environment
    return default


# -- building effects ------------------------------------------------------------------------


def _extra(cmd: Command, target: _Target, **more: AttrValue) -> dict[str, AttrValue]:
    out = target.attrs()
    if cmd.remote is not None:
        out["remote"] = cmd.remote
    out.update(more)
    return out


def _sql(
    cmd: Command, sql: str, *, dialect: str | None, env: str | None, tool: str, extra: dict[str, AttrValue]
) -> list[Effect]:
    return sql_effects(
        sql, dialect=dialect, environment=env, evidence=cmd.evidence, via=cmd.via, tool=tool, extra=extra
    )


def _unknown(
    cmd: Command, env: str | None, tool: str, extra: dict[str, AttrValue], source: str, **more: AttrValue
) -> Effect:
    return effect(
        "db.query",
        cmd,
        **extra,
        unknown_sql=True,
        source=source,
        write=None,
        environment=env,
        tool=tool,
        **more,
    )


def _read(ctx: Context, cmd: Command, path: str) -> tuple[str | None, bool]:
    """The text of a file a client would read (bounded); (None, too_large) when not readable.

    Only regular files are opened: a FIFO, ``/dev/stdin`` or ``/dev/fd/N`` could block or
    read the hook's own input.
    """
    full = ctx.resolve(path, cmd.cwd or None)
    ctx.fs_reads += 1
    try:
        info = os.stat(full)
        if not stat.S_ISREG(info.st_mode):
            return None, False
        if info.st_size > MAX_FILE_BYTES:
            return None, True
        with open(full, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError):
        return None, False
    if len(data) > MAX_FILE_BYTES:
        return None, True
    return data.decode("utf-8", "replace"), False


@dataclass(frozen=True, slots=True)
class _Source:
    kind: str  # "sql" or "file"
    value: str
    index: int


def _run_sources(
    ctx: Context,
    cmd: Command,
    sources: list[_Source],
    *,
    dialect: str | None,
    env: str | None,
    tool: str,
    extra: dict[str, AttrValue],
    stdin: bool = True,
) -> Iterator[Effect]:
    """Effects of the SQL a client runs: its arguments and files, else what it reads on stdin."""
    for src in sources:
        if src.kind == "file" and src.value != "-":
            text, too_large = _read(ctx, cmd, src.value)
            if text is None:
                more: dict[str, AttrValue] = {"too_large": True} if too_large else {}
                yield _unknown(cmd, env, tool, extra, "file", file=src.value, **more)
            else:
                yield from _sql(cmd, text, dialect=dialect, env=env, tool=tool, extra={**extra, "file": src.value})
        elif src.kind == "file":
            yield from _stdin(ctx, cmd, dialect=dialect, env=env, tool=tool, extra=extra)
        else:
            found = _sql(cmd, src.value, dialect=dialect, env=env, tool=tool, extra=extra)
            if cmd.is_dynamic(src.index):
                found = [dataclasses.replace(e, attrs={**e.attrs, "dynamic": True}) for e in found]
                if not any(e.kind in ("db.destructive", "db.privilege") for e in found):
                    found = [e for e in found if e.kind != "db.query"]
                    found.append(_unknown(cmd, env, tool, extra, "dynamic"))
            yield from found
    if not sources and stdin:
        yield from _stdin(ctx, cmd, dialect=dialect, env=env, tool=tool, extra=extra)


def _stdin(
    ctx: Context,
    cmd: Command,
    *,
    dialect: str | None,
    env: str | None,
    tool: str,
    extra: dict[str, AttrValue],
) -> Iterator[Effect]:
    if cmd.stdin is not None:
        yield from _sql(cmd, cmd.stdin, dialect=dialect, env=env, tool=tool, extra=extra)
        return
    inputs = [r.target for r in cmd.redirects if r.op in ("<", "<>")]
    if inputs:
        text, too_large = _read(ctx, cmd, inputs[-1])
        if text is not None:
            yield from _sql(cmd, text, dialect=dialect, env=env, tool=tool, extra={**extra, "file": inputs[-1]})
        else:
            more: dict[str, AttrValue] = {"too_large": True} if too_large else {}
            yield _unknown(cmd, env, tool, extra, "file", file=inputs[-1], **more)
        return
    if cmd.stdin_from:
        yield _unknown(cmd, env, tool, extra, "pipe", producers=tuple(cmd.stdin_from))
        return
    yield _unknown(cmd, env, tool, extra, "interactive")


def _framework(
    cmd: Command, kind: str, framework: str, operation: str, env: str | None, tgt: _Target, **attrs: AttrValue
) -> Effect:
    base = _extra(cmd, tgt)
    base.update(attrs)
    return effect(kind, cmd, framework=framework, operation=operation, environment=env, tool=cmd.name, **base)


def _destroy(
    cmd: Command,
    framework: str,
    operation: str,
    env: str | None,
    tgt: _Target,
    statement: str = "RESET DATABASE",
    object_type: str = "database",
    **attrs: AttrValue,
) -> Effect:
    objects = tuple(tgt.databases[:1])
    return _framework(
        cmd,
        "db.destructive",
        framework,
        operation,
        env,
        tgt,
        statement=statement,
        object_type=object_type,
        objects=objects,
        **attrs,
    )


def _migrate(
    cmd: Command,
    framework: str,
    operation: str,
    env: str | None,
    tgt: _Target,
    direction: str | None = "up",
    **attrs: AttrValue,
) -> Effect:
    return _framework(cmd, "db.migrate", framework, operation, env, tgt, direction=direction, **attrs)


def _is_help(args: _Args) -> bool:
    return args.has("help", "version", "V", "?") or any(w in ("help", "--help") for w in args.words()[:1])


# -- SQL clients -----------------------------------------------------------------------------

_PSQL = _Spec(
    short="cdfhpUvoLPFRT",
    long=_names(
        "command dbname file host port username set variable output log-file pset field-separator "
        "record-separator table-attr"
    ),
)


def _psql(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _PSQL)
    if _is_help(a):
        return
    t = _signals(cmd, _Target())
    for h in a.values("h", "host"):
        t.add_host(h)
    for d in [*a.values("d", "dbname"), *a.words()[:1]]:
        t.add_db(d)
    env = _environment(ctx, cmd, t)
    extra = _extra(cmd, t)
    if a.has("l", "list"):
        yield effect("db.query", cmd, **extra, statement="LIST DATABASES", write=False, environment=env, tool="psql")
        return
    sources = [
        _Source("sql" if n in ("c", "command") else "file", v, i)
        for n, v, i in a.opts
        if n in ("c", "command", "f", "file") and v is not None
    ]
    yield from _run_sources(ctx, cmd, sources, dialect="postgres", env=env, tool="psql", extra=extra)


_MYSQL = _Spec(
    short="ehPuDSO",
    attached="p",
    long=_names(
        "execute host port user database socket init-command defaults-file defaults-extra-file "
        "defaults-group-suffix default-character-set protocol tee pager prompt ssl-ca ssl-cert ssl-key "
        "ssl-mode ssl-cipher plugin-dir default-auth login-path connect-timeout max-allowed-packet "
        "net-buffer-length delimiter character-sets-dir bind-address server-public-key-path"
    ),
)


def _mysql(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _MYSQL)
    if _is_help(a):
        return
    t = _signals(cmd, _Target())
    for h in a.values("h", "host"):
        t.add_host(h)
    for d in [*a.values("D", "database"), *a.words()[:1]]:
        t.add_db(d)
    env = _environment(ctx, cmd, t)
    sources = [_Source("sql", v, i) for n, v, i in a.opts if n in ("e", "execute", "init-command") and v is not None]
    yield from _run_sources(ctx, cmd, sources, dialect="mysql", env=env, tool=cmd.name, extra=_extra(cmd, t))


_SQLITE = _Spec(
    single=True,
    long=_names("cmd init separator nullvalue newline mmap lookaside pagecache heap maxsize vfs escape c s f"),
)


def _sqlite(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _SQLITE)
    if a.has("help", "version"):
        return
    is_duck = cmd.name == "duckdb"
    words = a.pos
    dbfile = words[0][0] if words else None
    t = _signals(cmd, _Target(), app_vars=())
    if dbfile and re.match(r"^(?:md|motherduck|s3|gs|gcs|https?|az|azure|r2|hf):", dbfile, re.I):
        t.hosts.append(dbfile.split("?", 1)[0])
    elif dbfile is None or dbfile in (":memory:", ""):
        t.local = True
    else:
        t.local = True
        t.databases.append(ctx.resolve(dbfile, cmd.cwd or None))
    env = _environment(ctx, cmd, t)
    if env is None and t.local:
        env = "development"
    sources: list[_Source] = []
    for n, v, i in a.opts:
        if v is None:
            continue
        if n in ("cmd", "c", "s"):
            sources.append(_Source("sql", v, i))
        elif n in ("init", "f"):
            sources.append(_Source("file", v, i))
    sources.extend(_Source("sql", w, i) for w, i in words[1:])
    extra = _extra(cmd, t, readonly=True) if a.has("readonly") else _extra(cmd, t)
    dialect = "duckdb" if is_duck else "sqlite"
    yield from _run_sources(ctx, cmd, sources, dialect=dialect, env=env, tool=cmd.name, extra=extra)


_CLICKHOUSE = _Spec(
    short="qhduCfc",
    long=_names(
        "query host port user password database config-file config format queries-file history_file "
        "connection secure-port jwt ssh-key-file"
    ),
)


def _clickhouse(cmd: Command, ctx: Context) -> Iterator[Effect]:
    args = list(cmd.args)
    offset = 1
    local = False
    if cmd.name == "clickhouse":
        if not args or args[0] not in ("client", "local"):
            return
        local = args[0] == "local"
        args = args[1:]
        offset = 2
    a = _parse_args(args, _CLICKHOUSE, offset)
    if _is_help(a):
        return
    t = _signals(cmd, _Target())
    for h in a.values("h", "host"):
        t.add_host(h)
    for d in a.values("d", "database"):
        t.add_db(d)
    t.local = local
    env = _environment(ctx, cmd, t, "development" if local else None)
    sources = [_Source("sql", v, i) for n, v, i in a.opts if n in ("q", "query") and v is not None]
    sources += [_Source("file", v, i) for n, v, i in a.opts if n == "queries-file" and v is not None]
    sources += [_Source("sql", w, i) for w, i in a.pos if looks_like_sql(w)]
    yield from _run_sources(ctx, cmd, sources, dialect="clickhouse", env=env, tool="clickhouse", extra=_extra(cmd, t))


_SQLCMD = _Spec(single=True, short="SdUPQqiolHtvswhafcmVyYzZKMAx", long=frozenset())


def _sqlcmd(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _SQLCMD)
    if a.has("?", "help"):
        return
    t = _signals(cmd, _Target())
    for s in a.values("S"):
        server = re.sub(r"^(?:tcp|np|lpc):", "", s, flags=re.I).split(",", 1)[0].split("\\", 1)[0]
        t.add_host(server)
    for d in a.values("d"):
        t.add_db(d)
    env = _environment(ctx, cmd, t)
    sources: list[_Source] = []
    for n, v, i in a.opts:
        if v is None:
            continue
        if n in ("Q", "q"):
            sources.append(_Source("sql", v, i))
        elif n == "i":
            sources.extend(_Source("file", f, i) for f in v.split(",") if f)
    yield from _run_sources(ctx, cmd, sources, dialect="tsql", env=env, tool="sqlcmd", extra=_extra(cmd, t))


_COCKROACH = _Spec(
    short="edfu",
    long=_names("execute file database user host port url certs-dir format set cluster-name"),
)


def _cockroach(cmd: Command, ctx: Context) -> Iterator[Effect]:
    if not cmd.args or cmd.args[0] != "sql":
        return
    a = _parse_args(cmd.args[1:], _COCKROACH, 2)
    t = _signals(cmd, _Target())
    for h in a.values("host"):
        t.add_host(h.rsplit(":", 1)[0])
    for u in a.values("url"):
        t.add_url(u)
    for d in a.values("d", "database"):
        t.add_db(d)
    env = _environment(ctx, cmd, t)
    sources = [
        _Source("sql" if n in ("e", "execute") else "file", v, i)
        for n, v, i in a.opts
        if n in ("e", "execute", "f", "file") and v is not None
    ]
    yield from _run_sources(ctx, cmd, sources, dialect="postgres", env=env, tool="cockroach", extra=_extra(cmd, t))


_SNOWSQL = _Spec(
    short="qfaudswrcoDx",
    long=_names(
        "query filename accountname username dbname schemaname warehouse rolename connection option "
        "variable config authenticator region host port account user database schema role format "
        "private-key-path temporary-connection"
    ),
)


def _snowflake(cmd: Command, ctx: Context) -> Iterator[Effect]:
    args = list(cmd.args)
    offset = 1
    if cmd.name == "snow":
        if not args or args[0] != "sql":
            return
        args, offset = args[1:], 2
    a = _parse_args(args, _SNOWSQL, offset)
    if _is_help(a):
        return
    t = _signals(cmd, _Target())
    for acct in a.values("a", "accountname", "account", "c", "connection", "host"):
        t.hosts.append(acct)
    for d in a.values("d", "dbname", "database"):
        t.add_db(d)
    env = _environment(ctx, cmd, t)
    sources = [
        _Source("sql" if n in ("q", "query") else "file", v, i)
        for n, v, i in a.opts
        if n in ("q", "query", "f", "filename") and v is not None
    ]
    yield from _run_sources(ctx, cmd, sources, dialect="snowflake", env=env, tool=cmd.name, extra=_extra(cmd, t))


_BQ_VALUE_FLAGS = _names(
    "project_id dataset_id location format destination_table max_rows parameter api apilog job_id "
    "label maximum_bytes_billed schema source_format time_partitioning_field clustering_fields "
    "destination_kms_key service_account bigqueryrc connection_property session_id "
    "external_table_definition job_timeout range_partitioning reservation_id time_partitioning_type "
    "time_partitioning_expiration n headless credential_file httplib2_debuglevel trace "
    "use_gce_service_account field_delimiter encoding skip_leading_rows null_marker priority batch "
    "min_completion_ratio request_id udf_resource default_dataset script_statement_timeout_ms "
    "script_statement_byte_budget destination_schema"
)
_BQ = _Spec(short="n", long=_BQ_VALUE_FLAGS)


def _bq(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _BQ)
    words = a.words()
    if not words:
        return
    sub = words[0]
    rest = a.pos[1:]
    t = _signals(cmd, _Target(), app_vars=())
    project = a.first("project_id")
    for w, _ in rest:
        if ":" in w and not w.startswith(("gs:", "http")):
            project = project or w.split(":", 1)[0]
    if project:
        t.hosts.append(project)
    env = _environment(ctx, cmd, t) if not project else (_match(ctx, "gcloud_project", project) or ctx.environment)
    extra = _extra(cmd, t)
    if a.has("dry_run"):
        return
    if sub == "query":
        if a.has("replace") and a.first("destination_table"):
            dest = a.first("destination_table") or ""
            yield effect(
                "db.destructive",
                cmd,
                **extra,
                statement="REPLACE TABLE",
                object_type="table",
                objects=(dest,),
                schemas=(),
                environment=env,
                tool="bq",
            )
        text = " ".join(w for w, _ in rest)
        if rest:
            dyn = any(cmd.is_dynamic(i) for _, i in rest)
            yield from _run_sources(
                ctx,
                cmd,
                [_Source("sql", text, rest[0][1] if dyn else -1)],
                dialect="bigquery",
                env=env,
                tool="bq",
                extra=extra,
            )
        else:
            yield from _stdin(ctx, cmd, dialect="bigquery", env=env, tool="bq", extra=extra)
    elif sub == "rm" and rest:
        name = rest[0][0]
        dataset = a.has("d", "dataset") or (not a.has("t", "table", "m", "model") and "." not in name.split(":")[-1])
        kind = "dataset" if dataset else ("model" if a.has("m", "model") else "table")
        yield effect(
            "db.destructive",
            cmd,
            **extra,
            statement="DROP SCHEMA" if dataset else "DROP TABLE",
            object_type=kind,
            objects=(name,),
            schemas=(name,) if dataset else (),
            recursive=a.has("r", "recursive"),
            environment=env,
            tool="bq",
        )
    elif sub == "load" and a.has("replace") and rest:
        yield effect(
            "db.destructive",
            cmd,
            **extra,
            statement="REPLACE TABLE",
            object_type="table",
            objects=(rest[0][0],),
            schemas=(),
            environment=env,
            tool="bq",
        )


_CQLSH = _Spec(
    short="efuphk",
    long=_names(
        "execute file username password keyspace cqlshrc cqlversion protocol-version connect-timeout "
        "request-timeout encoding"
    ),
)


def _cqlsh(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _CQLSH)
    if _is_help(a):
        return
    t = _signals(cmd, _Target())
    for w in a.words()[:1]:
        t.add_host(w)
    for k in a.values("k", "keyspace"):
        t.databases.append(k)
    env = _environment(ctx, cmd, t)
    sources = [
        _Source("sql" if n in ("e", "execute") else "file", v, i)
        for n, v, i in a.opts
        if n in ("e", "execute", "f", "file") and v is not None
    ]
    yield from _run_sources(ctx, cmd, sources, dialect=None, env=env, tool="cqlsh", extra=_extra(cmd, t))


# -- redis and mongo -------------------------------------------------------------------------

_REDIS = _Spec(
    short="hpsauriInDdt",
    long=_names(
        "user pass cacert cacertdir cert key sni tls-ciphers tls-ciphersuites eval pattern count "
        "quoted-pattern rdb functions-rdb pipe-timeout memkeys-samples cluster intrinsic-latency lru-test "
        "keystats-samples cursor top"
    ),
)
_REDIS_FLUSH = frozenset({"FLUSHALL", "FLUSHDB"})
_REDIS_SCRIPT_FLUSH = LazyRegex(r"""\bredis\s*\.\s*p?call\s*\(\s*['"](flushall|flushdb)['"]""", re.I)


def _redis(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _REDIS)
    if a.has("help", "version", "v"):
        return
    t = _signals(cmd, _Target(), app_vars=())
    for h in a.values("h"):
        t.add_host(h)
    for u in a.values("u"):
        t.add_url(u)
    env = _environment(ctx, cmd, t)
    extra = _extra(cmd, t)
    db = a.first("n")
    words = a.words()
    found: list[str] = []
    if words:
        head = words[0].upper()
        scan = words if a.has("cluster") else words[:1]
        found += [w.upper() for w in scan if w.upper() in _REDIS_FLUSH]
        if head in ("EVAL", "EVAL_RO", "EVALSHA") and len(words) > 1:
            found += [m.group(1).upper() for m in _REDIS_SCRIPT_FLUSH.finditer(words[1])]
    elif cmd.stdin is not None:
        for line in cmd.stdin.splitlines()[:100000]:
            parts = line.split()
            if parts and parts[0].strip("\"'").upper() in _REDIS_FLUSH:
                found.append(parts[0].strip("\"'").upper())
        found += [m.group(1).upper() for m in _REDIS_SCRIPT_FLUSH.finditer(cmd.stdin)]
    elif cmd.stdin_from:
        yield _unknown(cmd, env, cmd.name, extra, "pipe", producers=tuple(cmd.stdin_from))
        return
    for stmt in dict.fromkeys(found):
        yield effect(
            "db.destructive",
            cmd,
            **extra,
            statement=stmt,
            object_type="keyspace",
            objects=(db if db and stmt == "FLUSHDB" else "*",),
            schemas=(),
            environment=env,
            tool=cmd.name,
        )


_MONGO = _Spec(
    short="fup",
    long=_names(
        "eval file host port username password authenticationDatabase authenticationMechanism "
        "tlsCertificateKeyFile tlsCAFile tlsCertificateKeyFilePassword apiVersion gssapiServiceName "
        "sspiHostnameCanonicalization awsIamSessionToken db uri nsInclude nsExclude nsFrom nsTo archive "
        "dir numParallelCollections writeConcern collection d c h config readPreference"
    ),
)
_MONGO_DROP_DB = LazyRegex(r"\bdropDatabase\s*\(|\b(?:runCommand|adminCommand)\s*\(\s*\{\s*['\"]?dropDatabase\b")
_MONGO_DROP = LazyRegex(
    r"""(?:\bdb\s*\.\s*(\w+)|getCollection\s*\(\s*['"]([^'"]+)['"]\s*\)|\bdb\s*\[\s*['"]([^'"]+)['"]\s*\])"""
    r"""\s*\.\s*drop\s*\(|\b(?:runCommand|adminCommand)\s*\(\s*\{\s*['"]?drop['"]?\s*:\s*['"]([^'"]*)"""
)
_MONGO_GENERIC_DROP = LazyRegex(r"\.\s*drop\s*\(\s*\)")
_MONGO_COLL = r"""(?:\bdb\s*\.\s*(\w+)|getCollection\s*\(\s*['"]([^'"]+)['"]\s*\)|\bdb\s*\[\s*['"]([^'"]+)['"]\s*\])?"""
_MONGO_DELETE_ALL = LazyRegex(_MONGO_COLL + r"\s*\.\s*(deleteMany|remove)\s*\(\s*(?:\{\s*\}\s*)?[,)]")
_MONGO_UPDATE_ALL = LazyRegex(_MONGO_COLL + r"\s*\.\s*(updateMany|update)\s*\(\s*\{\s*\}\s*,")
_MONGO_PRIVILEGE = LazyRegex(
    r"\b(createUser|dropUser|dropAllUsersFromDatabase|grantRolesToUser|revokeRolesFromUser|updateUser|"
    r"changeUserPassword|createRole|dropRole|dropAllRoles|grantPrivilegesToRole|revokePrivilegesFromRole|"
    r"updateRole)\s*\("
)
_MONGO_WRITE = LazyRegex(r"\.\s*(?:insert\w*|update\w*|delete\w*|replace\w*|remove|bulkWrite|createIndex\w*)\s*\(")


def _mongo_effects(cmd: Command, js: str, env: str | None, extra: dict[str, AttrValue]) -> list[Effect]:
    out: list[Effect] = []
    tool = cmd.name
    if _MONGO_DROP_DB.search(js):
        out.append(
            effect(
                "db.destructive",
                cmd,
                **extra,
                statement="DROP DATABASE",
                object_type="database",
                objects=tuple(str(x) for x in (extra.get("database"),) if x),
                schemas=(),
                environment=env,
                tool=tool,
            )
        )
    names = [next((g for g in m.groups() if g), "") for m in _MONGO_DROP.finditer(js)]
    if names or _MONGO_GENERIC_DROP.search(js):
        out.append(
            effect(
                "db.destructive",
                cmd,
                **extra,
                statement="DROP COLLECTION",
                object_type="collection",
                objects=tuple(n for n in names if n),
                schemas=(),
                environment=env,
                tool=tool,
            )
        )
    for pattern, statement in ((_MONGO_DELETE_ALL, "DELETE"), (_MONGO_UPDATE_ALL, "UPDATE")):
        hits = list(pattern.finditer(js))
        if hits:
            hit_names = (m.group(1) or m.group(2) or m.group(3) for m in hits)
            collections = tuple(dict.fromkeys(n for n in hit_names if n))
            out.append(
                effect(
                    "db.destructive",
                    cmd,
                    **extra,
                    statement=statement,
                    object_type="documents",
                    objects=collections,
                    schemas=(),
                    where="none",
                    operation=hits[0].group(4),
                    environment=env,
                    tool=tool,
                )
            )
    privs = tuple(dict.fromkeys(m.group(1) for m in _MONGO_PRIVILEGE.finditer(js)))
    if privs:
        out.append(
            effect(
                "db.privilege",
                cmd,
                **extra,
                statement=privs[0],
                operations=privs,
                objects=(),
                environment=env,
                tool=tool,
            )
        )
    if not out:
        out.append(
            effect(
                "db.query",
                cmd,
                **extra,
                statement="SCRIPT",
                write=bool(_MONGO_WRITE.search(js)),
                environment=env,
                tool=tool,
            )
        )
    return out


def _mongo(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _MONGO)
    if a.has("help", "version"):
        return
    t = _signals(cmd, _Target(), app_vars=())
    scripts: list[str] = [w for w in a.words() if w.endswith((".js", ".mongodb"))]
    for w in a.words():
        if w in scripts:
            continue
        if not t.add_url(w):
            host, _, db = w.partition("/")
            if db:
                t.hosts.append(host)
                t.databases.append(db)
            elif "." in w or ":" in w:
                t.hosts.append(w)
            else:
                t.databases.append(w)
    for h in a.values("host"):
        t.add_host(h)
    env = _environment(ctx, cmd, t)
    extra = _extra(cmd, t)
    codes = a.values("eval")
    for f in [*a.values("f", "file"), *scripts]:
        text, _too_large = _read(ctx, cmd, f)
        if text is None:
            yield _unknown(cmd, env, cmd.name, extra, "file", file=f)
        else:
            codes.append(text)
    if not codes and cmd.stdin is not None:
        codes.append(cmd.stdin)
    if not codes:
        if cmd.stdin_from:
            yield _unknown(cmd, env, cmd.name, extra, "pipe", producers=tuple(cmd.stdin_from))
        elif not a.has("f", "file") and not scripts:
            yield _unknown(cmd, env, cmd.name, extra, "interactive")
        return
    yield from _mongo_effects(cmd, "\n".join(codes), env, extra)


def _mongorestore(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _MONGO)
    t = _signals(cmd, _Target(), app_vars=())
    for u in a.values("uri"):
        t.add_url(u)
    for h in a.values("h", "host"):
        t.add_host(h)
    for d in a.values("d", "db"):
        t.databases.append(d)
    env = _environment(ctx, cmd, t)
    extra = _extra(cmd, t)
    if a.has("drop"):
        objs = tuple(a.values("nsInclude", "c", "collection")) or tuple(t.databases[:1])
        yield effect(
            "db.destructive",
            cmd,
            **extra,
            statement="DROP COLLECTION",
            object_type="collection",
            objects=objs,
            schemas=(),
            operation="mongorestore --drop",
            environment=env,
            tool=cmd.name,
        )
    else:
        yield effect("db.query", cmd, **extra, statement="RESTORE", write=True, environment=env, tool=cmd.name)


# -- postgres and mysql admin tools ----------------------------------------------------------

_PG_RESTORE = _Spec(
    short="dfFhIjnNpPStTUL",
    long=_names(
        "dbname file format host index jobs schema exclude-schema port function superuser table trigger "
        "username use-list role section filter"
    ),
)
_PG_ADMIN = _Spec(short="hpUd", long=_names("host port username maintenance-db dbname"))


def _pg_target(cmd: Command, a: _Args) -> _Target:
    t = _signals(cmd, _Target(), app_vars=())
    for h in a.values("h", "host"):
        t.add_host(h)
    return t


def _pg_restore(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _PG_RESTORE)
    if _is_help(a) or not a.has("d", "dbname"):
        return  # without a database it only prints a script
    t = _pg_target(cmd, a)
    for d in a.values("d", "dbname"):
        t.add_db(d)
    env = _environment(ctx, cmd, t)
    extra = _extra(cmd, t)
    if a.has("c", "clean"):
        create = a.has("C", "create")
        yield effect(
            "db.destructive",
            cmd,
            **extra,
            statement="DROP DATABASE" if create else "DROP (restore --clean)",
            object_type="database",
            objects=tuple(t.databases[:1]),
            schemas=(),
            operation="pg_restore --clean",
            environment=env,
            tool="pg_restore",
        )
    else:
        yield effect("db.query", cmd, **extra, statement="RESTORE", write=True, environment=env, tool="pg_restore")


def _dropdb(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _PG_ADMIN)
    if _is_help(a):
        return
    t = _pg_target(cmd, a)
    names = a.words()[:1]
    t.databases.extend(names)
    env = _environment(ctx, cmd, t)
    yield effect(
        "db.destructive",
        cmd,
        **_extra(cmd, t),
        statement="DROP DATABASE",
        object_type="database",
        objects=tuple(names),
        schemas=tuple(names),
        framework="postgres",
        operation="dropdb",
        environment=env,
        tool="dropdb",
    )


def _pg_role(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _PG_ADMIN)
    if _is_help(a):
        return
    t = _pg_target(cmd, a)
    env = _environment(ctx, cmd, t)
    verb = "DROP ROLE" if cmd.name == "dropuser" else "CREATE ROLE"
    yield effect(
        "db.privilege",
        cmd,
        **_extra(cmd, t),
        statement=verb,
        objects=tuple(a.words()[:1]),
        environment=env,
        tool=cmd.name,
    )


def _mysqladmin(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _MYSQL)
    words = a.words()
    t = _signals(cmd, _Target(), app_vars=())
    for h in a.values("h", "host"):
        t.add_host(h)
    env = _environment(ctx, cmd, t)
    for i, w in enumerate(words):
        low = w.lower()
        if low == "drop" and i + 1 < len(words):
            t.databases.append(words[i + 1])
            yield effect(
                "db.destructive",
                cmd,
                **_extra(cmd, t),
                statement="DROP DATABASE",
                object_type="database",
                objects=(words[i + 1],),
                schemas=(words[i + 1],),
                operation="mysqladmin drop",
                environment=_environment(ctx, cmd, t),
                tool="mysqladmin",
            )
        elif low in ("password", "old-password"):
            yield effect(
                "db.privilege",
                cmd,
                **_extra(cmd, t),
                statement="SET PASSWORD",
                objects=(),
                environment=env,
                tool="mysqladmin",
            )


# -- frameworks ------------------------------------------------------------------------------

_PRISMA = _Spec(
    short="n",
    long=_names(
        "schema url name file from-url to-url from-schema-datamodel to-schema-datamodel from-migrations "
        "to-migrations shadow-database-url config applied rolled-back from-schema-datasource "
        "to-schema-datasource output datasource"
    ),
)


def _prisma(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _PRISMA)
    words = a.words()
    if len(words) < 2 or _is_help(a):
        return
    t = _signals(cmd, _Target())
    for u in a.values("url"):
        t.add_url(u)
    group, sub = words[0], words[1]
    default_env = "development" if (group, sub) == ("migrate", "dev") else None
    env = _environment(ctx, cmd, t, default_env) if default_env else _environment(ctx, cmd, t)
    if (group, sub) == ("migrate", "reset"):
        yield _destroy(cmd, "prisma", "migrate reset", env, t)
    elif (group, sub) == ("db", "push"):
        if a.has("force-reset"):
            yield _destroy(cmd, "prisma", "db push --force-reset", env, t)
        elif a.has("accept-data-loss"):
            yield _destroy(
                cmd,
                "prisma",
                "db push --accept-data-loss",
                env,
                t,
                statement="ALTER SCHEMA DROP",
                object_type="schema",
            )
        else:
            yield _migrate(cmd, "prisma", "db push", env, t)
    elif group == "migrate" and sub in ("deploy", "dev"):
        yield _migrate(cmd, "prisma", f"migrate {sub}", env, t)
    elif (group, sub) == ("migrate", "resolve"):
        yield _migrate(cmd, "prisma", "migrate resolve", env, t, direction=None)
    elif (group, sub) == ("db", "execute"):
        sources = [_Source("file", v, i) for v, i in a.indexed("file")]
        if not sources and not a.has("stdin"):
            return
        yield from _run_sources(ctx, cmd, sources, dialect=None, env=env, tool="prisma", extra=_extra(cmd, t))


_RAILS_TASKS: tuple[tuple[str, str | None, str], ...] = (
    # (task, kind: destructive | up | down | None, statement)
    ("db:migrate:status", None, ""),
    ("db:migrate:reset", "destructive", "RESET DATABASE"),
    ("db:migrate:redo", "down", ""),
    ("db:migrate:down", "down", ""),
    ("db:migrate:up", "up", ""),
    ("db:migrate", "up", ""),
    ("db:rollback", "down", ""),
    ("db:drop", "destructive", "DROP DATABASE"),
    ("db:reset", "destructive", "RESET DATABASE"),
    ("db:schema:load", "destructive", "RESET DATABASE"),
    ("db:structure:load", "destructive", "RESET DATABASE"),
    ("db:purge", "destructive", "RESET DATABASE"),
    ("db:truncate_all", "destructive", "TRUNCATE"),
    ("db:seed:replant", "destructive", "TRUNCATE"),
    ("db:setup", "destructive", "RESET DATABASE"),
    ("db:fixtures:load", "destructive", "DELETE"),
    ("db:prepare", "up", ""),
)
_RUBY_SQL = LazyRegex(
    r"""\bconnection\s*\.\s*(?:execute|exec_query|exec_update|exec_delete|select_all|delete|update)\s*\(?\s*"""
    r"""(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|%q?\{([^}]*)\})""",
)
_RUBY_DESTROY = LazyRegex(
    r"\b([A-Z]\w*(?:::[A-Z]\w*)*)\s*(?:\.\s*(?:all|unscoped))?\s*\.\s*(delete_all|destroy_all|update_all)\b"
)
_RUBY_SCHEMA = LazyRegex(r"\b(drop_table|truncate_tables|truncate|purge)\b\s*\(?\s*:?['\"]?(\w*)")


def _code_effects(
    cmd: Command,
    code: str,
    env: str | None,
    extra: dict[str, AttrValue],
    framework: str,
    sql_re: LazyRegex,
    destroy_re: LazyRegex,
    schema_re: LazyRegex | None,
) -> list[Effect]:
    """Destructive ORM calls and raw SQL strings in code run by ``rails runner`` or ``manage.py shell``."""
    out: list[Effect] = []
    for m in destroy_re.finditer(code):
        op = m.group(2)
        statement = "UPDATE" if "update" in op else "DELETE"
        out.append(
            effect(
                "db.destructive",
                cmd,
                **extra,
                statement=statement,
                object_type="rows",
                objects=(m.group(1),),
                schemas=(),
                where="none",
                framework=framework,
                operation=op,
                environment=env,
                tool=cmd.name,
            )
        )
    if schema_re is not None:
        for m in schema_re.finditer(code):
            stmt = "DROP TABLE" if m.group(1) == "drop_table" else "TRUNCATE"
            out.append(
                effect(
                    "db.destructive",
                    cmd,
                    **extra,
                    statement=stmt,
                    object_type="table",
                    objects=tuple(x for x in (m.group(2),) if x),
                    schemas=(),
                    framework=framework,
                    operation=m.group(1),
                    environment=env,
                    tool=cmd.name,
                )
            )
    for m in sql_re.finditer(code):
        text = next((g for g in m.groups() if g is not None), "")
        if text:
            out.extend(
                e for e in _sql(cmd, text, dialect=None, env=env, tool=cmd.name, extra=extra) if e.kind != "db.query"
            )
    return out


def _rails(cmd: Command, ctx: Context) -> Iterator[Effect]:
    args = list(cmd.args)
    t = _signals(cmd, _Target(), app_vars=("RAILS_ENV", "RACK_ENV"))
    tasks: list[str] = []
    i = 0
    while i < len(args):
        w = args[i]
        if w in ("-e", "--environment") and i + 1 < len(args):
            t.apps.append(args[i + 1])
            i += 1
        elif w.startswith("--environment="):
            t.apps.append(w.split("=", 1)[1])
        elif re.match(r"^[A-Z_][A-Z0-9_]*=", w):
            key, _, value = w.partition("=")
            if key in ("RAILS_ENV", "RACK_ENV"):
                t.apps.append(value)
            elif _URL_VAR.search(key):
                t.add_url(value)
        elif not w.startswith("-"):
            tasks.append(w)
        i += 1
    env = _environment(ctx, cmd, t, "development")
    if cmd.name == "rails" and tasks and tasks[0] in ("runner", "r", "console", "c", "dbconsole", "db"):
        yield from _rails_sub(cmd, tasks, env, t)
        return
    for task in tasks:
        for name, kind, statement in _RAILS_TASKS:
            if task == name or task.startswith(name + ":"):
                if kind == "destructive":
                    yield _destroy(cmd, "rails", task, env, t, statement=statement)
                elif kind is not None:
                    yield _migrate(cmd, "rails", task, env, t, direction=kind)
                break


def _rails_sub(cmd: Command, tasks: list[str], env: str | None, t: _Target) -> Iterator[Effect]:
    sub = tasks[0]
    extra = _extra(cmd, t)
    if sub in ("runner", "r"):
        code = tasks[1] if len(tasks) > 1 else ""
        if code and not code.endswith(".rb"):
            yield from _code_effects(cmd, code, env, extra, "rails", _RUBY_SQL, _RUBY_DESTROY, _RUBY_SCHEMA)
    elif sub in ("console", "c"):
        if cmd.stdin:
            yield from _code_effects(cmd, cmd.stdin, env, extra, "rails", _RUBY_SQL, _RUBY_DESTROY, _RUBY_SCHEMA)
    elif cmd.stdin is not None:
        yield from _sql(cmd, cmd.stdin, dialect=None, env=env, tool="rails", extra=extra)
    else:
        yield _unknown(cmd, env, "rails", extra, "pipe" if cmd.stdin_from else "interactive")


_PY_OPTS_WITH_VALUE = frozenset({"-W", "-X", "-Q"})
_DJANGO_SQL = LazyRegex(
    r"""\.\s*execute\s*\(\s*(?:[rbuRBU]{0,2})(?:\"\"\"(.*?)\"\"\"|'''(.*?)'''|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""",
    re.S,
)
_DJANGO_DESTROY = LazyRegex(r"\b([A-Z]\w*)\s*\.\s*objects\s*(?:\.\s*all\s*\(\s*\))?\s*\.\s*(delete|update)\s*\(")
_DJANGO_SCHEMA = LazyRegex(r"""\bcall_command\s*\(\s*['"](flush|reset_db|sqlflush)['"]()""")


def _python(cmd: Command, ctx: Context) -> Iterator[Effect]:
    args = list(cmd.args)
    i = 0
    while i < len(args):
        w = args[i]
        if w == "-m":
            if i + 1 < len(args) and args[i + 1] == "django":
                yield from _django(cmd, ctx, args[i + 2 :], "python -m django")
            return
        if w == "-c" or w == "-":
            return
        if w in _PY_OPTS_WITH_VALUE:
            i += 2
            continue
        if w.startswith("-"):
            i += 1
            continue
        if posixpath.basename(w) == "manage.py":
            yield from _django(cmd, ctx, args[i + 1 :], "manage.py")
        return


def _django_cmd(cmd: Command, ctx: Context) -> Iterator[Effect]:
    yield from _django(cmd, ctx, list(cmd.args), cmd.name)


def _django(cmd: Command, ctx: Context, args: list[str], tool: str) -> Iterator[Effect]:
    t = _signals(cmd, _Target(), app_vars=("DJANGO_SETTINGS_MODULE", "DJANGO_ENV", "APP_ENV", "ENVIRONMENT"))
    pos: list[str] = []
    flags: set[str] = set()
    client: list[str] = []
    code: str | None = None
    i = 0
    while i < len(args):
        w = args[i]
        if w == "--":
            client = args[i + 1 :]
            break
        if w in ("--settings", "--database") and i + 1 < len(args):
            (t.apps if w == "--settings" else t.databases).append(args[i + 1])
            i += 2
            continue
        if w.startswith(("--settings=", "--database=")):
            key, _, value = w.partition("=")
            (t.apps if key == "--settings" else t.databases).append(value)
        elif w in ("-c", "--command") and i + 1 < len(args):
            code = args[i + 1]
            i += 2
            continue
        elif w.startswith("--command="):
            code = w.split("=", 1)[1]
        elif w.startswith("-"):
            flags.add(w)
        else:
            pos.append(w)
        i += 1
    if not pos:
        return
    sub = pos[0]
    env = _environment(ctx, cmd, t)
    extra = _extra(cmd, t)
    if sub == "flush":
        yield _destroy(cmd, "django", "flush", env, t, statement="TRUNCATE")
    elif sub == "reset_db":
        yield _destroy(cmd, "django", "reset_db", env, t, statement="DROP DATABASE")
    elif sub == "sqlflush":
        yield _destroy(cmd, "django", "sqlflush", env, t, statement="TRUNCATE")
    elif sub == "migrate":
        if flags & {"--plan", "--check", "--help", "-h"}:
            return
        app = pos[1] if len(pos) > 1 else None
        target = pos[2] if len(pos) > 2 else None
        if target == "zero":
            yield _destroy(
                cmd,
                "django",
                f"migrate {app} zero",
                env,
                t,
                statement="ROLLBACK MIGRATIONS",
                object_type="schema",
                app=app,
            )
        elif target:
            yield _migrate(
                cmd,
                "django",
                f"migrate {app} {target}",
                env,
                t,
                direction=None,
                target=target,
                fake="--fake" in flags,
            )
        else:
            yield _migrate(cmd, "django", "migrate", env, t, fake="--fake" in flags)
    elif sub == "dbshell":
        sqls = [client[j + 1] for j, w in enumerate(client[:-1]) if w in ("-c", "--command", "-e", "--execute")]
        for text in sqls:
            yield from _sql(cmd, text, dialect=None, env=env, tool="django", extra=extra)
        if not sqls:
            yield from _stdin(ctx, cmd, dialect=None, env=env, tool="django", extra=extra)
    elif sub in ("shell", "shell_plus"):
        snippet = code if code is not None else cmd.stdin
        if snippet:
            yield from _code_effects(cmd, snippet, env, extra, "django", _DJANGO_SQL, _DJANGO_DESTROY, _DJANGO_SCHEMA)


_ALEMBIC = _Spec(short="cnx", long=frozenset({"config", "name", "x"}))


def _alembic(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _ALEMBIC)
    words = a.words()
    if not words or a.has("sql") or _is_help(a):
        return
    t = _signals(cmd, _Target(), app_vars=("APP_ENV", "ENVIRONMENT", "ENV", "FLASK_ENV"))
    t.apps.extend(a.values("n", "name"))
    for x in a.values("x"):
        t.apps.append(x.partition("=")[2] or x)
    yield from _alembic_sub(cmd, ctx, "alembic", words, t)


def _alembic_sub(cmd: Command, ctx: Context, framework: str, words: list[str], t: _Target) -> Iterator[Effect]:
    sub = words[0]
    target = words[1] if len(words) > 1 else None
    env = _environment(ctx, cmd, t)
    if sub == "downgrade":
        yield _destroy(
            cmd,
            framework,
            f"downgrade {target or ''}".strip(),
            env,
            t,
            statement="ROLLBACK MIGRATIONS",
            object_type="schema",
            target=target,
        )
    elif sub == "upgrade":
        yield _migrate(cmd, framework, f"upgrade {target or 'head'}", env, t, target=target or "head")
    elif sub == "stamp":
        yield _migrate(cmd, framework, f"stamp {target or ''}".strip(), env, t, direction=None, target=target)


def _flask(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _Spec(short="eA", long=_names("app env-file directory x d")))
    words = a.words()
    if len(words) < 2 or words[0] != "db" or a.has("sql"):
        return
    t = _signals(cmd, _Target(), app_vars=("FLASK_ENV", "APP_ENV", "ENVIRONMENT"))
    yield from _alembic_sub(cmd, ctx, "flask-migrate", words[1:], t)


_NODE_SPEC = _Spec(
    long=_names(
        "env knexfile cwd client connection migrations-directory migrations-table-name url config "
        "options-path models-path seeders-path migrations-path name to from seed dataSource d specific"
    ),
    short="d",
)


def _node_target(cmd: Command, a: _Args) -> _Target:
    t = _signals(cmd, _Target(), app_vars=("NODE_ENV", "APP_ENV", "ENVIRONMENT"))
    t.apps.extend(a.values("env"))
    for u in [*a.values("url"), *a.values("connection")]:
        t.add_url(u)
    return t


def _knex(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _NODE_SPEC)
    words = a.words()
    if not words:
        return
    t = _node_target(cmd, a)
    env = _environment(ctx, cmd, t, "development")
    sub = words[0]
    if sub == "migrate:rollback":
        if a.has("all"):
            yield _destroy(
                cmd,
                "knex",
                "migrate:rollback --all",
                env,
                t,
                statement="ROLLBACK MIGRATIONS",
                object_type="schema",
            )
        else:
            yield _migrate(cmd, "knex", sub, env, t, direction="down")
    elif sub == "migrate:down":
        yield _migrate(cmd, "knex", sub, env, t, direction="down")
    elif sub in ("migrate:latest", "migrate:up"):
        yield _migrate(cmd, "knex", sub, env, t)


def _sequelize(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _NODE_SPEC)
    words = a.words()
    if not words:
        return
    t = _node_target(cmd, a)
    env = _environment(ctx, cmd, t, "development")
    sub = words[0]
    if sub == "db:drop":
        yield _destroy(cmd, "sequelize", sub, env, t, statement="DROP DATABASE")
    elif sub == "db:migrate:undo:all":
        yield _destroy(cmd, "sequelize", sub, env, t, statement="ROLLBACK MIGRATIONS", object_type="schema")
    elif sub == "db:seed:undo:all":
        yield _destroy(cmd, "sequelize", sub, env, t, statement="DELETE", object_type="rows")
    elif sub == "db:migrate:undo":
        yield _migrate(cmd, "sequelize", sub, env, t, direction="down")
    elif sub == "db:migrate":
        yield _migrate(cmd, "sequelize", sub, env, t)


def _typeorm(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _NODE_SPEC)
    words = a.words()
    if not words:
        return
    t = _node_target(cmd, a)
    env = _environment(ctx, cmd, t)
    sub = words[0]
    if sub == "schema:drop":
        yield _destroy(cmd, "typeorm", sub, env, t, statement="DROP SCHEMA", object_type="schema")
    elif sub in ("schema:sync", "migration:run"):
        yield _migrate(cmd, "typeorm", sub, env, t)
    elif sub == "migration:revert":
        yield _migrate(cmd, "typeorm", sub, env, t, direction="down")
    elif sub == "query" and len(a.pos) > 1:
        yield from _run_sources(
            ctx,
            cmd,
            [_Source("sql", a.pos[1][0], a.pos[1][1])],
            dialect=None,
            env=env,
            tool="typeorm",
            extra=_extra(cmd, t),
        )


def _url_target(
    cmd: Command,
    a: _Args,
    url_opts: tuple[str, ...],
    env_opts: tuple[str, ...],
    app_vars: tuple[str, ...] = (),
) -> _Target:
    t = _signals(cmd, _Target(), app_vars=app_vars)
    for u in a.values(*url_opts):
        t.add_url(u)
    t.apps.extend(a.values(*env_opts))
    return t


def _flyway(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _Spec(single=True))
    t = _url_target(cmd, a, ("url",), ("environment", "env"), ("FLYWAY_ENVIRONMENT",))
    env = _environment(ctx, cmd, t)
    for w in a.words():
        if w == "clean":
            yield _destroy(cmd, "flyway", "clean", env, t, statement="DROP SCHEMA", object_type="schema")
        elif w in ("migrate", "baseline"):
            yield _migrate(cmd, "flyway", w, env, t)
        elif w == "undo":
            yield _migrate(cmd, "flyway", w, env, t, direction="down")
        elif w == "repair":
            yield _migrate(cmd, "flyway", w, env, t, direction=None)


_LIQUIBASE = _Spec(
    long=_names(
        "url username password changelog-file changeLogFile sql sql-file count tag date contexts labels "
        "defaults-file classpath driver reference-url log-level search-path"
    )
)


def _liquibase(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _LIQUIBASE)
    t = _url_target(cmd, a, ("url",), ())
    env = _environment(ctx, cmd, t)
    for w in a.words():
        low = w.lower().replace("-", "")
        if low == "dropall":
            yield _destroy(cmd, "liquibase", w, env, t, statement="DROP SCHEMA", object_type="schema")
        elif low.startswith("update") and low not in (
            "updatesql",
            "updatecountsql",
            "updatetotagsql",
            "updatetestingrollback",
        ):
            yield _migrate(cmd, "liquibase", w, env, t)
        elif low.startswith("rollback") and not low.endswith("sql"):
            yield _migrate(cmd, "liquibase", w, env, t, direction="down")
        elif low == "executesql":
            sources = [_Source("sql", v, i) for v, i in a.indexed("sql")]
            sources += [_Source("file", v, i) for v, i in a.indexed("sql-file")]
            yield from _run_sources(
                ctx, cmd, sources, dialect=None, env=env, tool="liquibase", extra=_extra(cmd, t), stdin=False
            )
        else:
            continue
        break


def _atlas(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(
        cmd.args,
        _Spec(
            short="u",
            long=_names("url env dev-url dir to config var schema format"),
        ),
    )
    words = a.words()
    if len(words) < 2 or a.has("dry-run"):
        return
    t = _url_target(cmd, a, ("u", "url"), ("env",))
    env = _environment(ctx, cmd, t)
    group, sub = words[0], words[1]
    if (group, sub) == ("schema", "clean"):
        yield _destroy(cmd, "atlas", "schema clean", env, t, statement="DROP SCHEMA", object_type="schema")
    elif (group, sub) in (("schema", "apply"), ("migrate", "apply")):
        yield _migrate(cmd, "atlas", f"{group} {sub}", env, t)
    elif (group, sub) == ("migrate", "down"):
        yield _migrate(cmd, "atlas", "migrate down", env, t, direction="down")


_GOOSE_COMMANDS = _names("up up-by-one up-to down down-to redo reset status version create fix validate")


def _goose(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(
        cmd.args,
        _Spec(single=True, long=_names("dir table certfile ssl-cert ssl-key timeout s")),
    )
    words = a.words()
    idx = next((i for i, w in enumerate(words) if w in _GOOSE_COMMANDS), -1)
    if idx < 0:
        return
    t = _signals(cmd, _Target(), app_vars=())
    if "GOOSE_DBSTRING" in cmd.env:
        t.add_url(cmd.env["GOOSE_DBSTRING"])
    for w in words[:idx]:
        t.add_url(w)
    env = _environment(ctx, cmd, t)
    sub = words[idx]
    arg = words[idx + 1] if idx + 1 < len(words) else None
    if sub == "reset" or (sub == "down-to" and arg == "0"):
        yield _destroy(
            cmd,
            "goose",
            f"{sub} {arg or ''}".strip(),
            env,
            t,
            statement="ROLLBACK MIGRATIONS",
            object_type="schema",
        )
    elif sub in ("down", "down-to", "redo"):
        yield _migrate(cmd, "goose", sub, env, t, direction="down")
    elif sub.startswith("up"):
        yield _migrate(cmd, "goose", sub, env, t)


def _dbmate(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(
        cmd.args,
        _Spec(
            short="uders",
            long=_names("url env env-file migrations-dir schema-file migrations-table"),
        ),
    )
    words = a.words()
    if not words:
        return
    t = _url_target(cmd, a, ("u", "url"), ())
    env = _environment(ctx, cmd, t)
    sub = words[0]
    if sub == "drop":
        yield _destroy(cmd, "dbmate", "drop", env, t, statement="DROP DATABASE")
    elif sub in ("up", "migrate"):
        yield _migrate(cmd, "dbmate", sub, env, t)
    elif sub in ("rollback", "down"):
        yield _migrate(cmd, "dbmate", sub, env, t, direction="down")


def _golang_migrate(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(
        cmd.args,
        _Spec(
            single=True,
            long=_names("path source database lock-timeout prefetch ext dir seq-digits"),
        ),
    )
    words = a.words()
    if not words or not (a.has("path", "source", "database") or words[0] in ("up", "down", "drop", "goto")):
        return
    t = _url_target(cmd, a, ("database",), ())
    env = _environment(ctx, cmd, t)
    sub = words[0]
    arg = words[1] if len(words) > 1 else None
    if sub == "drop":
        yield _destroy(cmd, "golang-migrate", "drop", env, t, statement="DROP SCHEMA", object_type="schema")
    elif sub == "down" and (arg is None or a.has("all")):
        yield _destroy(cmd, "golang-migrate", "down", env, t, statement="ROLLBACK MIGRATIONS", object_type="schema")
    elif sub == "down":
        yield _migrate(cmd, "golang-migrate", f"down {arg}", env, t, direction="down")
    elif sub == "up":
        yield _migrate(cmd, "golang-migrate", "up", env, t)
    elif sub in ("goto", "force"):
        yield _migrate(cmd, "golang-migrate", f"{sub} {arg or ''}".strip(), env, t, direction=None)


def _sqitch(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(
        cmd.args,
        _Spec(
            short="tC",
            long=_names("target to to-change to-target db-uri chdir plan-file mode"),
        ),
    )
    words = a.words()
    if not words:
        return
    t = _signals(cmd, _Target(), app_vars=())
    for w in [*a.values("t", "target", "db-uri"), *words[1:]]:
        if w.startswith("db:"):
            t.add_url(w[3:])
        elif w in a.values("t", "target"):
            t.apps.append(w)
    env = _environment(ctx, cmd, t)
    sub = words[0]
    if sub == "revert":
        if a.has("to", "to-change", "to-target"):
            yield _migrate(cmd, "sqitch", "revert --to", env, t, direction="down")
        else:
            yield _destroy(cmd, "sqitch", "revert", env, t, statement="ROLLBACK MIGRATIONS", object_type="schema")
    elif sub in ("rebase", "checkout"):
        yield _migrate(cmd, "sqitch", sub, env, t, direction="down")
    elif sub == "deploy":
        yield _migrate(cmd, "sqitch", sub, env, t)


def _supabase(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(
        cmd.args,
        _Spec(long=_names("db-url workdir project-ref version password p"), short="p"),
    )
    words = a.words()
    if len(words) < 2:
        return
    t = _url_target(cmd, a, ("db-url",), ())
    linked = a.has("linked") or bool(t.hosts)
    group, sub = words[0], words[1]
    local_default = (group, sub) in (("db", "reset"), ("migration", "up"), ("migration", "down"))
    remote = linked or (not local_default and not a.has("local"))
    if not remote:
        t.local = True
    env = _environment(ctx, cmd, t, None if remote else "development")
    if not remote and not t.hosts:
        env = "development" if ctx.environment is None else env
    if (group, sub) == ("db", "reset"):
        yield _destroy(cmd, "supabase", "db reset", env, t)
    elif (group, sub) in (("db", "push"), ("migration", "up")):
        yield _migrate(cmd, "supabase", f"{group} {sub}", env, t)
    elif (group, sub) == ("migration", "down"):
        yield _migrate(cmd, "supabase", "migration down", env, t, direction="down")


def _drizzle(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(cmd.args, _Spec(long=_names("config dialect schema url out")))
    words = a.words()
    if not words:
        return
    t = _url_target(cmd, a, ("url",), ())
    env = _environment(ctx, cmd, t)
    sub = words[0].split(":", 1)[0]
    if sub == "push" and a.has("force"):
        yield _destroy(cmd, "drizzle", "push --force", env, t, statement="ALTER SCHEMA DROP", object_type="schema")
    elif sub in ("push", "migrate"):
        yield _migrate(cmd, "drizzle", sub, env, t)
    elif sub == "drop":
        yield _migrate(cmd, "drizzle", "drop", env, t, direction="down")


def _mix(cmd: Command, ctx: Context) -> Iterator[Effect]:
    tasks = [w.strip(",+") for w in cmd.args if w.strip(",+").startswith("ecto.")]
    if not tasks:
        return
    t = _signals(cmd, _Target(), app_vars=("MIX_ENV",))
    env = _environment(ctx, cmd, t, "development")
    rollback_all = "--all" in cmd.args
    for task in tasks:
        if task in ("ecto.drop", "ecto.reset"):
            yield _destroy(
                cmd,
                "ecto",
                task,
                env,
                t,
                statement="DROP DATABASE" if task == "ecto.drop" else "RESET DATABASE",
            )
        elif task == "ecto.rollback":
            if rollback_all:
                yield _destroy(
                    cmd,
                    "ecto",
                    "ecto.rollback --all",
                    env,
                    t,
                    statement="ROLLBACK MIGRATIONS",
                    object_type="schema",
                )
            else:
                yield _migrate(cmd, "ecto", task, env, t, direction="down")
        elif task in ("ecto.migrate", "ecto.setup"):
            yield _migrate(cmd, "ecto", task, env, t)


_ARTISAN_DESTROY = {
    "migrate:fresh": "RESET DATABASE",
    "migrate:reset": "ROLLBACK MIGRATIONS",
    "migrate:refresh": "RESET DATABASE",
    "db:wipe": "DROP SCHEMA",
}


def _php(cmd: Command, ctx: Context) -> Iterator[Effect]:
    args = list(cmd.args)
    if cmd.name == "php":
        idx = next((i for i, w in enumerate(args) if not w.startswith("-")), -1)
        if idx < 0 or posixpath.basename(args[idx]) != "artisan":
            return
        args = args[idx + 1 :]
    if not args:
        return
    a = _parse_args(args, _Spec(long=_names("env database path step seeder")))
    words = a.words()
    if not words or a.has("pretend"):
        return
    t = _signals(cmd, _Target(), app_vars=("APP_ENV",))
    t.apps.extend(a.values("env"))
    t.databases.extend(a.values("database"))
    env = _environment(ctx, cmd, t)
    sub = words[0]
    if sub in _ARTISAN_DESTROY:
        yield _destroy(
            cmd,
            "laravel",
            sub,
            env,
            t,
            statement=_ARTISAN_DESTROY[sub],
            object_type="database" if sub != "migrate:reset" else "schema",
        )
    elif sub == "migrate:rollback":
        yield _migrate(cmd, "laravel", sub, env, t, direction="down")
    elif sub == "migrate":
        yield _migrate(cmd, "laravel", sub, env, t)


def _wrangler(cmd: Command, ctx: Context) -> Iterator[Effect]:
    a = _parse_args(
        cmd.args,
        _Spec(long=_names("command file env config persist-to json"), short="ec"),
    )
    words = a.words()
    if len(words) < 3 or words[0] != "d1":
        return
    t = _signals(cmd, _Target(), app_vars=())
    db = words[2] if words[1] in ("execute", "delete") else (words[3] if len(words) > 3 else "")
    if db:
        t.databases.append(db)
    t.apps.extend(a.values("env", "e"))
    remote = a.has("remote") or words[1] == "delete"
    t.local = not remote
    env = _environment(ctx, cmd, t, None if remote else "development")
    if not remote:
        env = env or "development"
    extra = _extra(cmd, t)
    if words[1] == "execute":
        sources = [_Source("sql", v, i) for v, i in a.indexed("command")]
        sources += [_Source("file", v, i) for v, i in a.indexed("file")]
        yield from _run_sources(ctx, cmd, sources, dialect="sqlite", env=env, tool="wrangler", extra=extra, stdin=False)
    elif words[1] == "delete":
        yield _destroy(cmd, "d1", "d1 delete", env, t, statement="DROP DATABASE")
    elif words[1] == "migrations" and len(words) > 2 and words[2] == "apply":
        yield _migrate(cmd, "d1", "migrations apply", env, t)


# -- dispatch --------------------------------------------------------------------------------

Handler = Callable[[Command, Context], Iterator[Effect]]

_HANDLERS: dict[str, Handler] = {
    "psql": _psql,
    "mysql": _mysql,
    "mariadb": _mysql,
    "sqlite3": _sqlite,
    "sqlite": _sqlite,
    "duckdb": _sqlite,
    "clickhouse-client": _clickhouse,
    "clickhouse": _clickhouse,
    "sqlcmd": _sqlcmd,
    "cockroach": _cockroach,
    "snowsql": _snowflake,
    "snow": _snowflake,
    "bq": _bq,
    "cqlsh": _cqlsh,
    "redis-cli": _redis,
    "valkey-cli": _redis,
    "keydb-cli": _redis,
    "mongo": _mongo,
    "mongosh": _mongo,
    "mongorestore": _mongorestore,
    "pg_restore": _pg_restore,
    "dropdb": _dropdb,
    "dropuser": _pg_role,
    "createuser": _pg_role,
    "mysqladmin": _mysqladmin,
    "prisma": _prisma,
    "rails": _rails,
    "rake": _rails,
    "manage.py": _django_cmd,
    "django-admin": _django_cmd,
    "flask": _flask,
    "alembic": _alembic,
    "knex": _knex,
    "sequelize": _sequelize,
    "sequelize-cli": _sequelize,
    "typeorm": _typeorm,
    "typeorm-ts-node-commonjs": _typeorm,
    "typeorm-ts-node-esm": _typeorm,
    "flyway": _flyway,
    "liquibase": _liquibase,
    "atlas": _atlas,
    "goose": _goose,
    "dbmate": _dbmate,
    "migrate": _golang_migrate,
    "sqitch": _sqitch,
    "supabase": _supabase,
    "drizzle-kit": _drizzle,
    "mix": _mix,
    "php": _php,
    "artisan": _php,
    "wrangler": _wrangler,
    **dict.fromkeys(_PYTHONS, _python),
}


def classify(cmd: Command, ctx: Context) -> Iterator[Effect]:
    """Database effects of one command (see the module docstring for what is understood)."""
    handler = _HANDLERS.get(cmd.name)
    if handler is None:
        return
    yield from handler(cmd, ctx)
