"""Database clients and migration tools (ringfence.analyze.db) and the db pack."""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.analyze import db
from ringfence.analyze.command import Command, Redirect
from ringfence.analyze.context import AnalysisConfig, Context
from ringfence.analyze.kinds import EFFECT_KINDS
from ringfence.model import Effect, Outcome
from ringfence.policy.evaluate import evaluate
from ringfence.policy.load import Policy, parse_pack

CWD = "/home/dev/src/app"


def ctx(environment: str | None = None, config: AnalysisConfig | None = None) -> Context:
    return Context(cwd=CWD, home="/home/dev", environment=environment, workspace=CWD, config=config or AnalysisConfig())


def run(
    line: str,
    *,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    stdin_from: tuple[str, ...] = (),
    redirects: tuple[Redirect, ...] = (),
    remote: str | None = None,
    dynamic: frozenset[int] = frozenset(),
    context: Context | None = None,
    cwd: str = CWD,
) -> list[Effect]:
    cmd = Command(
        argv=tuple(shlex.split(line)),
        env=dict(env or {}),
        stdin=stdin,
        stdin_from=stdin_from,
        redirects=redirects,
        remote=remote,
        dynamic=dynamic,
        cwd=cwd,
    )
    found = list(db.classify(cmd, context or ctx()))
    for e in found:
        assert e.kind in EFFECT_KINDS
        assert e.evidence == cmd.evidence
    return found


def one(line: str, **kw: object) -> Effect:
    found = run(line, **kw)  # type: ignore[arg-type]
    assert len(found) == 1, found
    return found[0]


def gated(found: list[Effect]) -> list[Effect]:
    return [e for e in found if e.kind != "db.query"]


DB_POLICY = Policy.from_rules(
    parse_pack((resources.files("ringfence.policy") / "packs" / "db.yaml").read_bytes(), "db.yaml"), []
)


def decide(found: list[Effect]) -> Outcome:
    return evaluate(DB_POLICY, found).outcome


# -- import cost ---------------------------------------------------------------------------


