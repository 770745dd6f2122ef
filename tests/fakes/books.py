"""A `BookSource` for tests that drive the detector without venue frames: native books loaded whole."""

from __future__ import annotations

from domain.book import BookSnapshot
from domain.models import Market, Venue
from venues.native import NativeOrderBook


class LoadedBooks:
    """One native book per market (the kind the venue feeds keep), replaced by `load`."""

    def __init__(self) -> None:
        self.books: dict[tuple[Venue, str], NativeOrderBook] = {}

    def __call__(self, market: Market) -> NativeOrderBook:
        return self.book(market.venue, market.market_id)

    def book(self, venue: Venue, market_id: str) -> NativeOrderBook:
        key = (venue, market_id)
        if key not in self.books:
            self.books[key] = NativeOrderBook(venue, market_id)
        return self.books[key]

    def load(self, snapshot: BookSnapshot) -> NativeOrderBook:
        book = self.book(snapshot.venue, snapshot.market_id)
        book.replace(list(snapshot.yes_bids), list(snapshot.yes_asks), at=snapshot.updated_at)
        if not snapshot.in_sync:
            book.mark_out_of_sync()
        return book
