"""Building and signing Polymarket CLOB orders.

Amounts follow py-clob-client's rounding config (price to the tick's decimals, size
to 2 decimals, notional to price decimals + 2) but in exact Decimal arithmetic:
py-clob-client computes them in floats and then repairs float noise, which for
some sizes (0.29, 0.57, 1.13, ...) floors one cent too far and signs 0.01 share
less than asked. With exact arithmetic the notional of a tick-aligned price times a
2-decimal size always fits the notional precision, so nothing is rounded there.

Roundings that can change what we trade go toward safety: a BUY price is rounded
down to the tick and a SELL price up (never pay more / receive less than the limit),
and the size is floored. The built order reports the price and size it actually
carries.

The salt of an order placed for an `OrderIntent` is derived from its
`client_order_id`, so a retried placement produces the very same signed order and
order hash (the venue's order id) and cannot become a second order.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import IntEnum, StrEnum
from typing import Any

from eth_utils import to_checksum_address

from domain.models import Market, OrderIntent, Side, TimeInForce, Venue
from venues.errors import InvalidOrderError
from venues.polymarket.constants import POLYGON, ZERO_ADDRESS, contracts
from venues.polymarket.eip712 import Wallet, address_word, exchange_domain_separator, order_struct_hash, typed_digest

SIZE_DECIMALS = 2
MICRO = 10**6
# GTD orders expire a minute later than their `expiration` field says (venue security threshold).
GTD_SECURITY_SECONDS = 60
_SIZE_STEP = Decimal("0.01")
_TICKS = {Decimal("0.1"), Decimal("0.01"), Decimal("0.001"), Decimal("0.0001")}


class OrderSide(IntEnum):
    BUY = 0
    SELL = 1


class SignatureType(IntEnum):
    """Who signs: the wallet itself (EOA), or an EOA owning a Polymarket proxy wallet / Gnosis safe."""

    EOA = 0
    POLY_PROXY = 1
    POLY_GNOSIS_SAFE = 2


IMMEDIATE_USDC_DECIMALS = {OrderSide.BUY: 2, OrderSide.SELL: 4}


class OrderType(StrEnum):
    GTC = "GTC"
    GTD = "GTD"
    FOK = "FOK"
    FAK = "FAK"


ORDER_TYPE_FOR: dict[TimeInForce, OrderType] = {
    TimeInForce.GTC: OrderType.GTC,
    TimeInForce.GTD: OrderType.GTD,
    TimeInForce.FOK: OrderType.FOK,
    TimeInForce.FAK: OrderType.FAK,
}


@dataclass(frozen=True, slots=True)
class OrderAmounts:
    side: OrderSide
    price: Decimal
    size: Decimal
    maker_amount: int
    taker_amount: int


def order_amounts(
    side: OrderSide, price: Decimal, size: Decimal, tick_size: Decimal, *, immediate: bool = False
) -> OrderAmounts:
    """Integer 1e-6 amounts of a limit order: BUY gives price x size USDC for size tokens, SELL the reverse.

    `immediate` (FOK/FAK) applies the venue's tighter precision for those orders: the
    USDC amount may carry at most 2 decimals on a BUY and 4 on a SELL (the venue
    answers "invalid amounts, the market buy orders maker amount supports a max
    accuracy of 2 decimals..." otherwise). The size is then floored to the largest
    size whose notional fits, so the limit price stays exact and we never trade more.
    """
    if tick_size not in _TICKS:
        raise InvalidOrderError(Venue.POLYMARKET, f"unsupported tick size {tick_size}")
    rounding = ROUND_FLOOR if side is OrderSide.BUY else ROUND_CEILING
    price = price.quantize(tick_size, rounding=rounding)
    if not tick_size <= price <= 1 - tick_size:
        raise InvalidOrderError(Venue.POLYMARKET, f"price {price} outside [{tick_size}, {1 - tick_size}]")
    size = size.quantize(_SIZE_STEP, rounding=ROUND_FLOOR)
    if immediate:
        size = _size_with_notional_decimals(size, price, IMMEDIATE_USDC_DECIMALS[side])
    if size <= 0:
        raise InvalidOrderError(Venue.POLYMARKET, f"size {size} must be at least {_SIZE_STEP}")
    shares = int(size * MICRO)
    notional = int(size * price * MICRO)
    if side is OrderSide.BUY:
        return OrderAmounts(side, price, size, notional, shares)
    return OrderAmounts(side, price, size, shares, notional)


def _size_with_notional_decimals(size: Decimal, price: Decimal, decimals: int) -> Decimal:
    """Largest size <= `size` (in 0.01 steps) whose notional size x price has at most `decimals` decimals."""
    exponent = -price.as_tuple().exponent  # type: ignore[operator]
    ticks = int(price.scaleb(exponent))  # price = ticks / 10**exponent
    modulus = 10 ** max(0, exponent + SIZE_DECIMALS - decimals)
    step = modulus // math.gcd(ticks, modulus)  # in hundredths of a share
    cents = int(size.scaleb(SIZE_DECIMALS))
    return Decimal(cents - cents % step).scaleb(-SIZE_DECIMALS)


def salt_for(client_order_id: str) -> int:
    """A 40-bit salt from the client order id: stable across retries, and small enough for any JSON reader."""
    return int.from_bytes(hashlib.sha256(b"inertial-event/polymarket-salt/" + client_order_id.encode()).digest()[:5])


@dataclass(frozen=True, slots=True)
class SignedOrder:
    salt: int
    maker: str
    signer: str
    taker: str
    token_id: str
    maker_amount: int
    taker_amount: int
    expiration: int
    nonce: int
    fee_rate_bps: int
    side: OrderSide
    signature_type: int
    signature: str
    order_hash: str
    """The EIP-712 digest, which is also the id the venue gives the order."""

    def to_json(self) -> dict[str, Any]:
        """The `order` object of `POST /order`, field for field what py-clob-client sends."""
        return {
            "salt": self.salt,
            "maker": self.maker,
            "signer": self.signer,
            "taker": self.taker,
            "tokenId": self.token_id,
            "makerAmount": str(self.maker_amount),
            "takerAmount": str(self.taker_amount),
            "expiration": str(self.expiration),
            "nonce": str(self.nonce),
            "feeRateBps": str(self.fee_rate_bps),
            "side": "BUY" if self.side is OrderSide.BUY else "SELL",
            "signatureType": self.signature_type,
            "signature": self.signature,
        }


def order_body(order: SignedOrder, owner: str, order_type: OrderType, post_only: bool = False) -> dict[str, Any]:
    """`POST /order` body (and one element of `POST /orders`); `owner` is the API key."""
    if post_only and order_type not in (OrderType.GTC, OrderType.GTD):
        raise InvalidOrderError(Venue.POLYMARKET, "post-only orders must be GTC or GTD")
    return {"order": order.to_json(), "owner": owner, "orderType": order_type.value, "postOnly": post_only}


class OrderSigner:
    """Builds and signs orders for one wallet; domain separators and address words are computed once.

    `funder` is the address holding the funds (the proxy wallet or safe for signature
    types 1 and 2); it defaults to the signing wallet.
    """

    def __init__(
        self,
        wallet: Wallet,
        *,
        chain_id: int = POLYGON,
        funder: str | None = None,
        signature_type: SignatureType = SignatureType.EOA,
    ) -> None:
        self.wallet = wallet
        self.chain_id = chain_id
        self.maker = to_checksum_address(funder) if funder else wallet.address
        self.signature_type = int(signature_type)
        self._maker_word = address_word(self.maker)
        book = contracts(chain_id)
        self._domains = {
            False: exchange_domain_separator(chain_id, book.exchange_for(False)),
            True: exchange_domain_separator(chain_id, book.exchange_for(True)),
        }
        self._zero_word = address_word(ZERO_ADDRESS)

    def sign(
        self,
        *,
        token_id: str,
        side: OrderSide,
        price: Decimal,
        size: Decimal,
        tick_size: Decimal,
        neg_risk: bool,
        salt: int,
        fee_rate_bps: int = 0,
        expiration: int = 0,
        nonce: int = 0,
        immediate: bool = False,
    ) -> tuple[SignedOrder, OrderAmounts]:
        amounts = order_amounts(side, price, size, tick_size, immediate=immediate)
        return self.sign_amounts(
            token_id=token_id,
            amounts=amounts,
            neg_risk=neg_risk,
            salt=salt,
            fee_rate_bps=fee_rate_bps,
            expiration=expiration,
            nonce=nonce,
        ), amounts

    def sign_amounts(
        self,
        *,
        token_id: str,
        amounts: OrderAmounts,
        neg_risk: bool,
        salt: int,
        fee_rate_bps: int = 0,
        expiration: int = 0,
        nonce: int = 0,
    ) -> SignedOrder:
        if fee_rate_bps < 0 or expiration < 0 or nonce < 0 or salt < 0:
            raise InvalidOrderError(Venue.POLYMARKET, "fee rate, expiration, nonce and salt must be non-negative")
        struct_hash = order_struct_hash(
            salt,
            self._maker_word,
            self.wallet.address_word,
            self._zero_word,
            int(token_id),
            amounts.maker_amount,
            amounts.taker_amount,
            expiration,
            nonce,
            fee_rate_bps,
            int(amounts.side),
            self.signature_type,
        )
        digest = typed_digest(self._domains[neg_risk], struct_hash)
        return SignedOrder(
            salt=salt,
            maker=self.maker,
            signer=self.wallet.address,
            taker=ZERO_ADDRESS,
            token_id=token_id,
            maker_amount=amounts.maker_amount,
            taker_amount=amounts.taker_amount,
            expiration=expiration,
            nonce=nonce,
            fee_rate_bps=fee_rate_bps,
            side=amounts.side,
            signature_type=self.signature_type,
            signature=self.wallet.sign_digest_hex(digest),
            order_hash="0x" + digest.hex(),
        )

    def sign_intent(self, intent: OrderIntent, market: Market, *, fee_rate_bps: int = 0) -> SignedOrder:
        """The order for `intent` on `market`: same intent, same signed order, on every retry."""
        if intent.token_id not in (market.yes_token, market.no_token):
            raise InvalidOrderError(Venue.POLYMARKET, f"token {intent.token_id} is not in market {market.market_id}")
        if intent.quantity < market.min_order_size:
            raise InvalidOrderError(
                Venue.POLYMARKET, f"size {intent.quantity} below the market minimum {market.min_order_size}"
            )
        side = OrderSide.BUY if intent.side is Side.BUY else OrderSide.SELL
        order, _ = self.sign(
            token_id=intent.token_id,
            side=side,
            price=intent.price,
            size=intent.quantity,
            tick_size=market.tick_size,
            neg_risk=market.neg_risk,
            salt=salt_for(intent.client_order_id),
            fee_rate_bps=fee_rate_bps,
            expiration=gtd_expiration(intent.expires_at) if intent.time_in_force is TimeInForce.GTD else 0,
            immediate=intent.time_in_force in (TimeInForce.FOK, TimeInForce.FAK),
        )
        return order


def gtd_expiration(expires_at: datetime | None) -> int:
    """The `expiration` field that makes a GTD order stop at `expires_at` (the venue subtracts a minute)."""
    if expires_at is None:
        raise InvalidOrderError(Venue.POLYMARKET, "a GTD order needs expires_at")
    return int(expires_at.timestamp()) + GTD_SECURITY_SECONDS