def test_importing_db_does_not_import_sqlglot() -> None:
    code = "import sys, ringfence.analyze.db\nprint('sqlglot' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_select_through_psql_does_not_import_sqlglot() -> None:
    code = (
        "import sys\nfrom ringfence.analyze import db\nfrom ringfence.analyze.command import Command\n"
        "from ringfence.analyze.context import Context\n"
        "c = Command(argv=('psql', '-c', 'SELECT * FROM users WHERE id = 1'), cwd='/tmp')\n"
        "list(db.classify(c, Context(cwd='/tmp', home='/root')))\n"
        "print('sqlglot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unrelated_commands_produce_nothing() -> None:
    for line in (
        "ls -la",
        "git status",
        "python script.py",
        "python -c 'print(1)'",
        "php -v",
        "mix test",
        "rails server",
        "rake test",
        "flask run",
        "npx",
        "bq ls",
        "migrate",
        "cockroach start",
    ):
        assert run(line) == [], line


# -- psql ------------------------------------------------------------------------------------


def test_psql_select_is_an_ordinary_query() -> None:
    e = one("psql -c 'SELECT 1'")
    assert e.kind == "db.query"
    assert e.attrs["write"] is False
    assert e.attrs["tool"] == "psql"
    assert decide([e]) is Outcome.ALLOW


@pytest.mark.parametrize(
    "line",
    [
        "psql -c 'DROP TABLE users'",
        'psql -c "drop table users"',
        "psql --command='DROP TABLE users'",
        "psql --command 'DROP TABLE users'",
        "psql -cDROP\\ TABLE\\ users",
        "psql -Atc 'DROP TABLE users'",
        "psql -X -q -v ON_ERROR_STOP=1 -c 'DROP TABLE users' app",
        "psql app -c 'SELECT 1; DROP TABLE users'",
        "psql -c 'SELECT 1' -c 'DROP TABLE users'",
    ],
)
def test_psql_command_spellings(line: str) -> None:
    (e,) = gated(run(line))
    assert e.kind == "db.destructive"
    assert e.attrs["statement"] == "DROP TABLE"
    assert e.attrs["objects"] == ("users",)


def test_psql_file_is_read(tmp_path: Path) -> None:
    f = tmp_path / "fix.sql"
    f.write_text("BEGIN;\nDELETE FROM orders;\nCOMMIT;\n")
    (e,) = gated(run(f"psql -f {f}"))
    assert e.attrs["statement"] == "DELETE"
    assert e.attrs["file"] == str(f)
    rel = run("psql --file=fix.sql", cwd=str(tmp_path))
    assert [x.kind for x in gated(rel)] == ["db.destructive"]


def test_psql_unreadable_file_is_unknown_sql(tmp_path: Path) -> None:
    e = one("psql -f /no/such/file.sql")
    assert e.kind == "db.query"
    assert e.attrs["unknown_sql"] is True
    assert e.attrs["file"] == "/no/such/file.sql"
    big = tmp_path / "big.sql"
    big.write_text("SELECT 1;\n" * (110 * 1024))
    e = one(f"psql -f {big}")
    assert e.attrs["unknown_sql"] is True
    assert e.attrs["too_large"] is True


def test_psql_stdin_heredoc_and_redirect(tmp_path: Path) -> None:
    (e,) = gated(run("psql", stdin="SELECT 1;\nTRUNCATE audit;\n"))
    assert e.attrs["statement"] == "TRUNCATE"
    f = tmp_path / "x.sql"
    f.write_text("DROP SCHEMA s CASCADE;")
    (e,) = gated(run("psql", redirects=(Redirect("<", str(f)),)))
    assert e.attrs["statement"] == "DROP SCHEMA"
    (e,) = gated(run("psql -f -", stdin="DROP TABLE t"))
    assert e.attrs["statement"] == "DROP TABLE"


def test_psql_unknown_sql_sources() -> None:
    e = one("psql")
    assert (e.kind, e.attrs["unknown_sql"], e.attrs["source"]) == ("db.query", True, "interactive")
    e = one("psql app", stdin_from=("pg_dump",))
    assert e.attrs["source"] == "pipe"
    assert e.attrs["producers"] == ("pg_dump",)
    e = one("psql", redirects=(Redirect("<", "/no/such.sql"),))
    assert e.attrs["source"] == "file"


def test_psql_dynamic_sql() -> None:
    e = one("psql -c $SQL", dynamic=frozenset({2}))
    assert e.attrs["unknown_sql"] is True
    assert e.attrs["source"] == "dynamic"
    (e,) = gated(run("psql -c 'DROP TABLE $T'", dynamic=frozenset({2})))
    assert e.attrs["dynamic"] is True


def test_psql_help_and_version_do_nothing() -> None:
    assert run("psql --version") == []
    assert run("psql --help") == []
    assert one("psql -l").attrs["statement"] == "LIST DATABASES"


# -- environment detection -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "env", "environment", "host", "database"),
    [
        ("psql -h prod-db.internal -c 'DROP TABLE t'", {}, "production", "prod-db.internal", None),
        ("psql --host=prod-db -c 'DROP TABLE t'", {}, "production", "prod-db", None),
        ("psql -hprod-db -c 'DROP TABLE t'", {}, "production", "prod-db", None),
        ("psql -h staging-db -c 'DROP TABLE t'", {}, "staging", "staging-db", None),
        ("psql -h localhost -c 'DROP TABLE t'", {}, "development", "localhost", None),
        ("psql -h 127.0.0.1 -c 'DROP TABLE t'", {}, "development", "127.0.0.1", None),
        ("psql -h /var/run/postgresql -c 'DROP TABLE t'", {}, "development", "/var/run/postgresql", None),
        (
            "psql postgres://u@prod-db.internal/app -c 'DROP TABLE t'",
            {},
            "production",
            "prod-db.internal",
            "app",
        ),
        (
            "psql -d postgresql://u:p@db.stg.example.com:5432/app -c 'DROP TABLE t'",
            {},
            "staging",
            "db.stg.example.com",
            "app",
        ),
        ("psql 'host=prod-pg dbname=app user=x' -c 'DROP TABLE t'", {}, "production", "prod-pg", "app"),
        ("psql -d app_production -c 'DROP TABLE t'", {}, "production", None, "app_production"),
        ("psql -d app_development -c 'DROP TABLE t'", {}, "development", None, "app_development"),
        ("psql -c 'DROP TABLE t'", {"PGHOST": "prod-db"}, "production", "prod-db", None),
        (
            "psql -c 'DROP TABLE t'",
            {"DATABASE_URL": "postgres://x@prod-db/app"},
            "production",
            "prod-db",
            "app",
        ),
        ("psql -c 'DROP TABLE t'", {"PGDATABASE": "shop_prod"}, "production", None, "shop_prod"),
        ("psql -c 'DROP TABLE t'", {"APP_ENV": "production"}, "production", None, None),
        (
            "psql -h localhost -c 'DROP TABLE t'",
            {"PGDATABASE": "app_prod"},
            "production",
            "localhost",
            "app_prod",
        ),
        ("psql -c 'DROP TABLE t'", {}, None, None, None),
        ("psql -h 10.0.3.4 -c 'DROP TABLE t'", {}, None, "10.0.3.4", None),
        ("mysql -h db.prod -e 'DROP TABLE t'", {}, "production", "db.prod", None),
        ("mysql --host=localhost -e 'DROP TABLE t' shop", {}, "development", "localhost", "shop"),
        ("mysql -e 'DROP TABLE t'", {"MYSQL_HOST": "mysql-prod"}, "production", "mysql-prod", None),
    ],
)
def test_environment_detection(
    line: str, env: dict[str, str], environment: str | None, host: str | None, database: str | None
) -> None:
    (e,) = gated(run(line, env=env))
    assert e.attrs["environment"] == environment
    assert e.attrs.get("host") == host
    assert e.attrs.get("database") == database


def test_environment_falls_back_to_the_action_environment() -> None:
    (e,) = gated(run("psql -c 'DROP TABLE t'", context=ctx("staging")))
    assert e.attrs["environment"] == "staging"
    (e,) = gated(run("psql -h localhost -c 'DROP TABLE t'", context=ctx("production")))
    assert e.attrs["environment"] == "development"


def test_configured_database_hosts() -> None:
    cfg = AnalysisConfig(environments={"db_host": (("10.0.3.*", "production"), ("db", "development"))})
    (e,) = gated(run("psql -h 10.0.3.4 -c 'DROP TABLE t'", context=ctx(config=cfg)))
    assert e.attrs["environment"] == "production"
    (e,) = gated(run("psql -h db -c 'DROP TABLE t'", context=ctx(config=cfg)))
    assert e.attrs["environment"] == "development"


