"""Native (C) hot path of the venue layer: frames parsed from bytes straight into integer books.

`_books` (C, built by `uv sync` from `_books.c`) holds `Book` (integer units of `domain.units`;
the detector reads these very books), `PolyFeed` and `KalshiFeed`. A feed applies a frame only when it
is certain the Python path would do exactly the same; otherwise it returns None having changed
nothing, and the caller runs the Python path on the same bytes. `books` adds the Decimal
`OrderBook` interface on top, for the venue feeds' native mode.
"""

from venues.native._books import MAX_SIZE_UNITS, Book, KalshiFeed, PolyFeed
from venues.native.books import NativeOrderBook, snapshot_of

__all__ = ["MAX_SIZE_UNITS", "Book", "KalshiFeed", "NativeOrderBook", "PolyFeed", "snapshot_of"]
