"""Safe editing of JSON settings files: strict parsing, style, plans, backups, atomic writes."""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import datetime
from pathlib import Path

import pytest

from ringfence.wiring.jsonfile import (
    Plan,
    SettingsFileError,
    apply,
    atomic_write,
    backup_path,
    detect_indent,
    dump_like,
    format_pointer,
    load,
    locate,
    parse_object,
    read_text,
)

P = Path("settings.json")
BACKUP_RE = re.compile(r"^settings\.json\.ringfence-backup-\d{8}T\d{6}(-\d+)?$")


# --- parsing ---------------------------------------------------------------------------


def test_parse_keeps_key_order() -> None:
    data = parse_object('{"z": 1, "a": {"y": 2, "b": 3}, "m": [1, 2]}', P)
    assert list(data) == ["z", "a", "m"]
    assert list(data["a"]) == ["y", "b"]


def test_empty_file_is_an_empty_object() -> None:
    assert parse_object("", P) == {}
    assert parse_object("  \n", P) == {}


def test_invalid_json_reports_file_line_and_column() -> None:
    with pytest.raises(SettingsFileError) as info:
        parse_object('{\n  "a": 1,\n  "b": oops\n}\n', P)
    err = info.value
    assert (err.line, err.column) == (3, 8)
    assert str(err).startswith("settings.json:3:8: invalid JSON")


def test_trailing_comma_is_invalid() -> None:
    with pytest.raises(SettingsFileError) as info:
        parse_object('{"a": 1,}', P)
    assert info.value.line == 1


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(SettingsFileError, match="duplicate key 'hooks'"):
        parse_object('{"hooks": {}, "hooks": {}}', P)


def test_nan_is_refused() -> None:
    with pytest.raises(SettingsFileError, match="NaN"):
        parse_object('{"a": NaN}', P)


@pytest.mark.parametrize(("text", "kind"), [("[]", "array"), ('"x"', "string"), ("3", "number"), ("null", "null")])
def test_non_object_root_is_refused(text: str, kind: str) -> None:
    with pytest.raises(SettingsFileError, match=f"top level is a JSON {kind}") as info:
        parse_object(text, P)
    assert (info.value.line, info.value.column) == (1, 1)


def test_read_text_missing_file_is_none(tmp_path: Path) -> None:
    assert read_text(tmp_path / "nope.json") is None
    assert load(tmp_path / "nope.json") == ({}, None)


def test_read_text_rejects_non_utf8_with_position(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b'{\n  "a": "\xff"\n}\n')
    with pytest.raises(SettingsFileError, match="not valid UTF-8") as info:
        read_text(path)
    assert (info.value.line, info.value.column) == (2, 9)


def test_read_text_strips_bom(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}')
    assert load(path)[0] == {"a": 1}


def test_read_text_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsFileError, match="is a directory"):
        read_text(tmp_path)


# --- locating values -------------------------------------------------------------------


def test_locate_finds_nested_values() -> None:
    text = '{\n  "a": [1, {"b": true}],\n  "hooks": {\n    "PreToolUse": {"x": 1}\n  }\n}'
    assert locate(text, ()) == (1, 1)
    assert locate(text, ("a",)) == (2, 8)
    assert locate(text, ("a", 1)) == (2, 12)
    assert locate(text, ("a", 1, "b")) == (2, 18)
    assert locate(text, ("hooks", "PreToolUse")) == (4, 19)
    assert locate(text, ("missing",)) is None
    assert locate(text, ("a", 5)) is None
    assert locate(text, ("a", "b")) is None


def test_format_pointer() -> None:
    assert format_pointer(("hooks", "PreToolUse", 0, "hooks")) == "hooks.PreToolUse[0].hooks"
    assert format_pointer(()) == "(root)"


# --- style -----------------------------------------------------------------------------


