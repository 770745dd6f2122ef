"""The payload codec: with it on, the Temporal server holds no order, price, account or credential in clear."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from arbitrage.saga import ArbSagaInput
from control.api.app import create_api
from control.api.codec_server import codec_server
from control.app.access import Access, Role
from control.app.operations import Operations
from control.app.risk import RiskControl, running_risk
from copytrade.copies import CopyState
from copytrade.fills import FillSource
from domain.accounts import AccountRef
from risk.models import Limits
from sandbox.serving import serve_app
from security.codec import ENCODING, NAMESPACE_OWNER, EncryptionCodec, add_codec_key, codec_keys
from security.envelope import NotAuthentic, VaultError, new_key
from security.masters import KeyFileSource, PassphraseSource
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
    vault: Vault
    engine: AsyncEngine

    async def saga(self) -> WorkflowHandle:
        return await self.client.start_workflow(
            ArbSagaWorkflow.run,
            ArbSagaInput(opportunity=opportunity(), pair=PAIR, policy=FAST, tenant_id=self.tenant),
            id=f"arb-{self.tenant}-{uuid.uuid4().hex[:8]}",
            task_queue=self.queue,
        )


@pytest.fixture
async def sealed(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Sealed]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'codec.db'}")
    await migrate.upgrade(engine)
    await initialise(engine, PassphraseSource(PASSPHRASE))
    vault = await Vault.unlock(engine, PassphraseSource(PASSPHRASE))
    codec = await codec_keys(vault, "default", create=True)
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
        yield Sealed(client, raw, codec, queue, tenant, vault, engine)
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
    b'"token_id"',  # the field, not the value: the sandbox's token ids are three digits, found by chance in ids
    PAIR.kalshi.market_id.encode(),
    b'"0.45"',
    b'"0.42"',
    b"client_order_id",
    b"account",
]  # a copy's leader (a public wallet) stays readable in its CopyLeader search attribute, for `workflow list`


async def test_a_sagas_and_a_copys_raw_history_holds_nothing_in_clear(sealed: Sealed) -> None:
    saga = await sealed.saga()
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


async def test_the_codec_server_decodes_for_the_namespace_owner_only(
    sealed: Sealed, tmp_path: Path, temporal_binaries: dict[str, Path]
) -> None:
    """The real `temporal` CLI shows a sealed saga's input through the codec server, given an owner's key."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'codec.db'}")
    access = Access(engine)
    keys = {}
    await access.ensure_default()
    await access.create_tenant(sealed.tenant)
    for tenant in ("default", sealed.tenant):
        for role in (Role.OWNER, Role.VIEWER):
            name = f"{tenant[:6]}-{role.value}"
            await access.add_user(tenant, name, role)
            keys[(tenant, role)] = (await access.issue_key(tenant, name, "codec")).secret
    saga = await sealed.saga()
    await saga.result()
    namespace = sealed.raw.namespace
    server = codec_server(sealed.codec, access, NAMESPACE_OWNER, namespace, ["http://127.0.0.1:8233"])
    ops = Operations(sealed.raw, engine, sealed.queue, paper=True)
    async with serve_app(create_api(ops, codec_server=server)) as url:

        async def show(*auth: str) -> subprocess.CompletedProcess[str]:
            command = [
                str(temporal_binaries["dev"]),
                "workflow",
                "show",
                "--address",
                sealed.raw.service_client.config.target_host,
                "--namespace",
                namespace,
                "--workflow-id",
                saga.id,
                "--output",
                "json",
                "--codec-endpoint",
                f"{url}/codec",
                *auth,
            ]
            return await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=60)

        shown = await show("--codec-auth", f"Bearer {keys[('default', Role.OWNER)]}")
        assert shown.returncode == 0, shown.stderr
        assert POLY.market_id.encode() in _payload_data(shown.stdout)
        refused = await show("--codec-auth", f"Bearer {keys[(sealed.tenant, Role.OWNER)]}")
        assert POLY.market_id.encode() not in _payload_data(refused.stdout)
        async with httpx.AsyncClient(base_url=url) as http:
            body = {"payloads": [{"metadata": {"encoding": "YmluYXJ5L2VuY3J5cHRlZA=="}, "data": "AAAA"}]}
            owner = {"Authorization": f"Bearer {keys[('default', Role.OWNER)]}"}
            assert (await http.post("/codec/decode", json=body)).status_code == 401
            viewer = {"Authorization": f"Bearer {keys[('default', Role.VIEWER)]}"}
            assert "needs an owner" in (await http.post("/codec/decode", json=body, headers=viewer)).text
            other = {"Authorization": f"Bearer {keys[(sealed.tenant, Role.OWNER)]}"}
            assert "only owners of tenant default" in (await http.post("/codec/decode", json=body, headers=other)).text
            tampered = await http.post("/codec/decode", json=body, headers=owner)
            assert tampered.status_code == 422 and "does not hold" in tampered.text
            assert (await http.post("/codec/decode", content=b"{", headers=owner)).status_code == 400
            preflight = await http.options(
                "/codec/decode",
                headers={"Origin": "http://127.0.0.1:8233", "Access-Control-Request-Method": "POST"},
            )
            assert preflight.headers["access-control-allow-origin"] == "http://127.0.0.1:8233"
    await engine.dispose()


async def test_rotating_keys_while_sagas_run_stops_nothing_and_old_histories_stay_readable(
    sealed: Sealed, tmp_path: Path
) -> None:
    before = await sealed.saga()
    running = [await sealed.saga() for _ in range(3)]
    new_master = KeyFileSource(tmp_path / "rotated.key")
    await sealed.vault.rotate_master(new_master)
    await sealed.vault.rotate_data_key("default")  # re-seals the codec key itself
    await add_codec_key(sealed.vault, "default")  # payloads of the next start use a new key
    running.append(await sealed.saga())  # this process keeps its codec: nothing restarts
    assert all([(await h.result()).state.value == "Completed" for h in [before, *running]])
    restarted = await codec_keys(await Vault.unlock(sealed.engine, new_master), "default")
    assert restarted.key_id != sealed.codec.key_id
    _, payloads = await _raw_history(sealed.raw, before.id)
    assert POLY.market_id.encode() in b"".join(p.data for p in await restarted.decode(payloads))
    with pytest.raises(VaultError, match=r"is a keyfile, not a passphrase"):
        await Vault.unlock(sealed.engine, PassphraseSource(PASSPHRASE))


def _payload_data(shown: str) -> bytes:
    """The payloads' bytes in `temporal workflow show -o json` (base64 there), as the CLI decoded them."""
    found: list[bytes] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "metadata" in node and "data" in node:
                found.append(base64.b64decode(node["data"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    try:
        walk(json.loads(shown))
    except ValueError:
        return b""
    return b"".join(found)
