"""Fuzz the Python decoders of untrusted input: leader events (Data API rows, RTDS frames, Kalshi fill
messages and pages) and what a Telegram user types into the bot's commands.

Each must either decode or raise its own clear error (`PolymarketParseError`, `KalshiParseError`,
`OperationError`); any other exception is a finding. The first byte of an input picks the decoder,
the rest is its input. Seeds are the recorded Data API rows under ../shared/data.

    .venv/bin/python -m fuzz.decoders -runs=200000 build/fuzz/corpus-decoders
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["venues.polymarket.parse", "venues.kalshi.parse", "copytrade"]):
    import orjson

    from control.app.errors import OperationError
    from control.telegram import arguments
    from copytrade.fills import FillSource
    from copytrade.kalshi_fills import kalshi_leader_fill
    from copytrade.polymarket_rows import leader_fill
    from domain.models import Side
    from venues.kalshi.parse import FillUpdate, KalshiParseError, parse_fills_page_skipping, parse_ws_message
    from venues.polymarket import parse
    from venues.polymarket.messages import PolymarketParseError

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SEED_FILES = ["edulabrador_polymarket-smart-money/activity.json", "edulabrador_polymarket-smart-money/trades.json",
              "jm709_pscanner/activity.json"]  # fmt: skip


def _data_api_row(data: bytes) -> None:
    with contextlib.suppress(orjson.JSONDecodeError, PolymarketParseError):
        leader_fill(parse.wallet_activity(orjson.loads(data)), FillSource.DATA_API)


def _rtds(data: bytes) -> None:
    try:
        for message in parse.rtds_frame(data):
            _data_api_row(orjson.dumps(message.payload))
    except PolymarketParseError:
        return


def _kalshi_message(data: bytes) -> None:
    try:
        message = parse_ws_message(data)
    except KalshiParseError:
        return
    if isinstance(message, FillUpdate):
        kalshi_leader_fill("leader", message.fill, FillSource.KALSHI_WS, message.post_position)


def _kalshi_fills_page(data: bytes) -> None:
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError:
        return
    if isinstance(body, dict):
        try:
            page, _skipped = parse_fills_page_skipping(body)
        except KalshiParseError:
            return
        for fill in page.items:
            kalshi_leader_fill("leader", fill, FillSource.KALSHI_REST)


def _telegram_words(data: bytes) -> None:
    words = data.decode("utf-8", "replace").split()
    for call in (
        lambda: arguments.order(Side.BUY, words),
        lambda: arguments.leader(words, "/follow venue leader"),
        lambda: arguments.rules(words),
        lambda: arguments.decimal(words[0] if words else "", "price"),
        lambda: arguments.venue(words[0] if words else ""),
    ):
        with contextlib.suppress(OperationError):
            call()


DECODERS = [_data_api_row, _rtds, _kalshi_message, _kalshi_fills_page, _telegram_words]


def one_input(data: bytes) -> None:
    if data:
        DECODERS[data[0] % len(DECODERS)](data[1:])


def seed(corpus: Path) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    if any(corpus.iterdir()):
        return
    for rel in SEED_FILES:
        path = SHARED_DATA / rel
        if not path.exists():
            continue
        rows = orjson.loads(path.read_bytes())
        for i, row in enumerate(rows[:50] if isinstance(rows, list) else []):
            (corpus / f"{path.parent.name}-{path.stem}-{i}").write_bytes(b"\x00" + orjson.dumps(row))
            rtds = {"topic": "activity", "type": "trades", "timestamp": 1, "payload": row}
            (corpus / f"rtds-{path.stem}-{i}").write_bytes(b"\x01" + orjson.dumps(rtds))
    (corpus / "telegram-buy").write_bytes(b"\x04polymarket 0xabc yes 10 0.42")


def main() -> None:
    for corpus in (Path(a) for a in sys.argv[1:] if not a.startswith("-")):
        if not corpus.is_file():  # a file is one input to reproduce, not a corpus
            seed(corpus)
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
