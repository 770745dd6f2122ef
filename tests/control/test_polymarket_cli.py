"""`inertial polymarket ...` against a local HTTP stub (127.0.0.1, ephemeral port), configured via env."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from control.cli.polymarket import app

KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="


class Stub(BaseHTTPRequestHandler):
    routes: ClassVar[dict[tuple[str, str], tuple[int, Any]]] = {}

    def _answer(self) -> None:
        path = self.path.split("?", 1)[0]
        status, body = self.routes.get((self.command, path), (404, {"error": f"no route {path}"}))
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[tuple[str, str], tuple[int, Any]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "250")
    for name, value in {
        "CLOB_URL": base,
        "GAMMA_URL": base + "/gamma",
        "DATA_URL": base + "/data",
        "PRIVATE_KEY": KEY,
        "API_KEY": "k",
        "API_SECRET": SECRET,
        "API_PASSPHRASE": "p",
    }.items():
        monkeypatch.setenv(f"INERTIAL_POLYMARKET__{name}", value)
    Stub.routes = {}
    yield Stub.routes
    server.shutdown()
    server.server_close()


def test_creds_derives_and_masks(stub: dict[tuple[str, str], tuple[int, Any]]) -> None:
    stub[("POST", "/auth/api-key")] = (400, {"error": "Could not create api key"})
    stub[("GET", "/auth/derive-api-key")] = (200, {"apiKey": "key-9", "secret": "s3cr3t", "passphrase": "pp"})
    result = CliRunner().invoke(app, ["creds"])
    assert result.exit_code == 0, result.output
    assert "INERTIAL_POLYMARKET__API_KEY=key-9" in result.output and "s3cr3t" not in result.output
    shown = CliRunner().invoke(app, ["creds", "--show-secrets"])
    assert "INERTIAL_POLYMARKET__API_SECRET=s3cr3t" in shown.output


def test_book_markets_balance(stub: dict[tuple[str, str], tuple[int, Any]], shared_data: Path) -> None:
    stub[("GET", "/book")] = (200, json.loads((shared_data / "nautilus_trader/http_responses/book.json").read_text()))
    stub[("GET", "/gamma/markets")] = (200, [json.loads((shared_data / "jm709_pscanner/market.json").read_text())])
    stub[("GET", "/balance-allowance")] = (200, {"balance": "2500000"})
    stub[("GET", "/data/orders")] = (200, {"data": [], "next_cursor": "LTE="})
    runner = CliRunner()
    book = runner.invoke(app, ["book", "123", "--depth", "3"])
    assert book.exit_code == 0, book.output
    assert "0.14" in book.output and "0.1" in book.output
    markets = runner.invoke(app, ["markets", "--limit", "5"])
    assert markets.exit_code == 0 and "0x9c1a953fe92c8357" in markets.output
    balance = runner.invoke(app, ["balance"])
    assert balance.exit_code == 0 and "total 2.500000 USDC" in balance.output


def test_venue_errors_are_one_line(stub: dict[tuple[str, str], tuple[int, Any]]) -> None:
    stub[("GET", "/balance-allowance")] = (401, {"error": "Unauthorized/Invalid api key"})
    result = CliRunner().invoke(app, ["balance"])
    assert result.exit_code == 1
    assert "Invalid api key" in result.output and "Traceback" not in result.output
