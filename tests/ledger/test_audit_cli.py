"""`ringfence audit` end to end: the hook writes, audit verifies, tampering is named."""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.helpers import RINGFENCE, hook_answer, isolated_env, make_workspace, payload, run_hook
from tests.ledger.test_merkle import ref_mth, ref_path

COMMANDS = ["git status", "rm -rf /", "ls -la", "npm test", "cat .env", "git push origin feature/x", "make", "pytest"]


@pytest.fixture()
def logged(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    env = isolated_env(tmp_path)
    ws = make_workspace(tmp_path)
    (ws / ".ringfence").mkdir()
    (ws / ".ringfence" / "config.yaml").write_text(f"checkpoint_every: 3\nwitness: {tmp_path / 'witness'}\n")
    for cmd in COMMANDS:
        hook_answer(run_hook(json.dumps(payload("Bash", {"command": cmd}, ws)).encode(), env, ws))
    db = Path(env["XDG_STATE_HOME"]) / "ringfence" / "ledger.db"
    return env, ws, db


def rf(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RINGFENCE, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False
    )


def _tamper(db: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    con = sqlite3.connect(db)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {name}")
    con.execute(sql, params)
    con.commit()
    con.close()


def test_clean_log_verifies_with_automatic_checkpoints(logged: tuple[dict[str, str], Path, Path]) -> None:
    env, ws, _db = logged
    proc = rf(env, ws, "audit", "verify")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK 8 entries" in proc.stdout and "2 checkpoint(s) matched" in proc.stdout
    witness = ws.parent / "witness"
    assert (witness / "latest").exists() and (witness / "checkpoint-000000000006").exists()


def test_modified_entry_is_named(logged: tuple[dict[str, str], Path, Path]) -> None:
    env, ws, db = logged
    body = sqlite3.connect(db).execute("SELECT body FROM entries WHERE seq = 1").fetchone()[0]
    _tamper(db, "UPDATE entries SET body = ? WHERE seq = 1", (bytes(body).replace(b'"deny"', b'"allow"'),))
    proc = rf(env, ws, "audit", "verify")
    assert proc.returncode == 1
    assert "entry 1: modified" in proc.stdout


def test_entry_rewritten_with_its_leaf_is_named(logged: tuple[dict[str, str], Path, Path]) -> None:
    env, ws, db = logged
    import hashlib

    body = bytes(sqlite3.connect(db).execute("SELECT body FROM entries WHERE seq = 4").fetchone()[0])
    forged = body.replace(b'"deny"', b'"allow"')
    _tamper(
        db, "UPDATE entries SET body = ?, leaf = ? WHERE seq = 4", (forged, hashlib.sha256(b"\0" + forged).digest())
    )
    proc = rf(env, ws, "audit", "verify")
    assert proc.returncode == 1 and "entry 4: modified" in proc.stdout


def test_deleted_entry_is_named(logged: tuple[dict[str, str], Path, Path]) -> None:
    env, ws, db = logged
    _tamper(db, "DELETE FROM entries WHERE seq = 2")
    proc = rf(env, ws, "audit", "verify")
    assert proc.returncode == 1 and "entry 2: missing" in proc.stdout


def test_truncated_log_contradicts_its_checkpoints(logged: tuple[dict[str, str], Path, Path]) -> None:
    env, ws, db = logged
    _tamper(db, "DELETE FROM entries WHERE seq >= 5")  # entries a checkpoint (size 6) committed to
    proc = rf(env, ws, "audit", "verify")
    assert proc.returncode == 1
    assert "the log says it has" in proc.stdout or "beyond the end of the log" in proc.stdout


def test_reordered_entries_are_named(logged: tuple[dict[str, str], Path, Path]) -> None:
    env, ws, db = logged
    con = sqlite3.connect(db)
    a = con.execute("SELECT body, leaf FROM entries WHERE seq = 5").fetchone()
    b = con.execute("SELECT body, leaf FROM entries WHERE seq = 6").fetchone()
    con.close()
    _tamper(db, "UPDATE entries SET body = ?, leaf = ? WHERE seq = 5", (b[0], b[1]))
    _tamper(db, "UPDATE entries SET body = ?, leaf = ? WHERE seq = 6", (a[0], a[1]))
    out = rf(env, ws, "audit", "verify").stdout
    assert "entry 5: modified" in out and "entry 6: modified" in out


def test_witness_detects_a_rewritten_history(logged: tuple[dict[str, str], Path, Path], tmp_path: Path) -> None:
    env, ws, db = logged
    witness = tmp_path / "witness" / "checkpoint-000000000006"
    ok = rf(env, ws, "audit", "verify", "--from-checkpoint", str(witness))
    assert ok.returncode == 0 and "consistent with" in ok.stdout
    # an attacker rewrites the whole database: entries, leaves, nodes and checkpoints
    con = sqlite3.connect(db)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {name}")
    con.execute("DELETE FROM entries")
    con.execute("DELETE FROM nodes")
    con.execute("DELETE FROM checkpoints")
    con.commit()
    con.close()
    for cmd in ["ls"] * 8:
        hook_answer(run_hook(json.dumps(payload("Bash", {"command": cmd}, ws)).encode(), env, ws))
    assert rf(env, ws, "audit", "verify").returncode == 0  # internally consistent...
    bad = rf(env, ws, "audit", "verify", "--from-checkpoint", str(witness))
    assert bad.returncode == 1 and "not consistent with the witnessed checkpoint" in bad.stdout
    assert list((tmp_path / "witness").glob("checkpoint-000000000006.fork-*"))  # the witness kept the original


def test_inclusion_proof_checks_with_an_independent_implementation(logged: tuple[dict[str, str], Path, Path]) -> None:
    env, ws, db = logged
    bodies = [bytes(r[0]) for r in sqlite3.connect(db).execute("SELECT body FROM entries ORDER BY seq")]
    for index in range(len(bodies)):
        doc = json.loads(rf(env, ws, "audit", "prove", "--index", str(index)).stdout)
        assert doc["verified"] is True
        assert doc["root_hash"] == ref_mth(bodies).hex()
        assert doc["inclusion_path"] == [h.hex() for h in ref_path(index, bodies)]
        assert base64.b64decode(doc["entry_base64"]) == bodies[index]


def test_consistency_from_an_old_checkpoint(logged: tuple[dict[str, str], Path, Path], tmp_path: Path) -> None:
    env, ws, _ = logged
    old = tmp_path / "witness" / "checkpoint-000000000003"
    doc = json.loads(rf(env, ws, "audit", "consistency", "--old", str(old)).stdout)
    assert doc["old_size"] == 3 and doc["new_size"] == 8 and doc["verified"] is True
    forged = tmp_path / "forged"
    forged.write_text(old.read_text().replace("\n3\n", "\n4\n"))
    proc = rf(env, ws, "audit", "consistency", "--old", str(forged))
    assert proc.returncode == 3 and "signature" in proc.stderr.lower()


def test_search_show_export(logged: tuple[dict[str, str], Path, Path], tmp_path: Path) -> None:
    env, ws, _ = logged
    denies = [
        json.loads(line) for line in rf(env, ws, "audit", "search", "--decision", "deny", "--json").stdout.splitlines()
    ]
    assert [d["seq"] for d in denies] == [1, 4]
    secrets = rf(env, ws, "audit", "search", "--effect", "secrets.", "--json").stdout.splitlines()
    assert len(secrets) == 1
    shown = json.loads(rf(env, ws, "audit", "show", "4").stdout)
    assert shown["_proof"]["included"] is True and shown["decision"] == "deny"
    out = tmp_path / "export.jsonl"
    proc = rf(env, ws, "audit", "export", "--format", "jsonl", "--output", str(out))
    assert proc.returncode == 0 and len(out.read_text().splitlines()) == 8
    assert rf(env, ws, "audit", "show", "99").returncode == 3
    assert rf(env, ws, "audit", "prove", "--index", "8").returncode == 3


def test_audit_without_a_ledger(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    ws = make_workspace(tmp_path)
    proc = rf(env, ws, "audit", "verify")
    assert proc.returncode == 3 and "nothing has been recorded" in proc.stderr


def test_inserted_entry_is_named(logged: tuple[dict[str, str], Path, Path]) -> None:
    env, ws, db = logged
    import hashlib

    forged = b'{"decision":"allow","kind":"decision"}'
    _tamper(
        db,
        "INSERT INTO entries (seq, ts, kind, principal_type, principal_id, runtime, decision, action_digest, "
        "policy_digest, body, leaf) "
        "VALUES (8, '2026-01-01T00:00:00Z', 'decision', 'agent', 'x', NULL, 'allow', '', '', ?, ?)",
        (forged, hashlib.sha256(b"\0" + forged).digest()),
    )
    proc = rf(env, ws, "audit", "verify")
    assert proc.returncode == 1 and "entry 8: tree node (0, 8) is missing" in proc.stdout
