"""Raw venue frames straight into the detector's integer books: the benchmark's parse path.

Not the path that trades: `control/trading.py` lets the venue feeds fill their own books and
the relay hands the detector snapshots (issue 13 makes the two one path).

The venue packages parse every field into Decimal-based events, which is right for the
streamers and the stores but costs several times the JSON decode on the book hot path.
This path decodes with orjson, keeps only what a book level needs (price from a cache of
price strings, size as an integer of 1e-2 contracts), applies it to `IntBook`s and asks
the detector. It handles Polymarket `book` and `price_change` (current batched form and the earlier
one-asset form) and
Kalshi `orderbook_snapshot` / `orderbook_delta` (dollar/fp strings, or legacy cents/ints).
Anything malformed is counted and logged, never raised into the stream, and never half
applied: a frame is validated fully before it touches a book; a Kalshi sequence gap or an
impossible delta marks the book out of sync until the next snapshot.

Native mode: when the detector's books are native (`Detector(...,
book_type=native_book)`), each frame first goes to the C parser of `venues.native`, which reads
the bytes without building Python objects and updates the books in C. It applies a frame only
when the Python code below would do exactly the same; anything else it declines untouched and
the frame takes the Python path, on the same books and the same Kalshi sequence table.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any, cast

import orjson

from arbitrage.detector import Detector, PairWatch
from arbitrage.intbook import IntBook
from arbitrage.opportunity import Opportunity
from domain.book import BookSnapshot
from domain.models import Venue
from domain.units import PRICE_SCALE, SIZE_SCALE, UnitError, price_units
from venues.native import MAX_SIZE_UNITS, Book, KalshiFeed, PolyFeed

log = logging.getLogger(__name__)

_NONE: list[Opportunity] = []


class MalformedFrame(ValueError):
    """A frame that cannot be applied; the feed counts it and moves on."""


class NativeIntBook(Book):
    """`IntBook`'s interface with its levels in C, so the native parser writes it directly."""

    __slots__ = ()

    def load(self, snapshot: BookSnapshot, updated_ns: int) -> None:
        IntBook.load(self, snapshot, updated_ns)  # type: ignore[arg-type]


def native_book(venue: Venue, market_id: str) -> IntBook:
    """`Detector(book_type=native_book)`: books the native parser can update (same interface)."""
    return cast(IntBook, NativeIntBook(venue, market_id))


def _bounded(units: int) -> int:
    """Sizes of 10^13 contracts or more are nonsense (and do not fit a native book)."""
    if not -MAX_SIZE_UNITS < units < MAX_SIZE_UNITS:
        raise MalformedFrame(f"size {units / SIZE_SCALE} out of range")
    return units


def _size_units(text: str) -> int:
    """Signed decimal string to 1e-2 contracts; digits finer than 0.01 must be zeros."""
    if text.isdigit() and text.isascii():
        return _bounded(int(text) * SIZE_SCALE)
    if len(text) > 3 and text[-3] == ".":
        digits = text[:-3] + text[-2:]
        unsigned = digits[1:] if digits[0] == "-" else digits
        if unsigned.isdigit() and unsigned.isascii():
            return _bounded(int(digits))
    negative = text.startswith("-")
    whole, _, frac = (text[1:] if negative else text).partition(".")
    if len(frac) > 2:
        if frac[2:].strip("0"):
            raise MalformedFrame(f"size {text!r} finer than 0.01")
        frac = frac[:2]
    if not (whole or frac) or not (whole + frac).isdigit() or not text.isascii():
        raise MalformedFrame(f"bad size {text!r}")
    units = int(whole or "0") * SIZE_SCALE + (int(frac.ljust(2, "0")) if frac else 0)
    return _bounded(-units if negative else units)