def test_remote_host_is_a_signal_and_localhost_there_is_not_development() -> None:
    (e,) = gated(run("psql -c 'DROP TABLE t'", remote="prod-db-1"))
    assert e.attrs["environment"] == "production"
    assert e.attrs["remote"] == "prod-db-1"
    (e,) = gated(run("psql -h localhost -c 'DROP TABLE t'", remote="10.1.1.1"))
    assert e.attrs["environment"] is None


# -- other SQL clients -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "statement"),
    [
        ("mysql -e 'DROP DATABASE shop'", "DROP DATABASE"),
        ("mysql -uroot -psecret -e 'TRUNCATE orders' shop", "TRUNCATE"),
        ("mysql --execute='DELETE FROM orders'", "DELETE"),
        ("mariadb -e 'UPDATE users SET admin=1'", "UPDATE"),
        ("mysql --init-command='DROP TABLE t' shop", "DROP TABLE"),
        ("clickhouse-client --query 'DROP TABLE t'", "DROP TABLE"),
        ("clickhouse-client -q 'TRUNCATE TABLE t'", "TRUNCATE"),
        ("clickhouse client --query='ALTER TABLE t DELETE WHERE 1'", "ALTER TABLE DELETE"),
        ("sqlcmd -S prod-sql -Q 'DROP TABLE dbo.orders'", "DROP TABLE"),
        ("sqlcmd -q 'TRUNCATE TABLE x'", "TRUNCATE"),
        ("cockroach sql --insecure -e 'DROP DATABASE app'", "DROP DATABASE"),
        ("snowsql -q 'DROP SCHEMA analytics'", "DROP SCHEMA"),
        ("snow sql -q 'DROP TABLE t'", "DROP TABLE"),
        ("bq query --use_legacy_sql=false 'DELETE FROM ds.t WHERE true'", "DELETE"),
        ("cqlsh -e 'DROP KEYSPACE ks'", "DROP KEYSPACE"),
        ("typeorm query 'DROP TABLE x'", "DROP TABLE"),
        ("liquibase execute-sql --sql='DROP TABLE x'", "DROP TABLE"),
    ],
)
def test_sql_client_spellings(line: str, statement: str) -> None:
    found = gated(run(line))
    assert [e.attrs["statement"] for e in found] == [statement]
    assert found[0].kind == "db.destructive"


def test_mysql_attached_password_is_not_sql() -> None:
    e = one("mysql -uroot -pexecute shop -e 'SELECT 1'")
    assert e.kind == "db.query"
    assert e.attrs["database"] == "shop"


def test_sqlite_local_files_are_development(tmp_path: Path) -> None:
    (e,) = gated(run("sqlite3 dev.db 'DROP TABLE t'"))
    assert e.attrs["environment"] == "development"
    assert e.attrs["local"] is True
    assert e.attrs["database"] == f"{CWD}/dev.db"
    assert decide([e]) is Outcome.ALLOW
    (e,) = gated(run("sqlite3 prod.db 'DELETE FROM users'"))
    assert e.attrs["environment"] == "production"
    (e,) = gated(run("duckdb -c 'DROP TABLE x'"))
    assert e.attrs["environment"] == "development"
    (e,) = gated(run("sqlite3 app.db 'DROP TABLE t'", context=ctx("production")))
    assert e.attrs["environment"] == "production"
    assert run("sqlite3 app.db .tables") == []
    assert one("sqlite3 -readonly app.db 'SELECT 1'").attrs["readonly"] is True
    init = tmp_path / "init.sql"
    init.write_text("DROP TABLE old;")
    assert [e.attrs["statement"] for e in gated(run(f"sqlite3 -init {init} app.db"))] == ["DROP TABLE"]
    (e,) = gated(run("sqlite3 -cmd 'DELETE FROM t' app.db"))
    assert e.attrs["statement"] == "DELETE"


def test_duckdb_remote_databases_are_not_local() -> None:
    (e,) = gated(run("duckdb md:analytics -c 'DROP TABLE t'"))
    assert e.attrs.get("local") is None
    assert e.attrs["environment"] is None


def test_bq_commands() -> None:
    (e,) = gated(run("bq rm -r -f -d myproj:analytics"))
    assert (e.attrs["statement"], e.attrs["object_type"], e.attrs["recursive"]) == (
        "DROP SCHEMA",
        "dataset",
        True,
    )
    (e,) = gated(run("bq rm -f -t ds.events"))
    assert (e.attrs["statement"], e.attrs["object_type"]) == ("DROP TABLE", "table")
    (e,) = gated(run("bq load --replace ds.t gs://b/x.csv"))
    assert e.attrs["statement"] == "REPLACE TABLE"
    assert run("bq query --dry_run 'DELETE FROM ds.t'") == []
    assert one("bq query 'SELECT 1'").kind == "db.query"
    (e,) = gated(run("bq --project_id=acme-prod query 'DELETE FROM ds.t'"))
    assert e.attrs["environment"] == "production"
    (e,) = gated(run("bq query", stdin="DROP TABLE ds.t"))
    assert e.attrs["statement"] == "DROP TABLE"


