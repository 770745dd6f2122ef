"""Which client trades for which account: the registry every order activity resolves its intent's account in.

Today a process holds one account per venue (the one in its settings) for the default tenant;
the vault will add a tenant's own credentials here. An order naming an account this process
does not hold is refused, never placed with someone else's credentials.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.accounts import AccountRef, TenantId
from domain.models import Venue
from venues.base import TradingClient


class UnknownAccountError(LookupError):
    """No client for this account on this venue in this process."""


class VenueAccounts:
    def __init__(self, accounts: Mapping[AccountRef, Mapping[Venue, TradingClient]]) -> None:
        self._accounts = {ref: dict(clients) for ref, clients in accounts.items()}

    @classmethod
    def single(cls, clients: Mapping[Venue, TradingClient], account: AccountRef | None = None) -> VenueAccounts:
        """One account's clients (the default tenant's default account unless named)."""
        return cls({account or AccountRef(): clients})

    def add(self, account: AccountRef, clients: Mapping[Venue, TradingClient]) -> None:
        """A tenant's account joins a running process (its credentials were just unlocked)."""
        self._accounts[account] = dict(clients)

    def client(self, account: AccountRef, venue: Venue) -> TradingClient:
        try:
            return self._accounts[account][venue]
        except KeyError:
            raise UnknownAccountError(f"no {venue.value} client for account {account} in this process") from None

    def of_tenant(self, tenant_id: TenantId) -> dict[Venue, TradingClient]:
        """The tenant's default account on each venue (whose balances and positions the supervisor syncs)."""
        return dict(self._accounts.get(AccountRef(tenant_id=tenant_id), {}))

    def __bool__(self) -> bool:
        return any(self._accounts.values())
