"""P&L: a hand-checked example, marks from books, and the exact accounting identity under hypothesis."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.book import BookSnapshot
from domain.models import Fill, Outcome, Side, Venue
from risk.pnl import MarkSource, PnlLedger, PnlScope, book_marks
from tests.risk.factories import T0

KEYS = [
    (Venue.POLYMARKET, "0xcond", Outcome.YES),
    (Venue.POLYMARKET, "0xcond", Outcome.NO),
    (Venue.KALSHI, "KX-1", Outcome.NO),
    (Venue.KALSHI, "KX-2", Outcome.YES),
]
PAIRS = {(Venue.POLYMARKET, "0xcond"): "pair-1", (Venue.KALSHI, "KX-1"): "pair-1"}


def fill(
    n: int, key: tuple[Venue, str, Outcome], side: Side, price: str, qty: str, fee: str = "0", day: int = 0
) -> Fill:
    venue, market, outcome = key
    return Fill(
        fill_id=f"f{n}",
        venue=venue,
        venue_order_id="o",
        market_id=market,
        outcome=outcome,
        side=side,
        price=Decimal(price),
        quantity=Decimal(qty),
        fee=Decimal(fee),
        filled_at=T0 + timedelta(days=day, seconds=n),
    )


def fixed_marks(marks: dict[tuple[Venue, str, Outcome], Decimal | None]) -> MarkSource:
    return lambda venue, market, outcome, is_long: marks.get((venue, market, outcome))


def test_hand_checked_fifo_with_fees_expensed() -> None:
    key = KEYS[0]
    ledger = PnlLedger(PAIRS)
    ledger.extend(
        [
            fill(1, key, Side.BUY, "0.40", "10", "0.05"),
            fill(2, key, Side.BUY, "0.50", "10", "0.05", day=1),
            fill(3, key, Side.SELL, "0.60", "15", "0.02", day=1),
        ]
    )
    # closes 10 @0.40 (+2.00) and 5 @0.50 (+0.50); fees 0.12; 5 left @0.50 marked at 0.45
    report = ledger.report(fixed_marks({key: Decimal("0.45")}), as_of=T0 + timedelta(days=1))
    assert report.total.realized == Decimal("2.38")
    assert report.total.unrealized == Decimal("-0.25")
    assert report.total.fees == Decimal("0.12")
    assert report.line(PnlScope.PAIR, "pair-1") == report.total.model_copy(
        update={"scope": PnlScope.PAIR, "key": "pair-1"}
    )
    day0 = report.line(PnlScope.DAY, T0.date().isoformat())
    day1 = report.line(PnlScope.DAY, (T0 + timedelta(days=1)).date().isoformat())
    assert day0 is not None and (day0.realized, day0.unrealized, day0.fees) == (Decimal("-0.05"), 0, Decimal("0.05"))
    assert day1 is not None and (day1.realized, day1.unrealized) == (Decimal("2.43"), Decimal("-0.25"))


def test_selling_more_than_held_opens_a_short_marked_at_the_ask() -> None:
    key = KEYS[3]
    ledger = PnlLedger()
    ledger.extend([fill(1, key, Side.BUY, "0.30", "2"), fill(2, key, Side.SELL, "0.35", "5")])
    assert ledger.positions() == {key: Decimal(-3)}
    book = BookSnapshot(
        venue=Venue.KALSHI,
        market_id="KX-2",
        yes_bids=((Decimal("0.33"), Decimal(9)),),
        yes_asks=((Decimal("0.36"), Decimal(9)),),
        sequence=1,
        updated_at=T0,
        in_sync=True,
    )
    report = ledger.report(book_marks({(Venue.KALSHI, "KX-2"): book}), as_of=T0)
    assert report.total.realized == Decimal("0.10")
    assert report.total.unrealized == Decimal("-0.03")  # -3 x (0.36 - 0.35)
    assert report.line(PnlScope.PAIR, "unpaired") is not None and not report.unmarked


def test_no_book_marks_at_the_worst_case_and_says_so() -> None:
    ledger = PnlLedger()
    ledger.apply(fill(1, KEYS[2], Side.BUY, "0.55", "4"))
    report = ledger.report(book_marks({}), as_of=T0)
    assert report.total.unrealized == Decimal("-2.20")
    assert report.unmarked == ("kalshi:KX-1:no",)


prices = st.integers(min_value=0, max_value=10_000).map(lambda n: Decimal(n).scaleb(-4))
quantities = st.integers(min_value=1, max_value=100_000).map(lambda n: Decimal(n).scaleb(-2))
fees = st.integers(min_value=0, max_value=10_000).map(lambda n: Decimal(n).scaleb(-6))
fill_args = st.tuples(
    st.sampled_from(KEYS), st.sampled_from(Side), prices, quantities, fees, st.integers(min_value=0, max_value=3)
)


@given(st.lists(fill_args, max_size=40), st.lists(st.one_of(st.none(), prices), min_size=4, max_size=4))
def test_realized_plus_unrealized_is_cash_change_plus_marked_value_exactly(
    args: list[tuple[tuple[Venue, str, Outcome], Side, Decimal, Decimal, Decimal, int]],
    mark_values: list[Decimal | None],
) -> None:
    fills = [fill(n, key, side, str(p), str(q), str(f), day) for n, (key, side, p, q, f, day) in enumerate(args)]
    marks = dict(zip(KEYS, mark_values, strict=True))
    ledger = PnlLedger(PAIRS)
    ledger.extend(fills)
    report = ledger.report(fixed_marks(marks), as_of=T0 + timedelta(days=3))

    cash = sum((f.price * f.quantity * (-1 if f.side is Side.BUY else 1) - f.fee for f in fills), Decimal(0))
    held: dict[tuple[Venue, str, Outcome], Decimal] = {}
    for f in fills:
        k = (f.venue, f.market_id, f.outcome)
        held[k] = held.get(k, Decimal(0)) + (f.quantity if f.side is Side.BUY else -f.quantity)
    marked = Decimal(0)
    for k, qty in held.items():
        mark = marks[k]
        if mark is None:
            mark = Decimal(0) if qty > 0 else Decimal(1)
        marked += qty * mark
    assert ledger.positions() == {k: q for k, q in held.items() if q}
    assert report.total.realized + report.total.unrealized == cash + marked
    assert report.total.fees == sum((f.fee for f in fills), Decimal(0))
    for scope in (PnlScope.PAIR, PnlScope.VENUE, PnlScope.DAY):
        lines = [ln for ln in report.lines if ln.scope is scope]
        assert sum((ln.realized for ln in lines), Decimal(0)) == report.total.realized
        assert sum((ln.unrealized for ln in lines), Decimal(0)) == report.total.unrealized
        assert sum((ln.fees for ln in lines), Decimal(0)) == report.total.fees