def test_wrangler_d1() -> None:
    (e,) = gated(run("wrangler d1 execute mydb --command 'DROP TABLE x'"))
    assert e.attrs["environment"] == "development"
    (e,) = gated(run("wrangler d1 execute mydb --remote --command='DROP TABLE x'"))
    assert e.attrs["environment"] is None
    (e,) = gated(run("wrangler d1 delete mydb"))
    assert e.attrs["statement"] == "DROP DATABASE"


# -- redis and mongo -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "stdin", "statement"),
    [
        ("redis-cli FLUSHALL", None, "FLUSHALL"),
        ("redis-cli flushall", None, "FLUSHALL"),
        ("redis-cli -h prod-redis -p 6379 FlushDB", None, "FLUSHDB"),
        ("redis-cli -n 3 flushdb async", None, "FLUSHDB"),
        ("valkey-cli FLUSHALL", None, "FLUSHALL"),
        ("redis-cli", "SET a 1\nFLUSHALL\n", "FLUSHALL"),
        ("redis-cli --pipe", "*1\r\n$8\r\nFLUSHALL\r\n", "FLUSHALL"),
        ("redis-cli EVAL \"return redis.call('flushall')\" 0", None, "FLUSHALL"),
        ("redis-cli --cluster call 10.0.0.1:6379 FLUSHALL", None, "FLUSHALL"),
    ],
)
def test_redis_flush(line: str, stdin: str | None, statement: str) -> None:
    e = one(line, stdin=stdin)
    assert e.kind == "db.destructive"
    assert e.attrs["statement"] == statement


def test_redis_ordinary_commands() -> None:
    for line in (
        "redis-cli GET k",
        "redis-cli DEL session:1",
        "redis-cli -n 2 KEYS 'user:*'",
        "redis-cli ping",
        "redis-cli --scan --pattern 'cache:*'",
        "redis-cli INFO",
    ):
        assert run(line) == [], line
    (e,) = run("redis-cli -u redis://prod-cache:6379/0 FLUSHDB")
    assert e.attrs["environment"] == "production"


@pytest.mark.parametrize(
    ("js", "kind", "statement"),
    [
        ("db.dropDatabase()", "db.destructive", "DROP DATABASE"),
        ("db.getSiblingDB('app').dropDatabase()", "db.destructive", "DROP DATABASE"),
        ("db.users.drop()", "db.destructive", "DROP COLLECTION"),
        ("db.getCollection('users').drop()", "db.destructive", "DROP COLLECTION"),
        ("db['users'].drop()", "db.destructive", "DROP COLLECTION"),
        ("db.runCommand({drop: 'users'})", "db.destructive", "DROP COLLECTION"),
        ("db.users.deleteMany({})", "db.destructive", "DELETE"),
        ("db.users.deleteMany( { } )", "db.destructive", "DELETE"),
        ("db.users.remove({})", "db.destructive", "DELETE"),
        ("db.users.updateMany({}, {$set: {a: 1}})", "db.destructive", "UPDATE"),
        ("db.createUser({user: 'x', pwd: 'y', roles: []})", "db.privilege", "createUser"),
        ("db.users.deleteMany({status: 'old'})", "db.query", "SCRIPT"),
        ("db.users.find().limit(5)", "db.query", "SCRIPT"),
        ("db.users.dropIndex('a_1')", "db.query", "SCRIPT"),
    ],
)
def test_mongo_scripts(js: str, kind: str, statement: str) -> None:
    found = run(f"mongosh --eval {shlex.quote(js)}")
    assert [(e.kind, e.attrs["statement"]) for e in found] == [(kind, statement)]


def test_mongo_sources_and_environment(tmp_path: Path) -> None:
    (e,) = run("mongosh mongodb+srv://u@cluster0.prod.mongodb.net/app --eval 'db.dropDatabase()'")
    assert (e.attrs["environment"], e.attrs["host"], e.attrs["database"]) == (
        "production",
        "cluster0.prod.mongodb.net",
        "app",
    )
    assert e.attrs["objects"] == ("app",)
    (e,) = run("mongo localhost/app", stdin="db.users.drop()")
    assert e.attrs["environment"] == "development"
    script = tmp_path / "wipe.js"
    script.write_text("db.orders.deleteMany({})")
    (e,) = run(f"mongosh {script}")
    assert e.attrs["statement"] == "DELETE"
    assert one("mongosh").attrs["unknown_sql"] is True


def test_mongorestore_drop() -> None:
    (e,) = run("mongorestore --drop --uri mongodb://prod-db/app dump/")
    assert (e.kind, e.attrs["environment"]) == ("db.destructive", "production")
    assert one("mongorestore dump/").kind == "db.query"


# -- postgres / mysql admin tools ------------------------------------------------------------


def test_admin_tools() -> None:
    e = one("dropdb -h prod-db app")
    assert (e.kind, e.attrs["statement"], e.attrs["objects"], e.attrs["environment"]) == (
        "db.destructive",
        "DROP DATABASE",
        ("app",),
        "production",
    )
    assert one("dropdb --if-exists app_test").attrs["environment"] == "development"
    e = one("pg_restore --clean -d app dump.pgdump")
    assert (e.kind, e.attrs["operation"]) == ("db.destructive", "pg_restore --clean")
    assert one("pg_restore -c -C -d postgres dump.pgdump").attrs["statement"] == "DROP DATABASE"
    assert one("pg_restore -d app dump.pgdump").kind == "db.query"
    assert run("pg_restore -f out.sql dump.pgdump") == []
    assert one("mysqladmin -h prod-db -f drop shop").attrs["environment"] == "production"
    assert one("dropuser bob").kind == "db.privilege"
    assert one("createuser --superuser bob").kind == "db.privilege"


