"""CODEOWNERS: GitHub matching semantics, GitLab sections, loading from the tree and from git."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ringfence.review.codeowners import LOCATIONS, CodeOwners, read_at
from ringfence.review.findings import ReviewInputError

GITHUB_EXAMPLE = """\
# Default owners for everything in the repo.
*       @global-owner1 @global-owner2

# Order is important; the last matching pattern takes the most precedence.
*.js    @js-owner #This is an inline comment.

*.go docs@example.com

# Teams
*.txt @octo-org/octocats

# Files directly in build/logs at the root.
/build/logs/ @doctocat

# Only files directly in docs/, not nested ones.
docs/* docs@example.com

# Any apps/ directory anywhere.
apps/ @octocat

# The docs/ directory at the root only.
/docs/ @doctocat

# A logs directory anywhere.
**/logs @octocat

# No owners: files under /apps/github have no owner.
/apps/ @octocat
/apps/github
"""


@pytest.fixture
def github() -> CodeOwners:
    return CodeOwners.parse(GITHUB_EXAMPLE)


def test_last_matching_line_wins(github: CodeOwners) -> None:
    assert github.owners("README.md") == ("@global-owner1", "@global-owner2")
    assert github.owners("src/app.js") == ("@js-owner",)
    assert github.owners("notes.txt") == ("@octo-org/octocats",)
    assert github.owners("main.go") == ("docs@example.com",)


def test_star_and_double_star() -> None:
    owners = CodeOwners.parse("* @everyone\nsrc/**/migrations/ @dba\n**/secrets.yaml @sec\n")
    assert owners.owners("deep/nested/file.py") == ("@everyone",)
    assert owners.owners("src/a/b/migrations/0001.sql") == ("@dba",)
    assert owners.owners("src/migrations/0001.sql") == ("@dba",)
    assert owners.owners("other/migrations/0001.sql") == ("@everyone",)
    assert owners.owners("config/prod/secrets.yaml") == ("@sec",)


def test_directory_patterns(github: CodeOwners) -> None:
    # `apps/` matches an apps directory at any depth...
    assert github.owners("web/apps/page.ts") == ("@octocat",)
    # ...`/build/logs/` only at the root, and everything under it.
    assert github.owners("build/logs/2024/run.log") == ("@octocat",)  # `**/logs` is later and also matches
    owners = CodeOwners.parse("/build/logs/ @doctocat\n")
    assert owners.owners("build/logs/2024/run.log") == ("@doctocat",)
    assert owners.owners("src/build/logs/run.log") == ()


def test_docs_star_matches_direct_children_only(github: CodeOwners) -> None:
    owners = CodeOwners.parse("* @all\ndocs/* @docs\n")
    assert owners.owners("docs/getting-started.md") == ("@docs",)
    assert owners.owners("docs/build-app/troubleshooting.md") == ("@all",)


def test_anchored_docs(github: CodeOwners) -> None:
    assert github.owners("docs/guide/intro.md") == ("@doctocat",)
    # Not anchored elsewhere: a nested docs/ directory keeps the default owners.
    assert github.owners("pkg/docs/guide/intro.md") == ("@global-owner1", "@global-owner2")


def test_pattern_without_owners_removes_ownership(github: CodeOwners) -> None:
    assert github.owners("apps/web/index.html") == ("@octocat",)
    assert github.owners("apps/github/index.html") == ()


def test_comments_escapes_and_inline_comments() -> None:
    text = "# a comment line\n\n\\#notes.md @notes  # trailing comment\nmy\\ file.txt @spaces\n   # indented comment\n"
    owners = CodeOwners.parse(text)
    assert owners.owners("#notes.md") == ("@notes",)
    assert owners.owners("my file.txt") == ("@spaces",)
    assert owners.owners("notes.md") == ()
    assert [r.line for r in owners.rules] == [3, 4]
    assert owners.problems == ()


def test_paths_are_normalised_and_case_sensitive() -> None:
    owners = CodeOwners.parse("/src/ @core\n")
    assert owners.owners("/src/a.py") == ("@core",)
    assert owners.owners("./src/a.py") == ("@core",)
    assert owners.owners("SRC/a.py") == ()


def test_owners_deduplicated_in_file_order() -> None:
    owners = CodeOwners.parse("*.py @b @a @b a@example.com\n")
    assert owners.owners("x.py") == ("@b", "@a", "a@example.com")


def test_malformed_lines_are_skipped_and_recorded() -> None:
    text = "* @default\nsrc/ @ok not-an-owner\n!vendor/ @x\n[Broken\nlib/ @lib\n"
    owners = CodeOwners.parse(text, source=".github/CODEOWNERS")
    assert owners.owners("src/a.py") == ("@default",)  # the bad line did not apply
    assert owners.owners("lib/x.py") == ("@lib",)
    assert [p.split(":")[1] for p in owners.problems] == ["2", "3", "4"]
    assert "'not-an-owner'" in owners.problems[0]
    assert owners.problems[0].startswith(".github/CODEOWNERS:2:")


def test_owners_for() -> None:
    owners = CodeOwners.parse("* @all\n/infra/ @ops\n")
    assert owners.owners_for(["infra/main.tf", "README.md"]) == {"infra/main.tf": ("@ops",), "README.md": ("@all",)}


GITLAB = """\
* @default-owner

