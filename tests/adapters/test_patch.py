"""Codex's apply_patch format, read as Codex's own parser reads it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.adapters.patch import FileOp, Patch, parse_patch
from ringfence.errors import PayloadError


def patch(*body: str) -> str:
    return "\n".join(("*** Begin Patch", *body, "*** End Patch"))


def test_add_update_move_and_delete() -> None:
    p = parse_patch(
        patch(
            "*** Add File: path/add.py",
            "+abc",
            "+def",
            "*** Delete File: path/delete.py",
            "*** Update File: path/update.py",
            "*** Move to: path/update2.py",
            "@@ def f():",
            "-    pass",
            "+    return 123",
        )
    )
    assert p.ops == (
        FileOp("add", "path/add.py", "abc\ndef\n"),
        FileOp("delete", "path/delete.py"),
        FileOp("update", "path/update.py", "    return 123", "path/update2.py"),
    )
    assert p.writes == [("path/add.py", "abc\ndef\n"), ("path/update2.py", "    return 123")]
    assert p.deletes == ["path/delete.py", "path/update.py"]
    assert p.paths == ["path/add.py", "path/delete.py", "path/update.py", "path/update2.py"]


def test_update_content_is_the_new_text_of_every_hunk() -> None:
    p = parse_patch(
        patch(
            "*** Update File: app.py",
            "@@ class A",
            " keep",
            "-old",
            "+new",
            "",
            "@@",
            "+tail",
            "*** End of File",
        )
    )
    assert p.ops == (FileOp("update", "app.py", "keep\nnew\n\ntail"),)


def test_first_hunk_may_omit_the_context_marker_and_empty_lines_are_context() -> None:
    p = parse_patch(patch("*** Update File: file2.py", " import foo", "+bar", "", "@@", "+baz"))
    assert p.writes == [("file2.py", "import foo\nbar\n\nbaz")]


def test_heredoc_wrapper_and_surrounding_whitespace_and_crlf() -> None:
    text = "\n  <<'EOF'\r\n*** Begin Patch \r\n*** Add File: a.txt\r\n+x\r\n*** End Patch\r\nEOF\n"
    assert parse_patch(text.replace("  <<", "<<")).writes == [("a.txt", "x\n")]
    assert parse_patch("  " + patch("*** Add File: b.txt", "+y") + "\n\n").writes == [("b.txt", "y\n")]


def test_a_move_to_the_same_path_is_no_deletion() -> None:
    p = parse_patch(patch("*** Update File: a.py", "*** Move to: a.py", "@@", "+x"))
    assert p.deletes == [] and p.writes == [("a.py", "x")]


def test_absolute_paths_and_paths_with_spaces_are_kept() -> None:
    p = parse_patch(patch("*** Add File: /etc/cron.d/job", "+* * * * * root x", "*** Delete File: my notes.txt"))
    assert p.writes == [("/etc/cron.d/job", "* * * * * root x\n")]
    assert p.deletes == ["my notes.txt"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "first line must be '*** Begin Patch'"),
        ("bad", "first line must be '*** Begin Patch'"),
        ("*** Begin Patch\n*** Add File: a\n+x", "last line must be '*** End Patch'"),
        ("*** Begin Patch", "last line must be '*** End Patch'"),
        (patch(), "adds, updates or deletes no file"),
        (patch("*** Update File: test.py"), "patch line 2: the update of 'test.py' has no hunk"),
        (patch("foo"), "patch line 2: 'foo' is not a file header"),
        (patch("*** Add File: a", "+x", "junk"), "patch line 4: 'junk' is not a file header"),
        (patch("*** Update File: a", "@@", "*** End of File"), "the hunk has no lines"),
        (patch("*** Update File: a", "@@", "x"), "'x' is not a hunk line"),
        (patch("*** Update File: a", "@@", "+x", "*** Frobnicate: b"), "is not a file header"),
        (patch("*** Update File: a", "*** Move to: ", "@@", "+x"), "the path is empty"),
        (patch("*** Add File: a\x00b", "+x"), "NUL byte"),
        ("<<'EOF'\n*** Begin Patch\nEOF", "first line must be '*** Begin Patch'"),
    ],
)
def test_malformed_patches_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(PayloadError, match=message.replace("(", r"\(").replace("*", r"\*")):
        parse_patch(text)


def test_a_second_hunk_needs_its_marker() -> None:
    # After a hunk, a line that is no hunk line starts the next hunk, which needs its @@.
    with pytest.raises(PayloadError, match="patch line 5: a hunk must start with '@@', not 'garbage'"):
        parse_patch(patch("*** Update File: a", "@@", "+x", "garbage"))


def test_not_a_string() -> None:
    with pytest.raises(PayloadError, match="must be a string"):
        parse_patch(
            b"*** Begin Patch"  # type: ignore[arg-type]
        )


_LINES = st.sampled_from(
    [
        "*** Begin Patch",
        "*** End Patch",
        "*** Add File: a.txt",
        "*** Delete File: .env",
        "*** Update File: src/x.py",
        "*** Move to: y.py",
        "*** End of File",
        "*** Move to: ",
        "@@",
        "@@ def f():",
        "+added",
        "-removed",
        " context",
        "",
        "<<'EOF'",
        "EOF",
        "*",
        "\r",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_LINES, st.text(max_size=12)), max_size=14))
def test_any_text_parses_or_raises_a_payload_error(lines: list[str]) -> None:
    for text in ("\n".join(lines), patch(*lines)):
        try:
            result = parse_patch(text)
        except PayloadError as exc:
            assert str(exc)
            continue
        assert isinstance(result, Patch) and result.ops
        for path, content in result.writes:
            assert path.strip() and "\x00" not in path and isinstance(content, str)