# -- frameworks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "framework", "operation"),
    [
        ("prisma migrate reset", "prisma", "migrate reset"),
        ("prisma migrate reset --force --skip-seed", "prisma", "migrate reset"),
        ("prisma db push --force-reset", "prisma", "db push --force-reset"),
        ("prisma db push --accept-data-loss", "prisma", "db push --accept-data-loss"),
        ("prisma --schema prisma/schema.prisma migrate reset", "prisma", "migrate reset"),
        ("python manage.py flush --noinput", "django", "flush"),
        ("python3 manage.py reset_db", "django", "reset_db"),
        ("python manage.py sqlflush", "django", "sqlflush"),
        ("python manage.py migrate shop zero", "django", "migrate shop zero"),
        ("./manage.py flush", "django", "flush"),
        ("django-admin flush --settings=config.settings", "django", "flush"),
        ("python -u manage.py flush", "django", "flush"),
        ("python -m django flush", "django", "flush"),
        ("alembic downgrade -1", "alembic", "downgrade -1"),
        ("alembic downgrade base", "alembic", "downgrade base"),
        ("alembic -c alembic.ini downgrade ae10", "alembic", "downgrade ae10"),
        ("flask db downgrade", "flask-migrate", "downgrade"),
        ("knex migrate:rollback --all", "knex", "migrate:rollback --all"),
        ("sequelize db:drop", "sequelize", "db:drop"),
        ("sequelize-cli db:migrate:undo:all", "sequelize", "db:migrate:undo:all"),
        ("typeorm schema:drop", "typeorm", "schema:drop"),
        ("typeorm-ts-node-commonjs schema:drop -d src/ds.ts", "typeorm", "schema:drop"),
        ("flyway clean", "flyway", "clean"),
        ("flyway -cleanDisabled=false clean", "flyway", "clean"),
        ("liquibase drop-all", "liquibase", "drop-all"),
        ("liquibase dropAll", "liquibase", "dropAll"),
        ("atlas schema clean -u postgres://x@h/db", "atlas", "schema clean"),
        ("goose down-to 0", "goose", "down-to 0"),
        ("goose postgres 'user=x dbname=y' reset", "goose", "reset"),
        ("dbmate drop", "dbmate", "drop"),
        ("migrate -path db/migrations -database postgres://h/db drop -f", "golang-migrate", "drop"),
        ("migrate -path db/migrations -database postgres://h/db down", "golang-migrate", "down"),
        ("sqitch revert", "sqitch", "revert"),
        ("supabase db reset", "supabase", "db reset"),
        ("drizzle-kit push --force", "drizzle", "push --force"),
        ("mix ecto.drop", "ecto", "ecto.drop"),
        ("mix ecto.reset", "ecto", "ecto.reset"),
        ("mix ecto.rollback --all", "ecto", "ecto.rollback --all"),
        ("php artisan migrate:fresh", "laravel", "migrate:fresh"),
        ("php artisan migrate:reset", "laravel", "migrate:reset"),
        ("php artisan migrate:refresh --seed", "laravel", "migrate:refresh"),
        ("php artisan db:wipe --force", "laravel", "db:wipe"),
        ("./artisan migrate:fresh", "laravel", "migrate:fresh"),
        ("rails db:drop", "rails", "db:drop"),
        ("rails db:reset", "rails", "db:reset"),
        ("rails db:schema:load", "rails", "db:schema:load"),
        ("rails db:purge", "rails", "db:purge"),
        ("rails db:truncate_all", "rails", "db:truncate_all"),
        ("rails db:migrate:reset", "rails", "db:migrate:reset"),
        ("rake db:drop", "rails", "db:drop"),
        ("bin/rails db:drop:primary", "rails", "db:drop:primary"),
    ],
)
def test_destructive_framework_commands(line: str, framework: str, operation: str) -> None:
    (e,) = run(line)
    assert e.kind == "db.destructive"
    assert e.attrs["framework"] == framework
    assert e.attrs["operation"] == operation
    assert "statement" in e.attrs


def test_pg_restore_and_dropdb_are_destructive_too() -> None:
    assert one("dropdb app").kind == "db.destructive"
    assert one("pg_restore --clean --dbname=app x.dump").kind == "db.destructive"


