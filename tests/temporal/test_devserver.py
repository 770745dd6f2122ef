"""The embedded dev server: starts from the installed binary, registers our search attributes, stops cleanly."""

from __future__ import annotations

import contextlib
import socket
import sqlite3
from pathlib import Path

import httpx
import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest

from temporal.client import connect
from temporal.devserver import DevServerError, port_in_use, run_dev_server
from temporal.search_attributes import ALL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_dev_server_lifecycle(tmp_path: Path) -> None:
    port, ui_port = free_port(), free_port()
    async with run_dev_server(tmp_path, port=port, ui_port=ui_port) as server:
        client = await connect(server.address, server.namespace)
        attrs = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace="default"))
        assert {k.name for k in ALL} <= set(attrs.custom_attributes)
        async with httpx.AsyncClient() as http:
            assert (await http.get(server.ui_url, timeout=10)).status_code == 200
    assert not port_in_use("127.0.0.1", port)
    assert (tmp_path / "temporal.db").is_file()
    with contextlib.closing(sqlite3.connect(tmp_path / "temporal.db")) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(DevServerError, match=f"port {port} .* already in use"):
            async with run_dev_server(tmp_path, port=port, ui_port=free_port()):
                pass
