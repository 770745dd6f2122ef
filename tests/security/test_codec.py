"""The payload codec: with it on, the Temporal server holds no order, price, account or credential in clear."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from arbitrage.saga import ArbSagaInput
from control.app.risk import RiskControl, running_risk
from copytrade.copies import CopyState
from copytrade.fills import FillSource
from domain.accounts import AccountRef
from risk.models import Limits
from security.codec import ENCODING, EncryptionCodec, codec_keys
from security.envelope import NotAuthentic, VaultError, new_key
from security.masters import PassphraseSource
from security.vault import Vault, initialise
from storage import migrate
from storage.database import create_engine
from streamers.copytrade import CopyTrades
from streamers.launcher import TradeLauncher
from temporal.client import with_codec
from tests.security.test_vault import PASSPHRASE
from tests.workflows.saga_fixtures import PAIR, POLY, opportunity, venues
from tests.workflows.test_arb_saga import FAST
from tests.workflows.test_copy_trade import LEADER, RULES, leader_fill, markets
from venues.accounts import VenueAccounts
from workers.worker import build_worker
from workflows.arb_saga import ArbSagaWorkflow


async def test_payloads_round_trip_and_a_flipped_bit_or_unknown_key_is_refused() -> None:
    codec = EncryptionCodec({"k1": new_key()}, "k1")
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"price": "0.45"}')
    [sealed] = await codec.encode([plain])
    assert sealed.metadata["encoding"] == ENCODING and b"0.45" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [plain]
    assert await codec.decode([plain]) == [plain]  # written before encryption was on
    flipped = Payload(metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    with pytest.raises(NotAuthentic):
        await codec.decode([flipped])
    with pytest.raises(VaultError, match="codec key 'k1', which this process does not hold"):
        await EncryptionCodec({"k2": new_key()}, "k2").decode([sealed])


@dataclass
class Sealed:
    client: Client  # encrypts and decrypts, as the worker and the hot process do
    raw: Client  # what the server and anyone reading its database sees
    codec: EncryptionCodec
    queue: str
    tenant: str


@pytest.fixture
async def sealed(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Sealed]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'codec.db'}")
    await migrate.upgrade(engine)
    await initialise(engine, PassphraseSource(PASSPHRASE))
    codec = await codec_keys(await Vault.unlock(engine, PassphraseSource(PASSPHRASE)), "default", create=True)
    raw = dev_server_env.client
    client = with_codec(raw, codec)
    queue, tenant = f"sealed-{uuid.uuid4().hex[:8]}", f"t{uuid.uuid4().hex[:8]}"
    fakes = venues()
    accounts = VenueAccounts.single(fakes)
    accounts.add(AccountRef(tenant_id=tenant), fakes)
    worker = build_worker(client, queue, engine, accounts=accounts, trading_allowed=lambda _t: True, markets=markets)
    async with worker, running_risk(client, engine, tenant, queue, Limits()):
        while not (await RiskControl(client, tenant).status()).balances:
            await asyncio.sleep(0.05)
        yield Sealed(client, raw, codec, queue, tenant)
        await RiskControl(client, tenant).handle.terminate("test over")
    await engine.dispose()


async def _raw_history(raw: Client, workflow_id: str) -> tuple[bytes, list[Payload]]:
    """Every byte of the workflow's history as the server stores it, and the payloads in it."""
    history = await raw.get_workflow_handle(workflow_id).fetch_history()
    blob = b"".join(event.SerializeToString() for event in history.events)
    payloads: list[Payload] = []
    for event in history.events:
        for field in ("workflow_execution_started_event_attributes", "activity_task_scheduled_event_attributes"):
            if event.HasField(field):
                payloads.extend(getattr(event, field).input.payloads)
        if event.HasField("activity_task_completed_event_attributes"):
            payloads.extend(event.activity_task_completed_event_attributes.result.payloads)
    return blob, payloads


CLEAR = [
    POLY.market_id.encode(),
    POLY.yes_token.encode(),
    PAIR.kalshi.market_id.encode(),
    b'"0.45"',
    b'"0.42"',
    b"client_order_id",
    b"account",
]  # a copy's leader (a public wallet) stays readable in its CopyLeader search attribute, for `workflow list`


async def test_a_sagas_and_a_copys_raw_history_holds_nothing_in_clear(sealed: Sealed) -> None:
    saga = await sealed.client.start_workflow(
        ArbSagaWorkflow.run,
        ArbSagaInput(opportunity=opportunity(), pair=PAIR, policy=FAST, tenant_id=sealed.tenant),
        id=f"arb-{sealed.tenant}-{uuid.uuid4().hex[:8]}",
        task_queue=sealed.queue,
    )
    assert (await saga.result()).state.value == "Completed"
    trades = CopyTrades(TradeLauncher(sealed.client, sealed.queue), {LEADER: {sealed.tenant: RULES}})
    (copy,) = await trades.take(leader_fill(FillSource.RTDS))
    assert (await copy.result()).state is CopyState.FILLED
    for workflow_id in (saga.id, copy.id):
        blob, payloads = await _raw_history(sealed.raw, workflow_id)
        assert payloads and all(p.metadata["encoding"] == ENCODING for p in payloads)
        found = [s.decode() for s in CLEAR if s in blob]
        assert found == [], f"{workflow_id} holds {found} in clear"
        opened = b"".join(p.data for p in await sealed.codec.decode(payloads))
        assert POLY.market_id.encode() in opened and b"client_order_id" in opened  # what the search would find