@pytest.mark.parametrize(
    ("line", "framework", "direction"),
    [
        ("rails db:migrate", "rails", "up"),
        ("bin/rails db:prepare", "rails", "up"),
        ("rails db:rollback", "rails", "down"),
        ("rake db:migrate:down VERSION=20240101", "rails", "down"),
        ("prisma migrate deploy", "prisma", "up"),
        ("prisma migrate dev --name add_users", "prisma", "up"),
        ("prisma db push", "prisma", "up"),
        ("alembic upgrade head", "alembic", "up"),
        ("flask db upgrade", "flask-migrate", "up"),
        ("python manage.py migrate", "django", "up"),
        ("python manage.py migrate --noinput", "django", "up"),
        ("flyway migrate", "flyway", "up"),
        ("flyway undo", "flyway", "down"),
        ("knex migrate:latest", "knex", "up"),
        ("knex migrate:rollback", "knex", "down"),
        ("sequelize db:migrate", "sequelize", "up"),
        ("sequelize db:migrate:undo", "sequelize", "down"),
        ("typeorm migration:run -d ds.ts", "typeorm", "up"),
        ("typeorm migration:revert -d ds.ts", "typeorm", "down"),
        ("liquibase update", "liquibase", "up"),
        ("liquibase rollback-count 1", "liquibase", "down"),
        ("atlas migrate apply --env local", "atlas", "up"),
        ("goose up", "goose", "up"),
        ("goose down", "goose", "down"),
        ("dbmate up", "dbmate", "up"),
        ("dbmate rollback", "dbmate", "down"),
        ("migrate -path m -database postgres://h/db up", "golang-migrate", "up"),
        ("migrate -path m -database postgres://h/db down 1", "golang-migrate", "down"),
        ("sqitch deploy", "sqitch", "up"),
        ("sqitch revert --to @HEAD^", "sqitch", "down"),
        ("supabase db push", "supabase", "up"),
        ("drizzle-kit push", "drizzle", "up"),
        ("mix ecto.migrate", "ecto", "up"),
        ("mix ecto.rollback", "ecto", "down"),
        ("php artisan migrate --force", "laravel", "up"),
        ("php artisan migrate:rollback", "laravel", "down"),
    ],
)
def test_migrations(line: str, framework: str, direction: str) -> None:
    (e,) = run(line)
    assert e.kind == "db.migrate"
    assert e.attrs["framework"] == framework
    assert e.attrs["direction"] == direction


def test_framework_commands_that_do_nothing_to_data() -> None:
    for line in (
        "prisma generate",
        "prisma migrate status",
        "prisma format",
        "rails db:migrate:status",
        "rails db:create",
        "python manage.py makemigrations",
        "python manage.py runserver",
        "python manage.py migrate --plan",
        "python manage.py test",
        "alembic revision --autogenerate -m x",
        "alembic upgrade head --sql",
        "alembic downgrade -1 --sql",
        "alembic current",
        "knex migrate:make x",
        "flyway info",
        "goose status",
        "goose create add_users sql",
        "dbmate new add_users",
        "atlas migrate diff",
        "sqitch status",
        "supabase start",
        "mix ecto.gen.migration x",
        "php artisan make:migration x",
        "php artisan migrate --pretend",
        "artisan migrate:status",
        "drizzle-kit generate",
    ):
        assert run(line) == [], line


def test_framework_environments() -> None:
    assert one("rails db:drop").attrs["environment"] == "development"
    assert one("rails db:drop", env={"RAILS_ENV": "production"}).attrs["environment"] == "production"
    assert one("rails db:drop RAILS_ENV=production").attrs["environment"] == "production"
    assert one("rails db:drop -e staging").attrs["environment"] == "staging"
    assert one("rails db:migrate", env={"DATABASE_URL": "postgres://x@prod-db/app"}).attrs["environment"] == (
        "production"
    )
    assert one("rails db:migrate", context=ctx("production")).attrs["environment"] == "production"
    assert one("mix ecto.reset").attrs["environment"] == "development"
    assert one("mix ecto.migrate", env={"MIX_ENV": "prod"}).attrs["environment"] == "production"
    assert one("knex migrate:latest --env production").attrs["environment"] == "production"
    assert one("knex migrate:latest", env={"NODE_ENV": "production"}).attrs["environment"] == "production"
    assert one("sequelize db:migrate --env test").attrs["environment"] == "development"
    assert one("prisma migrate reset").attrs["environment"] is None
    assert (
        one("prisma migrate reset", env={"DATABASE_URL": "postgres://x@localhost/app"}).attrs["environment"]
        == "development"
    )
    assert one("prisma migrate deploy --url postgres://x@prod-db/app").attrs["environment"] == "production"
    assert one("python manage.py migrate --settings=config.settings.production").attrs["environment"] == ("production")
    assert (
        one("python manage.py flush", env={"DJANGO_SETTINGS_MODULE": "app.settings.dev"}).attrs["environment"]
        == "development"
    )
    assert one("alembic -x env=production downgrade -1").attrs["environment"] == "production"
    assert one("php artisan migrate:fresh --env=production").attrs["environment"] == "production"
    assert one("flyway -url=jdbc:postgresql://prod-db:5432/app clean").attrs["environment"] == "production"
    assert one("liquibase --url=jdbc:mysql://localhost:3306/app dropAll").attrs["environment"] == "development"
    assert one("goose postgres 'host=prod-db dbname=app' down-to 0").attrs["environment"] == "production"
    assert (
        one("dbmate drop", env={"DATABASE_URL": "postgres://u@db.staging.internal/app"}).attrs["environment"]
        == "staging"
    )
    assert one("sqitch deploy db:pg://prod-db/app").attrs["environment"] == "production"
    assert one("supabase db reset").attrs["environment"] == "development"
    assert one("supabase db reset --linked").attrs["environment"] is None


