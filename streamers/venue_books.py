"""The detector's `BookSource` in the hot process: the books the venue feeds keep from the frames.

The detector reads these very books (native, integer units, written by the C parsers), so a frame
reaches a detection through one path and no book is copied or converted on the way.
"""

from __future__ import annotations

from arbitrage.detector import BookSource, BookView
from domain.models import Market, Venue
from venues.kalshi.books import KalshiBooks
from venues.native import Book
from venues.polymarket.book_feed import PolymarketBookFeed


class NotNativeError(TypeError):
    """The detector reads integer books; a feed built with `native=False` keeps Decimal ones."""


def _native(book: object, market: Market) -> BookView:
    if not isinstance(book, Book):
        raise NotNativeError(f"{market.venue.value} {market.market_id}: the detector needs the feed's native books")
    return book


def venue_books(polymarket: PolymarketBookFeed, kalshi: KalshiBooks) -> BookSource:
    """Each market's book in its venue's feed, created (and for Polymarket, routed) on first ask."""

    def book(market: Market) -> BookView:
        if market.venue is Venue.POLYMARKET:
            return _native(polymarket.add_market(market), market)
        return _native(kalshi.book(market.market_id), market)

    return book
