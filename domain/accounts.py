"""Whose money an order moves: a tenant, and which of the tenant's accounts on the venue.

Every order names its account, so the activity that places it picks that account's client
(`venues.accounts.VenueAccounts`) and asks that tenant's risk gate. Tenant ids are part of
workflow ids and Redis keys, so they are short, lower-case, and free of `/` and `:` (the
separators of account names and Redis keys) so two tenants' keys cannot collide.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_TENANT = "default"
DEFAULT_ACCOUNT = "default"
TENANT_ID = r"^[a-z0-9][a-z0-9_-]{0,45}$"

TenantId = str


class AccountRef(BaseModel):
    """`account` names one of the tenant's credentials on a venue (today every tenant has `default`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: TenantId = Field(default=DEFAULT_TENANT, pattern=TENANT_ID)
    account: str = Field(default=DEFAULT_ACCOUNT, min_length=1, max_length=64)

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.account}"
