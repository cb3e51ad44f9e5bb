"""What provenance reads from and writes to a git repository.

This runs ``git`` (never on the decision path: attesting and verifying are explicit
commands). Three things:

* **Tree digests.** A commit's subject digest is the SHA-256 of its *tree manifest*: one
  line ``<mode> <type> <sha256-of-content> <path>\\n`` for every entry of ``git ls-tree -r
  --full-tree`` (blobs by the SHA-256 of their bytes, submodules by their commit id),
  sorted by the path's bytes. It depends on content alone — not on SHA-1, author, dates or
  history — so it is the same for the same files in any clone, and the git tree and
  commit ids (``gitTree``, ``gitCommit``) are recorded beside it.
* **Notes.** Attestations are attached to the commit they describe in
  ``refs/notes/ringfence``, one DSSE envelope per line.
* **Sharing.** ``push_notes`` / ``fetch_notes`` move that ref to and from a remote.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ringfence.provenance.errors import GitError

NOTES_REF = "refs/notes/ringfence"
_IDENTITY = {
    "GIT_AUTHOR_NAME": "ringfence",
    "GIT_AUTHOR_EMAIL": "ringfence@localhost",
    "GIT_COMMITTER_NAME": "ringfence",
    "GIT_COMMITTER_EMAIL": "ringfence@localhost",
}


def git(repo: Path, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> bytes:
    """Run ``git -C repo args``; its stdout. Raises :class:`GitError` with git's own message."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            input=stdin,
            capture_output=True,
            env={**os.environ, **(env or {}), "GIT_TERMINAL_PROMPT": "0"},
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed (provenance reads commits and notes with git)") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise GitError(f"git {' '.join(args[:2])} failed in {repo}: {message}")
    return done.stdout


def toplevel(start: Path) -> Path:
    try:
        return Path(git(start, "rev-parse", "--show-toplevel").decode().strip())
    except GitError:
        raise GitError(f"{start} is not inside a git repository (use --repo DIR)") from None


def resolve(repo: Path, rev: str) -> str:
    """The full commit id ``rev`` names."""
    if not rev or rev.startswith("-"):
        raise GitError(f"{rev!r} is not a revision")
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}").decode().strip()
    except GitError:
        raise GitError(f"{rev!r} does not name a commit in {repo}") from None


def commit_time(repo: Path, commit: str) -> int:
    return int(git(repo, "show", "-s", "--format=%ct", commit).decode().strip())


def remote_url(repo: Path, remote: str = "origin") -> str | None:
    """The remote's URL without any credentials in it, or None."""
    try:
        url = git(repo, "config", "--get", f"remote.{remote}.url").decode().strip()
    except GitError:
        return None
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\1", url) or None


@dataclass(frozen=True)
class TreeDigest:
    commit: str
    tree: str
    sha256: str

    def digest_set(self) -> dict[str, str]:
        return {"sha256": self.sha256, "gitTree": self.tree, "gitCommit": self.commit}


def _blob_digests(repo: Path, ids: Sequence[str]) -> dict[str, str]:
    """SHA-256 of each blob's content, read through one ``git cat-file --batch``."""
    out: dict[str, str] = {}
    if not ids:
        return out
    proc = subprocess.Popen(
        ["git", "-C", str(repo), "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    stdin = proc.stdin

    def feed() -> None:  # a writer thread, so a large tree cannot deadlock the two pipes
        try:
            stdin.write(b"".join(i.encode() + b"\n" for i in ids))
        finally:
            stdin.close()

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        for _ in ids:
            header = proc.stdout.readline().split()
            if len(header) != 3 or header[1] != b"blob":
                raise GitError(f"git cat-file answered {b' '.join(header).decode(errors='replace')!r}")
            remaining, h = int(header[2]), hashlib.sha256()
            while remaining:
                chunk = proc.stdout.read(min(remaining, 1 << 20))
                if not chunk:
                    raise GitError("git cat-file ended early")
                h.update(chunk)
                remaining -= len(chunk)
            proc.stdout.read(1)  # the newline after each object
            out[header[0].decode()] = h.hexdigest()
    finally:
        writer.join()
        proc.stdout.close()
        proc.wait()
    return out


def tree_digest(repo: Path, commit: str) -> TreeDigest:
    """The content digest of ``commit``'s tree (see the module docstring)."""
    tree = git(repo, "rev-parse", f"{commit}^{{tree}}").decode().strip()
    listing = git(repo, "ls-tree", "-r", "-z", "--full-tree", commit).split(b"\0")
    entries: list[tuple[bytes, bytes, bytes, str]] = []
    for item in listing:
        if not item:
            continue
        meta, _, path = item.partition(b"\t")
        mode, kind, raw_id = meta.split(b" ")
        entries.append((path, mode, kind, raw_id.decode()))
    blobs = _blob_digests(repo, sorted({oid for _, _, kind, oid in entries if kind == b"blob"}))
    h = hashlib.sha256()
    for path, mode, kind, oid in sorted(entries):
        content = (blobs[oid] if kind == b"blob" else oid).encode("ascii")
        h.update(mode + b" " + kind + b" " + content + b" " + path + b"\n")
    return TreeDigest(commit, tree, h.hexdigest())


# --- notes -----------------------------------------------------------------------------------


def read_notes(repo: Path, commit: str) -> list[str]:
    """The lines of ``commit``'s ringfence note (empty when it has none)."""
    try:
        text = git(repo, "notes", f"--ref={NOTES_REF}", "show", commit).decode("utf-8", "replace")
    except GitError as exc:
        if "no note found" in str(exc).lower():
            return []
        raise
    return [line for line in text.splitlines() if line.strip()]


def write_notes(repo: Path, commit: str, lines: Sequence[str]) -> None:
    """Replace ``commit``'s ringfence note with ``lines`` (one envelope per line)."""
    has_identity = True
    try:
        git(repo, "config", "--get", "user.email")
    except GitError:
        has_identity = False
    env = {k: v for k, v in _IDENTITY.items() if k not in os.environ} if not has_identity else {}
    body = "".join(line.rstrip("\n") + "\n" for line in lines).encode("utf-8")
    git(repo, "notes", f"--ref={NOTES_REF}", "add", "-f", "-F", "-", commit, stdin=body, env=env)


def push_notes(repo: Path, remote: str) -> None:
    git(repo, "push", "--quiet", remote, f"{NOTES_REF}:{NOTES_REF}")


def fetch_notes(repo: Path, remote: str) -> None:
    git(repo, "fetch", "--quiet", remote, f"{NOTES_REF}:{NOTES_REF}")