def test_dump_like_keeps_indent_newlines_and_unicode() -> None:
    four = '{\n    "a": 1\n}\n'
    assert detect_indent(four) == "    "
    assert dump_like({"a": 1, "é": "ü"}, four) == '{\n    "a": 1,\n    "é": "ü"\n}\n'
    tabs = '{\n\t"a": 1\n}'
    assert dump_like({"a": 2}, tabs) == '{\n\t"a": 2\n}'  # no final newline, as before
    crlf = '{\r\n  "a": 1\r\n}\r\n'
    assert dump_like({"a": 1}, crlf) == crlf
    assert dump_like({"a": 1}, None) == '{\n  "a": 1\n}\n'
    assert detect_indent('{"a": 1}') == "  "


# --- plans and diffs -------------------------------------------------------------------


def test_plan_diff_for_change_and_creation(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    plan = Plan(path, '{\n  "a": 1\n}\n', '{\n  "a": 2\n}\n')
    assert plan.changed and not plan.creates
    assert plan.diff().splitlines() == [
        f"--- {path}",
        f"+++ {path}",
        "@@ -1,3 +1,3 @@",
        " {",
        '-  "a": 1',
        '+  "a": 2',
        " }",
    ]
    created = Plan(path, None, "{}\n")
    assert created.creates
    assert created.diff().splitlines()[:2] == ["--- /dev/null", f"+++ {path}"]
    assert Plan(path, "{}", "{}").diff() == ""


def test_diff_marks_missing_final_newline(tmp_path: Path) -> None:
    diff = Plan(tmp_path / "s.json", '{"a": 1}', '{"a": 2}').diff()
    assert "\\ No newline at end of file" in diff


# --- apply -----------------------------------------------------------------------------


def test_apply_backs_up_then_writes_keeping_mode(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"a": 1}\n')
    path.chmod(0o600)
    plan = Plan(path, '{"a": 1}\n', '{"a": 2}\n')
    backup = apply(plan)
    assert backup is not None and backup.parent == tmp_path
    assert BACKUP_RE.match(backup.name)
    assert backup.read_text() == '{"a": 1}\n'
    assert path.read_text() == '{"a": 2}\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["settings.json", backup.name])


def test_apply_creates_file_and_parent_without_backup(tmp_path: Path) -> None:
    path = tmp_path / ".claude" / "settings.json"
    assert apply(Plan(path, None, "{}\n")) is None
    assert path.read_text() == "{}\n"
    assert os.listdir(path.parent) == ["settings.json"]


def test_apply_unchanged_plan_touches_nothing(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{}")
    before = path.stat().st_mtime_ns
    assert apply(Plan(path, "{}", "{}")) is None
    assert path.stat().st_mtime_ns == before
    assert os.listdir(tmp_path) == ["settings.json"]


def test_apply_refuses_when_file_changed_since_plan(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"a": 1}')
    plan = Plan(path, '{"a": 1}', '{"a": 2}')
    path.write_text('{"a": 3}')
    with pytest.raises(SettingsFileError, match="changed since it was read"):
        apply(plan)
    assert path.read_text() == '{"a": 3}'
    assert os.listdir(tmp_path) == ["settings.json"]


def test_apply_through_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "settings.json"
    real.parent.mkdir()
    real.write_text("{}")
    link = tmp_path / "settings.json"
    link.symlink_to(real)
    backup = apply(Plan(link, "{}", '{"a": 1}'))
    assert link.is_symlink()
    assert real.read_text() == '{"a": 1}'
    assert backup is not None and backup.parent == real.parent and backup.read_text() == "{}"


def test_backup_names_do_not_collide(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{}")
    now = datetime(2025, 1, 2, 3, 4, 5)
    first = apply(Plan(path, "{}", '{"a": 1}'), now=now)
    second = apply(Plan(path, '{"a": 1}', '{"a": 2}'), now=now)
    assert first is not None and first.name == "settings.json.ringfence-backup-20250102T030405"
    assert second is not None and second.name == "settings.json.ringfence-backup-20250102T030405-1"
    assert first.read_text() == "{}" and second.read_text() == '{"a": 1}'
    assert backup_path(path, now).name.endswith("-2")


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    atomic_write(path, json.dumps({"x": 1}))
    atomic_write(path, json.dumps({"x": 2}))
    assert os.listdir(tmp_path) == ["s.json"]
    assert json.loads(path.read_text()) == {"x": 2}
