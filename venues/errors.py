"""Typed venue errors, so sagas decide on kind (retry, reconcile, give up) and never parse messages."""

from __future__ import annotations

from domain.models import Venue


class VenueError(Exception):
    """Base of every error a venue client raises; `retryable` tells activities whether to retry."""

    retryable = False

    def __init__(self, venue: Venue, message: str, *, status: int | None = None, body: str | None = None):
        super().__init__(f"{venue.value}: {message}")
        self.venue = venue
        self.status = status
        self.body = body


class InsufficientBalanceError(VenueError):
    pass


class InvalidOrderError(VenueError):
    """Price off the tick, size under the minimum, malformed order: fix the order, do not retry it."""


class MarketClosedError(VenueError):
    pass


class DuplicateOrderError(VenueError):
    """The client order id was already used: the earlier placement happened, reconcile it."""


class OrderNotFoundError(VenueError):
    pass


class AuthenticationError(VenueError):
    pass


class RateLimitedError(VenueError):
    retryable = True

    def __init__(self, venue: Venue, message: str, *, retry_after: float | None = None, **kw: object):
        super().__init__(venue, message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class VenueUnavailableError(VenueError):
    """5xx, connection refused or reset: transient."""

    retryable = True


class UnknownOutcomeError(VenueError):
    """The request may or may not have reached the venue (timeout after send): reconcile before retrying."""

    retryable = True
