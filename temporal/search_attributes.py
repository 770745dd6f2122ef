"""Search attributes our workflows set, so the Temporal UI and `temporal workflow list --query` find them.

One list drives both the dev server flags and registration on an external cluster,
so the two can never drift apart.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

ARB_PAIR = SearchAttributeKey.for_keyword("ArbPair")
ARB_VENUES = SearchAttributeKey.for_keyword_list("ArbVenues")
ARB_STATE = SearchAttributeKey.for_keyword("ArbState")
OPPORTUNITY_ID = SearchAttributeKey.for_keyword("OpportunityId")
TENANT_ID = SearchAttributeKey.for_keyword("TenantId")

ALL: tuple[SearchAttributeKey, ...] = (ARB_PAIR, ARB_VENUES, ARB_STATE, OPPORTUNITY_ID, TENANT_ID)


def dev_server_flags() -> list[str]:
    """`--search-attribute Name=Type` flags for `temporal server start-dev`."""
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={cli_type(key)}"]
    return flags


def cli_type(key: SearchAttributeKey) -> str:
    """The CLI's type name: KEYWORD_LIST -> KeywordList."""
    return "".join(part.title() for part in key.indexed_value_type.name.split("_"))


async def ensure_registered(client: Client, namespace: str) -> list[str]:
    """Register any missing attribute on an external cluster; returns the names it added."""
    existing = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    missing = {
        k.name: IndexedValueType.ValueType(k.indexed_value_type)
        for k in ALL
        if k.name not in existing.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)