def test_framework_consoles() -> None:
    (e,) = run("rails runner 'User.delete_all'")
    assert (e.attrs["statement"], e.attrs["objects"]) == ("DELETE", ("User",))
    assert run("rails runner 'User.where(id: 1).delete_all'") == []
    (e,) = run("rails runner 'ActiveRecord::Base.connection.execute(\"TRUNCATE users\")'")
    assert e.attrs["statement"] == "TRUNCATE"
    (e,) = run("rails console", stdin="Order.destroy_all\n")
    assert e.attrs["operation"] == "destroy_all"
    (e,) = run("rails dbconsole", stdin="DROP TABLE users;")
    assert e.attrs["statement"] == "DROP TABLE"
    (e,) = run("python manage.py shell -c 'Order.objects.all().delete()'")
    assert e.attrs["objects"] == ("Order",)
    assert run("python manage.py shell -c 'Order.objects.filter(id=1).delete()'") == []
    (e,) = run(
        "python manage.py shell",
        stdin="from django.db import connection\nconnection.cursor().execute('TRUNCATE app_order')\n",
    )
    assert e.attrs["statement"] == "TRUNCATE"
    (e,) = gated(run("python manage.py dbshell", stdin="DELETE FROM app_user;"))
    assert e.attrs["statement"] == "DELETE"
    (e,) = gated(run("python manage.py dbshell -- -c 'DROP TABLE x'"))
    assert e.attrs["statement"] == "DROP TABLE"


# -- the db pack -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "env", "context_env", "outcome", "rule"),
    [
        ("psql -h prod-db -c 'DROP TABLE users'", {}, None, Outcome.DENY, "db.destructive-production"),
        ("psql -c 'DROP TABLE users'", {}, "production", Outcome.DENY, "db.destructive-production"),
        ("rails db:drop", {"RAILS_ENV": "production"}, None, Outcome.DENY, "db.destructive-production"),
        ("redis-cli -h prod-cache FLUSHALL", {}, None, Outcome.DENY, "db.destructive-production"),
        (
            "psql -c 'DROP TABLE users'",
            {},
            None,
            Outcome.REQUIRE_APPROVAL,
            "db.destructive-unknown-environment",
        ),
        (
            "psql -c 'DELETE FROM users WHERE 1=1'",
            {},
            None,
            Outcome.REQUIRE_APPROVAL,
            "db.destructive-unknown-environment",
        ),
        (
            "prisma migrate reset --force",
            {},
            None,
            Outcome.REQUIRE_APPROVAL,
            "db.destructive-unknown-environment",
        ),
        ("alembic downgrade -1", {}, None, Outcome.REQUIRE_APPROVAL, "db.destructive-unknown-environment"),
        (
            "python manage.py flush --noinput",
            {},
            None,
            Outcome.REQUIRE_APPROVAL,
            "db.destructive-unknown-environment",
        ),
        ("redis-cli FLUSHALL", {}, None, Outcome.REQUIRE_APPROVAL, "db.destructive-unknown-environment"),
        ("psql -h staging-db -c 'TRUNCATE t'", {}, None, Outcome.REQUIRE_APPROVAL, "db.destructive-staging"),
        ("psql -c 'GRANT ALL ON t TO bob'", {}, None, Outcome.REQUIRE_APPROVAL, "db.privilege-change"),
        (
            "psql -h localhost -c 'ALTER USER bob PASSWORD $$x$$'",
            {},
            None,
            Outcome.REQUIRE_APPROVAL,
            "db.privilege-change",
        ),
        (
            "rails db:migrate",
            {"RAILS_ENV": "production"},
            None,
            Outcome.REQUIRE_APPROVAL,
            "db.migrate-production",
        ),
        ("prisma migrate deploy", {}, "production", Outcome.REQUIRE_APPROVAL, "db.migrate-production"),
        ("psql -h prod-db", {}, None, Outcome.REQUIRE_APPROVAL, "db.unseen-sql-production"),
    ],
)
def test_pack_gates(line: str, env: dict[str, str], context_env: str | None, outcome: Outcome, rule: str) -> None:
    verdict = evaluate(DB_POLICY, run(line, env=env, context=ctx(context_env)))
    assert verdict.outcome is outcome
    assert rule in verdict.rule_ids
    for m in verdict.deciding:
        assert m.reason
        if m.outcome is not Outcome.ALLOW:
            assert m.alternative


def test_pack_staging_and_unknown_approval_shapes() -> None:
    v = evaluate(DB_POLICY, run("psql -h staging-db -c 'TRUNCATE t'"))
    assert v.approval is not None and v.approval.runtime_prompt is True
    v = evaluate(DB_POLICY, run("psql -c 'DROP TABLE t'"))
    assert v.approval is not None and v.approval.runtime_prompt is False
    v = evaluate(DB_POLICY, run("prisma migrate deploy", context=ctx("production")))
    assert v.approval is not None and "dba" in v.approval.approvers


