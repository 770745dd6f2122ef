"""Effective configuration: defaults < TOML file < INERTIAL_* environment variables.

The sections belong to their packages (venues/*/settings.py, temporal/settings.py); this
module composes them and owns the sources and the one-line errors.

Everything has a safe default so the first run needs no configuration at all:
paper trading (`dry_run`), an embedded Temporal dev server and SQLite in the data
directory, both sandbox venues. Secrets are `SecretStr` so they are masked
wherever the settings object is printed or logged.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from control.api.settings import ApiSettings
from control.telegram.settings import TelegramSettings
from copytrade.settings import CopySettings
from security.settings import VaultSettings
from temporal.settings import TemporalSettings
from venues.kalshi.settings import KalshiSettings
from venues.polymarket.settings import PolymarketSettings

ENV_PREFIX = "INERTIAL_"
CONFIG_FILE_ENV = "INERTIAL_CONFIG"
DEFAULT_CONFIG_FILE = Path("inertial.toml")


class ConfigError(Exception):
    """A user-facing configuration problem: one line saying what and where."""


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "inertial"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(default_factory=_default_data_dir)
    dry_run: bool = Field(default=True, validation_alias=AliasChoices("INERTIAL_DRY_RUN", "DRY_RUN", "dry_run"))
    database_url: SecretStr | None = None
    redis_url: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    temporal: TemporalSettings = Field(default_factory=TemporalSettings)
    polymarket: PolymarketSettings = Field(default_factory=PolymarketSettings)
    kalshi: KalshiSettings = Field(default_factory=KalshiSettings)
    copytrade: CopySettings = Field(default_factory=CopySettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    vault: VaultSettings = Field(default_factory=VaultSettings)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:
            url = make_url(value.get_secret_value())
        except ArgumentError:
            raise ValueError("malformed database URL (expected e.g. postgresql+asyncpg://user@host/db)") from None
        if url.drivername not in ("postgresql+asyncpg", "sqlite+aiosqlite"):
            raise ValueError(f"unsupported driver {url.drivername!r}: use postgresql+asyncpg:// or sqlite+aiosqlite://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.match(r"^rediss?://[^\s/]+", value.get_secret_value()):
            raise ValueError("malformed Redis URL (expected redis://host:port/db)")
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite+aiosqlite:///{self.data_dir / 'inertial.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def _config_file() -> Path | None:
    explicit = os.environ.get(CONFIG_FILE_ENV)
    if explicit:
        return Path(explicit)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def _unknown_env_keys() -> list[str]:
    """pydantic-settings ignores unknown variables; a typo in INERTIAL_* must not silently do nothing."""
    known = {ENV_PREFIX + "DRY_RUN", CONFIG_FILE_ENV, "INERTIAL_SHARED_DATA"}
    for name, field in Settings.model_fields.items():
        known.add(ENV_PREFIX + name.upper())
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for sub in annotation.model_fields:
                known.add(f"{ENV_PREFIX}{name.upper()}__{sub.upper()}")
    return sorted(k for k in os.environ if k.startswith(ENV_PREFIX) and k not in known)


def _where(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    env = ENV_PREFIX + "__".join(p.upper() for p in parts)
    path = _config_file()
    in_file = f" or '{'.'.join(parts)}' in {path}" if path else ""
    return f"{env}{in_file}"


def load_settings(**overrides: Any) -> Settings:
    """Load and validate; every problem becomes a ConfigError with one line per problem."""
    unknown = _unknown_env_keys()
    if unknown:
        raise ConfigError(f"unknown environment variable {unknown[0]} (no such setting; see `inertial config show`)")
    path = _config_file()
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file {path} (from {CONFIG_FILE_ENV}) does not exist")
        try:
            tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            if err["type"] == "extra_forbidden":
                lines.append(f"unknown setting '{'.'.join(map(str, err['loc']))}' in {path or 'arguments'}")
            else:
                lines.append(f"invalid {_where(err['loc'])}: {err['msg']}")
        raise ConfigError("; ".join(lines)) from None


def masked_dump(settings: Settings) -> dict[str, Any]:
    """The effective config for display: secrets replaced by a mask, paths and enums as text."""

    def mask(value: Any) -> Any:
        if isinstance(value, SecretStr):
            return "**********"
        if isinstance(value, BaseModel):
            return {k: mask(getattr(value, k)) for k in type(value).model_fields}
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, list):
            return [mask(v) for v in value]
        return value

    dumped = mask(settings)
    dumped["effective_database_url"] = _mask_url_password(settings.effective_database_url)
    return dumped


def _mask_url_password(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