class FastFeed:
    """Single writer for a detector's books; call `polymarket`/`kalshi` with each raw frame."""

    def __init__(self, detector: Detector) -> None:
        self.detector = detector
        # asset id -> (book, is the YES token, pairs watching the book)
        self._assets: dict[str, tuple[IntBook, bool, list[PairWatch]]] = {}
        self._kalshi: dict[str, tuple[IntBook, list[PairWatch]]] = {}
        self._prices: dict[str, int] = {}
        self._kalshi_seq: dict[int, int] = {}
        self.malformed = 0
        self.applied = 0
        books = detector.pair_books()
        native = bool(books) and all(isinstance(b, Book) for _, p, k in books for b in (p, k))
        self._native_poly = PolyFeed() if native else None
        self._native_kalshi = KalshiFeed(self._kalshi_seq) if native else None
        self._native_gaps = 0
        for pair, poly_book, kalshi_book in books:
            poly_watch = detector.watchers(Venue.POLYMARKET, poly_book.market_id)
            kalshi_watch = detector.watchers(Venue.KALSHI, kalshi_book.market_id)
            self._assets[pair.polymarket.yes_token] = (poly_book, True, poly_watch)
            self._assets[pair.polymarket.no_token] = (poly_book, False, poly_watch)
            self._kalshi[pair.kalshi.market_id] = (kalshi_book, kalshi_watch)
            if self._native_poly is not None and self._native_kalshi is not None:
                native_poly, native_kalshi = cast(Book, poly_book), cast(Book, kalshi_book)
                self._native_poly.add(pair.polymarket.yes_token, native_poly, True, poly_watch)
                self._native_poly.add(pair.polymarket.no_token, native_poly, False, poly_watch)
                self._native_kalshi.add(pair.kalshi.market_id, native_kalshi, kalshi_watch)

    @property
    def native(self) -> bool:
        return self._native_poly is not None

    def _check(self, groups: tuple[list[PairWatch], ...], now: int) -> list[Opportunity]:
        """After the native parser applied a frame: ask the detector about every touched pair group."""
        if not groups:
            return _NONE
        self.applied += 1
        if len(groups) == 1:
            return self.detector.check(groups[0], now)
        found: list[Opportunity] = []
        for group in groups:
            found += self.detector.check(group, now)
        return found

    def _price(self, text: str) -> int:
        units = self._prices.get(text)
        if units is None:
            try:
                units = price_units(Decimal(text))
            except (InvalidOperation, UnitError, TypeError) as exc:
                raise MalformedFrame(f"bad price {text!r}") from exc
            if not 0 <= units <= PRICE_SCALE:
                raise MalformedFrame(f"price {text!r} outside [0, 1]")
            self._prices[text] = units
        return units

    def _reject(self, venue: Venue, raw: bytes, exc: Exception) -> list[Opportunity]:
        self.malformed += 1
        log.warning("malformed %s frame (%s): %.200r", venue.value, exc, raw)
        return _NONE

    # --- Polymarket -----------------------------------------------------------------------

    def polymarket(self, raw: bytes, now: int) -> list[Opportunity]:
        if self._native_poly is not None:
            groups = self._native_poly.feed(raw, now)
            if groups is not None:
                if len(groups) == 1:  # the usual frame: one book, checked inline (hot path)
                    self.applied += 1
                    return self.detector.check(groups[0], now)
                return self._check(groups, now)
        try:
            message: Any = orjson.loads(raw)
            if type(message) is dict and message.get("event_type") == "price_change":
                changes = message.get("price_changes")
                if changes is not None:
                    return self._price_change(changes, now)
            if type(message) is list:
                found: list[Opportunity] = []
                for item in message:
                    found += self._polymarket_event(item, now)
                return found
            return self._polymarket_event(message, now)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            return self._reject(Venue.POLYMARKET, raw, exc)

    def _polymarket_event(self, message: dict[str, Any], now: int) -> list[Opportunity]:
        kind = message.get("event_type")
        if kind == "price_change":
            changes = message.get("price_changes")
            if changes is None:  # the earlier form: one asset per message, one level or a `changes` list
                legacy = message.get("changes")
                asset = message["asset_id"]
                changes = [message] if legacy is None else [{**c, "asset_id": asset} for c in legacy]
            return self._price_change(changes, now)
        if kind == "book":
            return self._poly_book(message, now)
        return _NONE

    def _price_change(self, changes: list[dict[str, Any]], now: int) -> list[Opportunity]:
        """Validate every entry, then apply. Polymarket sends each level change twice, once per
        token (YES BUY at p is NO SELL at 1 - p); the mirror lands on the same YES-space level
        and is applied once."""
        assets = self._assets
        prices = self._prices
        updates = []
        last = None
        first_watch: list[PairWatch] | None = None
        for change in changes:
            target = assets.get(change["asset_id"])
            if target is None:
                continue
            side = change["side"]
            if side == "BUY":
                buy = True
            elif side == "SELL":
                buy = False
            else:
                raise MalformedFrame(f"bad side {side!r}")
            text = change["price"]
            p = prices.get(text)
            if p is None:
                p = self._price(text)
            is_yes = target[1]
            if first_watch is None:
                first_watch = target[2]
            level = (target[0], is_yes == buy, p if is_yes else PRICE_SCALE - p, change["size"])
            if level != last:
                updates.append(level)
                last = level
        touched: list[list[PairWatch]] = []
        applied = []
        for book, is_bid, p, size_text in updates:
            size = _size_units(size_text)
            if size < 0:
                raise MalformedFrame("negative size")
            applied.append((book, is_bid, p, size))
        for book, is_bid, p, size in applied:
            if is_bid:
                book.set_bid(p, size)
            else:
                book.set_ask(p, size)
            book.updated_ns = now
        if not applied:
            return _NONE
        self.applied += 1
        if len(applied) == 1 and first_watch is not None:
            return self.detector.check(first_watch, now)
        for change in changes:
            target = assets.get(change["asset_id"])
            if target is not None and target[2] not in touched:
                touched.append(target[2])
        found: list[Opportunity] = []
        for group in touched:
            found += self.detector.check(group, now)
        return found

    def _poly_book(self, message: dict[str, Any], now: int) -> list[Opportunity]:
        target = self._assets.get(message["asset_id"])
        if target is None:
            return _NONE
        book, is_yes, watch = target
        bids = [(self._price(lv["price"]), _size_units(lv["size"])) for lv in message["bids"]]
        asks = [(self._price(lv["price"]), _size_units(lv["size"])) for lv in message["asks"]]
        if is_yes:
            book.replace(bids, asks, now)
        else:
            book.replace([(PRICE_SCALE - p, s) for p, s in asks], [(PRICE_SCALE - p, s) for p, s in bids], now)
        self.applied += 1
        return self.detector.check(watch, now)

    # --- Kalshi ---------------------------------------------------------------------------

    def kalshi(self, raw: bytes, now: int) -> list[Opportunity]:
        native = self._native_kalshi
        if native is not None:
            groups = native.feed(raw, now)
            if groups is not None:
                if groups:
                    self.applied += 1
                    return self.detector.check(groups[0], now)
                if native.gaps != self._native_gaps:
                    self._native_gaps = native.gaps
                    log.warning("kalshi sequence gap: every kalshi book waits for its next snapshot")
                return _NONE
        try:
            message: Any = orjson.loads(raw)
            kind = message["type"]
            if kind == "orderbook_delta":
                return self._kalshi_delta(message, now)
            if kind == "orderbook_snapshot":
                return self._kalshi_snapshot(message, now)
            return _NONE
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            return self._reject(Venue.KALSHI, raw, exc)

    def _sequence_gap(self, message: dict[str, Any]) -> bool:
        """True if a frame of this subscription was lost. We do not know which tickers the
        subscription carries, so every Kalshi book then waits for its next snapshot."""
        sid = message.get("sid")
        seq = message.get("seq")
        if sid is None or type(seq) is not int:
            return False
        seqs = self._kalshi_seq
        last = seqs.get(sid)
        seqs[sid] = seq
        if last is None or seq == last + 1:
            return False
        for book, _ in self._kalshi.values():
            book.in_sync = False
        log.warning("kalshi sid %s sequence gap: %s after %s", sid, seq, last)
        return True

    def _kalshi_delta(self, message: dict[str, Any], now: int) -> list[Opportunity]:
        body = message["msg"]
        target = self._kalshi.get(body["market_ticker"])
        if self._sequence_gap(message) or target is None:
            return _NONE
        book, watch = target
        text = body.get("price_dollars")
        if text is None:
            p = self._cent_price(body["price"])
        else:
            cached = self._prices.get(text)
            p = self._price(text) if cached is None else cached
        fp = body.get("delta_fp")
        delta = _size_units(fp) if fp is not None else _bounded(int(body["delta"]) * SIZE_SCALE)
        side = body["side"]
        if side == "yes":
            ok = book.add_bid(p, delta)
        elif side == "no":
            ok = book.add_ask(PRICE_SCALE - p, delta)
        else:
            raise MalformedFrame(f"bad side {side!r}")
        if not ok:
            book.in_sync = False
            raise MalformedFrame(f"delta {delta} at {p} leaves a negative size on {book.market_id}")
        book.updated_ns = now
        self.applied += 1
        return self.detector.check(watch, now)

    def _cent_price(self, cents: object) -> int:
        if type(cents) is not int or not 0 <= cents <= 100:
            raise MalformedFrame(f"bad cent price {cents!r}")
        return cents * (PRICE_SCALE // 100)

    def _kalshi_snapshot(self, message: dict[str, Any], now: int) -> list[Opportunity]:
        body = message["msg"]
        target = self._kalshi.get(body["market_ticker"])
        self._sequence_gap(message)  # a gap taints the other books; this one is whole again below
        if target is None:
            return _NONE
        book, watch = target
        yes = self._kalshi_levels(body, "yes")
        no = self._kalshi_levels(body, "no")
        book.replace(yes, [(PRICE_SCALE - p, s) for p, s in no], now)
        self.applied += 1
        return self.detector.check(watch, now)

    def _kalshi_levels(self, body: dict[str, Any], side: str) -> list[tuple[int, int]]:
        for key in (f"{side}_dollars_fp", f"{side}_dollars"):
            rows = body.get(key)
            if rows is not None:
                return [(self._price(p), _size_units(str(q))) for p, q in rows]
        rows = body.get(side) or []
        return [(self._cent_price(p), _bounded(int(q) * SIZE_SCALE)) for p, q in rows]
