"""How an operation says no: one line a person understands, the same on every front end.

The CLI prints it and exits 1; the REST API and the Telegram bot answer with it. `NotFound` is
also the answer for another tenant's ids, so nothing outside a tenant can be probed.
"""

from __future__ import annotations


class OperationError(Exception):
    """Refused or impossible, for a reason the caller can act on."""


class NotFound(OperationError):
    """No such thing in the caller's tenant."""


class Unavailable(OperationError):
    """A service the operation needs did not answer (Temporal, a worker, the database)."""