[Documentation]
docs/ @docs-team
README.md

[Database][2] @dba-lead
*.sql
db/ @dba-team

^[Optional Security]
*.sql @security
auth/

[documentation]
docs/internal/ @internal-docs
"""


def test_gitlab_sections_are_united() -> None:
    owners = CodeOwners.parse(GITLAB)
    assert owners.problems == ()
    # The unnamed section and the Documentation section both match.
    assert owners.owners("docs/index.md") == ("@default-owner", "@docs-team")
    # The last match within Documentation (a no-owner line) gives no owners from that section.
    assert owners.owners("README.md") == ("@default-owner",)
    # Database: a line without owners takes the section's default owners; Security is united in.
    assert owners.owners("schema.sql") == ("@default-owner", "@dba-lead", "@security")
    assert owners.owners("db/migrate.sql") == ("@default-owner", "@dba-team", "@security")


def test_gitlab_section_names_merge_case_insensitively() -> None:
    owners = CodeOwners.parse(GITLAB)
    # `[documentation]` continues `[Documentation]`: its later line wins within the section.
    assert owners.owners("docs/internal/x.md") == ("@default-owner", "@internal-docs")
    assert {r.section for r in owners.rules} == {"", "Documentation", "Database", "Optional Security"}


def test_load_uses_github_lookup_order(tmp_path: Path) -> None:
    assert CodeOwners.load(tmp_path) is None
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "CODEOWNERS").write_text("* @from-docs\n")
    (tmp_path / "CODEOWNERS").write_text("* @from-root\n")
    loaded = CodeOwners.load(tmp_path)
    assert loaded is not None and loaded.source == "CODEOWNERS"
    assert loaded.owners("x") == ("@from-root",)
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "CODEOWNERS").write_text("* @from-github\n")
    loaded = CodeOwners.load(tmp_path)
    assert loaded is not None and loaded.source == ".github/CODEOWNERS"
    assert loaded.owners("x") == ("@from-github",)


def test_load_ignores_a_directory_named_codeowners(tmp_path: Path) -> None:
    (tmp_path / ".github" / "CODEOWNERS").mkdir(parents=True)
    (tmp_path / "CODEOWNERS").write_text("* @root\n")
    loaded = CodeOwners.load(tmp_path)
    assert loaded is not None and loaded.source == "CODEOWNERS"


def _git(repo: Path, *args: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(repo),
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_read_at_reads_each_revision(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("hi\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "no owners yet")
    first = _git(repo, "rev-parse", "HEAD")
    (repo / "CODEOWNERS").write_text("* @root\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "root owners")
    second = _git(repo, "rev-parse", "HEAD")
    (repo / ".github").mkdir()
    (repo / ".github" / "CODEOWNERS").write_text("* @github\n/infra/ @ops\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "github owners")
    (repo / ".github" / "CODEOWNERS").write_text("* @uncommitted\n")  # the working tree is not read

    assert read_at(repo, first) is None
    at_second = read_at(repo, second)
    assert at_second is not None and at_second.source == f"{second}:CODEOWNERS"
    assert at_second.owners("infra/main.tf") == ("@root",)
    at_head = read_at(repo, "HEAD")
    assert at_head is not None and at_head.source == "HEAD:.github/CODEOWNERS"
    assert at_head.owners("infra/main.tf") == ("@ops",)
    loaded = CodeOwners.load(repo)
    assert loaded is not None and loaded.owners("infra/main.tf") == ("@uncommitted",)


def test_read_at_rejects_a_bad_revision(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    with pytest.raises(ReviewInputError):
        read_at(tmp_path, "no-such-branch")
    with pytest.raises(ReviewInputError):
        read_at(tmp_path, "--output=/tmp/x")


def test_locations_order() -> None:
    assert LOCATIONS[:3] == (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
