"""Configuration: defaults, layering, and precise errors that change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringfence.config import load_settings
from ringfence.errors import ConfigError


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for k in ("RINGFENCE_CONFIG", "RINGFENCE_LEDGER", "RINGFENCE_ENV"):
        monkeypatch.delenv(k, raising=False)


def _ws(tmp_path: Path, text: str | None = None) -> Path:
    ws = tmp_path / "repo"
    (ws / ".git").mkdir(parents=True)
    if text is not None:
        (ws / ".ringfence").mkdir()
        (ws / ".ringfence" / "config.yaml").write_text(text)
    return ws


def test_defaults(tmp_path: Path) -> None:
    s = load_settings(str(_ws(tmp_path)))
    assert s.on_error == "deny"
    assert s.analysis.protected_branches == ("main", "master", "release/*", "production")
    assert s.ledger_path == tmp_path / "state" / "ringfence" / "ledger.db"


def test_repository_overrides_user(tmp_path: Path) -> None:
    user = tmp_path / "home" / ".config" / "ringfence"
    user.mkdir(parents=True)
    (user / "config.yaml").write_text("environment: staging\nprotected_branches: [main]\n")
    ws = _ws(tmp_path, "protected_branches: [trunk]\nenvironments:\n  kube_context: {'eu-1': production}\n")
    s = load_settings(str(ws))
    assert s.analysis.default_environment == "staging"
    assert s.analysis.protected_branches == ("trunk",)
    assert s.analysis.environments["kube_context"] == (("eu-1", "production"),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("on_error: maybe\n", "on_error must be"),
        ("bogus: 1\n", "unknown setting(s) bogus"),
        ("environment: prod\n", "environment must be one of"),
        ("protected_branches: main\n", "protected_branches must be a list"),
        ("environments: {kube: {a: production}}\n", "environments.kube is not a known domain"),
        ("environments: {kube_context: {a: prod}}\n", "must be one of"),
        ("max_command_bytes: 5\n", "max_command_bytes"),
        ("- a list\n", "must be a mapping"),
        ("key: [unclosed\n", "not valid YAML"),
    ],
)
def test_errors_are_precise(tmp_path: Path, text: str, message: str) -> None:
    ws = _ws(tmp_path, text)
    with pytest.raises(ConfigError, match=r"config\.yaml") as info:
        load_settings(str(ws))
    assert message in str(info.value)


def test_yaml_error_has_line_and_column(tmp_path: Path) -> None:
    ws = _ws(tmp_path, "a: 1\nb: [2\n")
    with pytest.raises(ConfigError, match=r"config\.yaml:\d+:\d+"):
        load_settings(str(ws))


def test_explicit_missing_config_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGFENCE_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(str(_ws(tmp_path)))


@pytest.mark.parametrize(
    ("name", "env"),
    [
        ("prod-db.internal", "production"),
        ("myprodcluster", "production"),
        ("eu-live-1", "production"),
        ("preprod", "staging"),
        ("stg-2", "staging"),
        ("api-dev", "development"),
        ("kind-ci", "development"),
        ("localhost", "development"),
        ("latest", None),
        ("devops", None),
        ("contest", None),
    ],
)
def test_default_environment_words(name: str, env: str | None) -> None:
    """Loosening (development, staging) needs a whole word; production matches anywhere."""
    from ringfence.analyze.context import default_environment

    assert default_environment(name) == env
