"""Configuration: layering, validation with one clear line, and secrets that never print."""

from __future__ import annotations

from pathlib import Path

import pytest

from control.config import ConfigError, load_settings, masked_dump


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for key in list(os.environ):
        if (key.startswith("INERTIAL_") and key != "INERTIAL_SHARED_DATA") or key == "DRY_RUN":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_paper_trading_on_embedded_services() -> None:
    settings = load_settings()
    assert settings.dry_run is True
    assert settings.temporal.address is None
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.redis_url is None
    assert settings.kalshi.hosts()[0] == "http://127.0.0.1:8802/trade-api/v2"


def test_environment_overrides_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "custom.toml"
    cfg.write_text('log_level = "DEBUG"\n[temporal]\nnamespace = "from-file"\ntask_queue = "q-file"\n')
    monkeypatch.setenv("INERTIAL_CONFIG", str(cfg))
    monkeypatch.setenv("INERTIAL_TEMPORAL__TASK_QUEUE", "q-env")
    monkeypatch.setenv("DRY_RUN", "0")
    settings = load_settings()
    assert settings.log_level == "DEBUG"
    assert settings.temporal.namespace == "from-file"
    assert settings.temporal.task_queue == "q-env"
    assert settings.dry_run is False


def test_inertial_toml_in_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "inertial.toml").write_text('[kalshi]\nenvironment = "demo"\n')
    assert load_settings().kalshi.hosts()[0] == "https://demo-api.kalshi.co/trade-api/v2"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"INERTIAL_DATABSE_URL": "x"}, "unknown environment variable INERTIAL_DATABSE_URL"),
        ({"INERTIAL_DATABASE_URL": "not a url"}, "invalid INERTIAL_DATABASE_URL: Value error, malformed database URL"),
        ({"INERTIAL_DATABASE_URL": "mysql://h/db"}, "unsupported driver 'mysql'"),
        ({"INERTIAL_REDIS_URL": "http://h"}, "invalid INERTIAL_REDIS_URL: Value error, malformed Redis URL"),
        (
            {"INERTIAL_TEMPORAL__ADDRESS": "no-port"},
            "invalid INERTIAL_TEMPORAL__ADDRESS: Value error, expected host:port",
        ),
        ({"INERTIAL_KALSHI__ENVIRONMENT": "staging"}, "invalid INERTIAL_KALSHI__ENVIRONMENT"),
        ({"INERTIAL_POLYMARKET__CLOB_URL": "clob.example"}, "invalid INERTIAL_POLYMARKET__CLOB_URL"),
    ],
)
def test_bad_environment_gives_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_key_in_file_names_key_and_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[temporal]\nadress = '127.0.0.1:7233'\n")
    monkeypatch.setenv("INERTIAL_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match=r"unknown setting 'temporal.adress' in .*c.toml"):
        load_settings()


def test_broken_toml_and_missing_file_are_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[temporal\n")
    monkeypatch.setenv("INERTIAL_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings()
    monkeypatch.setenv("INERTIAL_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()


def test_secrets_are_masked_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INERTIAL_POLYMARKET__PRIVATE_KEY", "0xdeadbeefsecret")
    monkeypatch.setenv("INERTIAL_DATABASE_URL", "postgresql+asyncpg://u:hunter2@db/x")
    settings = load_settings()
    dumped = masked_dump(settings)
    text = repr(settings) + str(settings) + repr(dumped)
    assert "deadbeefsecret" not in text and "hunter2" not in text
    assert dumped["polymarket"]["private_key"] == "**********"
    assert dumped["effective_database_url"] == "postgresql+asyncpg://u:***@db/x"
    assert settings.polymarket.private_key is not None
    assert settings.polymarket.private_key.get_secret_value() == "0xdeadbeefsecret"