@pytest.mark.parametrize(
    ("line", "env", "stdin"),
    [
        ("psql -c 'SELECT 1'", {}, None),
        ("psql -h prod-db -c 'SELECT count(*) FROM users'", {}, None),
        ("psql -c \"INSERT INTO users (name) VALUES ('bob')\"", {}, None),
        ("psql -c 'UPDATE users SET name = 1 WHERE id = 4'", {}, None),
        ("psql -c 'DELETE FROM sessions WHERE expires_at < now()'", {}, None),
        ("psql -c 'CREATE TABLE t (id int)'", {}, None),
        ("psql", {}, "SELECT * FROM pg_stat_activity;"),
        ("psql -h localhost -c 'DROP TABLE scratch'", {}, None),
        ("psql", {}, None),
        ("mysql -e 'SHOW TABLES' shop", {}, None),
        ("sqlite3 dev.db 'DROP TABLE t'", {}, None),
        ("sqlite3 test.sqlite3 'DELETE FROM users'", {}, None),
        ("duckdb analytics.duckdb 'CREATE OR REPLACE TABLE t AS SELECT 1'", {}, None),
        ("rails db:reset", {}, None),
        ("rails db:drop db:create db:migrate", {}, None),
        ("bin/rails db:migrate", {}, None),
        ("rails db:rollback", {}, None),
        ("rake db:schema:load", {"RAILS_ENV": "test"}, None),
        ("mix ecto.reset", {}, None),
        ("knex migrate:rollback --all", {}, None),
        ("prisma migrate dev", {}, None),
        ("prisma migrate reset --force", {"DATABASE_URL": "postgresql://u:p@localhost:5432/app"}, None),
        ("prisma migrate deploy", {}, None),
        ("alembic upgrade head", {}, None),
        ("python manage.py migrate", {}, None),
        ("supabase db reset", {}, None),
        ("redis-cli -h localhost FLUSHALL", {}, None),
        ("redis-cli GET key", {}, None),
        ("mongosh --eval 'db.users.find()'", {}, None),
        ("docker-compose exec db psql", {}, None),
    ],
)
def test_pack_allows_ordinary_work(line: str, env: dict[str, str], stdin: str | None) -> None:
    verdict = evaluate(DB_POLICY, run(line, env=env, stdin=stdin))
    assert verdict.outcome is Outcome.ALLOW, verdict.rule_ids


def test_pack_migration_files() -> None:
    from ringfence.analyze.sql import migration_file_effects

    found = migration_file_effects("db/migrations/002.sql", "ALTER TABLE users DROP COLUMN email;")
    v = evaluate(DB_POLICY, found)
    assert v.outcome is Outcome.REQUIRE_APPROVAL
    assert v.rule_ids == ("db.migration-file-destructive",)
    assert v.approval is not None and v.approval.runtime_prompt is True
    ok = migration_file_effects("db/migrations/001.sql", "CREATE TABLE users (id int);")
    assert evaluate(DB_POLICY, ok).outcome is Outcome.ALLOW


# -- end to end through the shell layer ------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "outcome"),
    [
        ("psql -c 'SELECT 1'", Outcome.ALLOW),
        ("sudo -u postgres psql -c 'DROP TABLE users'", Outcome.REQUIRE_APPROVAL),
        ("bash -c \"psql -h prod-db -c 'DROP TABLE users'\"", Outcome.DENY),
        ("psql <<'SQL'\nSELECT 1;\nDROP TABLE users;\nSQL", Outcome.REQUIRE_APPROVAL),
        ("psql <<< 'TRUNCATE audit'", Outcome.REQUIRE_APPROVAL),
        ("echo 'DROP TABLE x' | psql -h prod-db", Outcome.DENY),
        ("RAILS_ENV=production bin/rails db:drop", Outcome.DENY),
        ("env PGHOST=prod-db.internal psql -c 'DELETE FROM users'", Outcome.DENY),
        ("npx prisma migrate reset --force", Outcome.REQUIRE_APPROVAL),
        ("bundle exec rake db:migrate", Outcome.ALLOW),
        ("git commit -m 'DROP TABLE users'", Outcome.ALLOW),
        ("echo 'DROP TABLE users'", Outcome.ALLOW),
        ("psql -h localhost -c 'DELETE FROM users WHERE id = 42'", Outcome.ALLOW),
    ],
)
def test_end_to_end(source: str, outcome: Outcome) -> None:
    analyze_shell = pytest.importorskip("ringfence.analyze").analyze_shell
    from ringfence.policy.load import load_builtin

    effects = analyze_shell(source, ctx())
    db_effects = [e for e in effects if e.kind.startswith("db.")]
    assert evaluate(DB_POLICY, db_effects).outcome is outcome
    if outcome is not Outcome.ALLOW:
        assert evaluate(load_builtin(), effects).outcome is not Outcome.ALLOW


# -- properties ------------------------------------------------------------------------------


_WORDS = st.sampled_from(
    [
        "-c",
        "-e",
        "-f",
        "-h",
        "--host",
        "-d",
        "--",
        "-",
        "DROP TABLE x",
        "prod-db",
        "localhost",
        "db:drop",
        "migrate",
        "reset",
        "--force",
        "postgres://u@prod/db",
        "manage.py",
        "flush",
        "FLUSHALL",
        "query",
        "rm",
        "-q",
        "--eval",
        "db.dropDatabase()",
        "zero",
        "down",
        "=",
        "-x",
        "downgrade",
        "ecto.drop",
        "artisan",
        "",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(sorted(db.COMMANDS or ())),
    words=st.lists(_WORDS, max_size=8),
    stdin=st.none() | st.text(max_size=50),
)
def test_random_arguments_never_crash(name: str, words: list[str], stdin: str | None) -> None:
    cmd = Command(argv=(name, *words), stdin=stdin, cwd=CWD)
    for e in db.classify(cmd, ctx()):
        assert e.kind in EFFECT_KINDS
