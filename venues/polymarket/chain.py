"""Polygon access for Polymarket: USDC balance/allowance reads and CTF split/merge/redeem.

Public RPC endpoints fail often, so `FailoverProvider` tries each configured URL in
turn (starting from the last one that answered) and only gives up when all of them
are down. A JSON-RPC error answer is the node's verdict, not an outage, and is
returned as is.

Transactions are built and signed with eth_account and sent only when `dry_run` is
False; a dry run returns the signed transaction so it can be inspected or sent
later. Collateral and outcome tokens both have 6 decimals; amounts here are Decimal
dollars (full sets for split/merge) converted exactly to 1e-6 units.

Neg-risk markets split and merge through Polymarket's NegRiskAdapter rather than the
Conditional Tokens contract directly; the functions here cover standard markets.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import AsyncWeb3
from web3.providers.async_base import AsyncJSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

from domain.money import Rounding, dollars_to_micro, micro_to_dollars
from venues.polymarket.constants import POLYGON, contracts

log = logging.getLogger(__name__)

ZERO_BYTES32 = b"\x00" * 32
BINARY_PARTITION = [1, 2]  # index sets of outcome slots 0 (YES) and 1 (NO)
GAS_MARGIN = Decimal("1.25")

ERC20_ABI: list[dict[str, Any]] = [
    {
        "name": "balanceOf",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "name": "allowance",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
]
_POSITION_ARGS = [
    {"name": "collateralToken", "type": "address"},
    {"name": "parentCollectionId", "type": "bytes32"},
    {"name": "conditionId", "type": "bytes32"},
]
CTF_ABI: list[dict[str, Any]] = [
    {
        "name": "splitPosition",
        "type": "function",
        "stateMutability": "nonpayable",
        "outputs": [],
        "inputs": [*_POSITION_ARGS, {"name": "partition", "type": "uint256[]"}, {"name": "amount", "type": "uint256"}],
    },
    {
        "name": "mergePositions",
        "type": "function",
        "stateMutability": "nonpayable",
        "outputs": [],
        "inputs": [*_POSITION_ARGS, {"name": "partition", "type": "uint256[]"}, {"name": "amount", "type": "uint256"}],
    },
    {
        "name": "redeemPositions",
        "type": "function",
        "stateMutability": "nonpayable",
        "outputs": [],
        "inputs": [*_POSITION_ARGS, {"name": "indexSets", "type": "uint256[]"}],
    },
]


class AllEndpointsDown(ConnectionError):
    """Every configured RPC endpoint failed for this request."""


class FailoverProvider(AsyncJSONBaseProvider):
    """Async JSON-RPC over HTTP with failover across `urls` (sticky to the last healthy one)."""

    def __init__(self, urls: Sequence[str], *, http: httpx.AsyncClient | None = None, timeout: float = 5.0) -> None:
        if not urls:
            raise ValueError("at least one RPC URL is needed")
        super().__init__()
        self.urls = list(urls)
        self.failovers = 0
        self._current = 0
        self._http = http or httpx.AsyncClient(timeout=timeout)

    async def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        body = self.encode_rpc_request(method, params)
        failures: list[str] = []
        start = self._current
        for index in itertools.chain(range(start, len(self.urls)), range(start)):
            url = self.urls[index]
            try:
                response = await self._http.post(url, content=body, headers={"content-type": "application/json"})
                if response.status_code >= 500 or response.status_code == 429:
                    raise httpx.HTTPStatusError(
                        f"HTTP {response.status_code}", request=response.request, response=response
                    )
                decoded = self.decode_rpc_response(response.content)
            except (httpx.HTTPError, ValueError) as exc:
                failures.append(f"{url}: {exc!r}")
                log.warning("polygon RPC %s failed on %s: %r", method, url, exc)
                continue
            if index != self._current:
                self.failovers += 1
                self._current = index
            return decoded
        raise AllEndpointsDown(f"{method}: every RPC endpoint failed: {'; '.join(failures)}")

    async def is_connected(self, show_traceback: bool = False) -> bool:
        try:
            await self.make_request(RPCEndpoint("eth_chainId"), [])
        except AllEndpointsDown:
            return False
        return True

    async def aclose(self) -> None:
        await self._http.aclose()


@dataclass(frozen=True, slots=True)
class ChainTransaction:
    """A signed transaction; `sent` says whether it was broadcast (False in dry runs)."""

    tx_hash: str
    raw: bytes
    tx: dict[str, Any]
    sent: bool


class Polygon:
    """USDC and Conditional Tokens on Polygon for one (optional) signing account."""

    def __init__(
        self,
        rpc_urls: Sequence[str],
        *,
        chain_id: int = POLYGON,
        private_key: str | None = None,
        dry_run: bool = True,
        http: httpx.AsyncClient | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.provider = FailoverProvider(rpc_urls, http=http, timeout=timeout)
        self.w3 = AsyncWeb3(self.provider)
        self.chain_id = chain_id
        self.dry_run = dry_run
        self.account: LocalAccount | None = Account.from_key(private_key) if private_key else None
        addresses = contracts(chain_id)
        self.collateral = to_checksum_address(addresses.collateral)
        self.usdc = self.w3.eth.contract(address=self.collateral, abi=ERC20_ABI)
        self.ctf = self.w3.eth.contract(address=to_checksum_address(addresses.conditional_tokens), abi=CTF_ABI)
        self.exchanges = (addresses.exchange, addresses.neg_risk_exchange)

    async def aclose(self) -> None:
        await self.provider.aclose()

    async def usdc_balance(self, owner: str) -> Decimal:
        raw = await self.usdc.functions.balanceOf(to_checksum_address(owner)).call()
        return micro_to_dollars(int(raw))

    async def usdc_allowance(self, owner: str, spender: str) -> Decimal:
        raw = await self.usdc.functions.allowance(to_checksum_address(owner), to_checksum_address(spender)).call()
        return micro_to_dollars(int(raw))

    async def split(self, condition_id: str, amount: Decimal) -> ChainTransaction:
        """Turn `amount` USDC into `amount` YES + `amount` NO tokens."""
        args = [self.collateral, ZERO_BYTES32, _bytes32(condition_id), BINARY_PARTITION, _units(amount)]
        return await self._transact("splitPosition", args)

    async def merge(self, condition_id: str, amount: Decimal) -> ChainTransaction:
        """Turn `amount` YES + `amount` NO tokens back into `amount` USDC."""
        args = [self.collateral, ZERO_BYTES32, _bytes32(condition_id), BINARY_PARTITION, _units(amount)]
        return await self._transact("mergePositions", args)

    async def redeem(self, condition_id: str) -> ChainTransaction:
        """Redeem every winning token of a resolved market for USDC."""
        return await self._transact(
            "redeemPositions", [self.collateral, ZERO_BYTES32, _bytes32(condition_id), BINARY_PARTITION]
        )

    async def _transact(self, function: str, args: list[Any]) -> ChainTransaction:
        if self.account is None:
            raise ValueError("sending transactions needs a private key")
        sender = self.account.address
        data = self.ctf.encode_abi(function, args=args)
        call = {"from": sender, "to": self.ctf.address, "data": data, "value": 0}
        eth = self.w3.eth
        nonce = await eth.get_transaction_count(sender, "pending")
        gas = int(Decimal(await eth.estimate_gas(cast(Any, call))) * GAS_MARGIN)
        priority = await eth.max_priority_fee
        block = await eth.get_block("latest")
        base_fee = int(block.get("baseFeePerGas", 0))
        tx = {
            **call,
            "chainId": self.chain_id,
            "nonce": nonce,
            "gas": gas,
            "type": 2,
            "maxPriorityFeePerGas": priority,
            "maxFeePerGas": 2 * base_fee + priority,
        }
        signed = self.account.sign_transaction(tx)
        tx_hash = "0x" + bytes(signed.hash).hex()
        if self.dry_run:
            log.info("dry run: %s not sent (%s)", function, tx_hash)
            return ChainTransaction(tx_hash, bytes(signed.raw_transaction), tx, sent=False)
        await eth.send_raw_transaction(signed.raw_transaction)
        return ChainTransaction(tx_hash, bytes(signed.raw_transaction), tx, sent=True)


def _bytes32(hex_id: str) -> bytes:
    raw = bytes.fromhex(hex_id.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError(f"condition id must be 32 bytes: {hex_id!r}")
    return raw


def _units(amount: Decimal) -> int:
    if amount <= 0:
        raise ValueError(f"amount must be positive, got {amount}")
    return dollars_to_micro(amount, Rounding.EXACT)
