"""Command arguments as a person types them, turned into the application layer's typed inputs; a
mistake is an `OperationError` that says what was expected."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from control.app.errors import OperationError
from domain.manual_orders import ManualOrder
from domain.models import Outcome, Side, Venue

VENUES = {"polymarket": Venue.POLYMARKET, "pm": Venue.POLYMARKET, "kalshi": Venue.KALSHI, "k": Venue.KALSHI}
ORDER_USAGE = "usage: /{side} <polymarket|kalshi> <market id> <yes|no> <size> <price> [rest seconds]"


def venue(word: str) -> Venue:
    found = VENUES.get(word.lower())
    if found is None:
        raise OperationError(f"unknown venue {word!r}: say polymarket or kalshi")
    return found


def decimal(word: str, what: str) -> Decimal:
    try:
        value = Decimal(word)
    except InvalidOperation:
        raise OperationError(f"{what} must be a number, not {word!r}") from None
    if not value.is_finite():
        raise OperationError(f"{what} must be a number, not {word!r}")
    return value


def leader(args: list[str], usage: str) -> tuple[Venue, str]:
    if len(args) < 2:
        raise OperationError(f"usage: {usage}")
    return venue(args[0]), args[1]


def rules(words: list[str]) -> dict[str, str]:
    """`key=value` words, e.g. `fixed_amount=25 max_slippage=0.01`."""
    changes: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key or not value:
            raise OperationError(f"rules are key=value (e.g. fixed_amount=25), not {word!r}")
        changes[key] = value
    return changes


def order(side: Side, args: list[str]) -> ManualOrder:
    usage = ORDER_USAGE.format(side=side.value)
    if len(args) not in (5, 6):
        raise OperationError(usage)
    if args[2].lower() not in ("yes", "no"):
        raise OperationError(f"the outcome is yes or no, not {args[2]!r}; {usage}")
    rest = args[5] if len(args) == 6 else "0"
    if not rest.isdigit():
        raise OperationError(f"rest seconds must be a whole number, not {rest!r}")
    try:
        return ManualOrder(
            venue=venue(args[0]),
            market_id=args[1],
            outcome=Outcome(args[2].lower()),
            side=side,
            quantity=decimal(args[3], "size"),
            price=decimal(args[4], "price"),
            rest_seconds=int(rest),
        )
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(p) for p in problem["loc"])
        raise OperationError(f"{field}: {problem['msg']}; {usage}") from None
