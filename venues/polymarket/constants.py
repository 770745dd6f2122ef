"""Polymarket hosts and Polygon contract addresses (from py-clob-client 0.34.6 `config.py`)."""

from __future__ import annotations

from dataclasses import dataclass

CLOB_URL = "https://clob.polymarket.com"
GAMMA_URL = "https://gamma-api.polymarket.com"
DATA_API_URL = "https://data-api.polymarket.com"
MARKET_WS_URL = "wss://ws-subscriptions-clob.polymarket.com/ws/market"
USER_WS_URL = "wss://ws-subscriptions-clob.polymarket.com/ws/user"
RTDS_WS_URL = "wss://ws-live-data.polymarket.com"

POLYGON = 137
AMOY = 80002
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
USDC_DECIMALS = 6


@dataclass(frozen=True, slots=True)
class Contracts:
    exchange: str
    neg_risk_exchange: str
    collateral: str
    conditional_tokens: str

    def exchange_for(self, neg_risk: bool) -> str:
        """Neg-risk markets settle through their own exchange; signing for the wrong one is rejected."""
        return self.neg_risk_exchange if neg_risk else self.exchange


CONTRACTS: dict[int, Contracts] = {
    POLYGON: Contracts(
        exchange="0x4bFb41d5B3570DeFd03C39a9A4D8dE6Bd8B8982E",
        neg_risk_exchange="0xC5d563A36AE78145C45a50134d48A1215220f80a",
        collateral="0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174",
        conditional_tokens="0x4D97DCd97eC945f40cF65F87097ACe5EA0476045",
    ),
    AMOY: Contracts(
        exchange="0xdFE02Eb6733538f8Ea35D585af8DE5958AD99E40",
        neg_risk_exchange="0xd91E80cF2E7be2e162c6513ceD06f1dD0dA35296",
        collateral="0x9c4e1703476e875070ee25b56a58b008cfb8fa78",
        conditional_tokens="0x69308FB512518e39F9b16112fA8d994F4e2Bf8bB",
    ),
}


def contracts(chain_id: int) -> Contracts:
    try:
        return CONTRACTS[chain_id]
    except KeyError:
        raise ValueError(f"no Polymarket contracts known for chain {chain_id}") from None
