"""EIP-712 hashing and signing for Polymarket orders and ClobAuth, without a generic encoder.

py-clob-client builds each order through `poly_eip712_structs` (a generic, reflective
EIP-712 encoder) and signs with `eth_account`; that costs around a millisecond per
order. Our structs are fixed, so the type hashes and the domain separators are
computed once, every field is encoded as its 32-byte word directly, and signing is
one libsecp256k1 call through coincurve. The output is byte-identical to
py-clob-client's (tests compare them over random orders).
"""

from __future__ import annotations

from coincurve import PrivateKey
from Crypto.Hash import keccak as _keccak
from eth_utils import to_checksum_address

EIP712_DOMAIN_WITH_CONTRACT = b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
EIP712_DOMAIN_NO_CONTRACT = b"EIP712Domain(string name,string version,uint256 chainId)"
ORDER_TYPE = (
    b"Order(uint256 salt,address maker,address signer,address taker,uint256 tokenId,uint256 makerAmount,"
    b"uint256 takerAmount,uint256 expiration,uint256 nonce,uint256 feeRateBps,uint8 side,uint8 signatureType)"
)
CLOB_AUTH_TYPE = b"ClobAuth(address address,string timestamp,uint256 nonce,string message)"
EXCHANGE_DOMAIN_NAME = "Polymarket CTF Exchange"
CLOB_AUTH_DOMAIN_NAME = "ClobAuthDomain"
DOMAIN_VERSION = "1"
CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"


def keccak(data: bytes) -> bytes:
    return _keccak.new(digest_bits=256, data=data).digest()


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def address_word(address: str) -> bytes:
    """An address as its left-padded 32-byte ABI word."""
    raw = bytes.fromhex(address[2:] if address[:2] in ("0x", "0X") else address)
    if len(raw) != 20:
        raise ValueError(f"not a 20-byte address: {address!r}")
    return bytes(12) + raw


ORDER_TYPE_HASH = keccak(ORDER_TYPE)
CLOB_AUTH_TYPE_HASH = keccak(CLOB_AUTH_TYPE)
_CLOB_AUTH_MESSAGE_HASH = keccak(CLOB_AUTH_MESSAGE.encode())


def exchange_domain_separator(chain_id: int, exchange: str) -> bytes:
    return keccak(
        keccak(EIP712_DOMAIN_WITH_CONTRACT)
        + keccak(EXCHANGE_DOMAIN_NAME.encode())
        + keccak(DOMAIN_VERSION.encode())
        + _word(chain_id)
        + address_word(exchange)
    )


def clob_auth_domain_separator(chain_id: int) -> bytes:
    return keccak(
        keccak(EIP712_DOMAIN_NO_CONTRACT)
        + keccak(CLOB_AUTH_DOMAIN_NAME.encode())
        + keccak(DOMAIN_VERSION.encode())
        + _word(chain_id)
    )


def typed_digest(domain_separator: bytes, struct_hash: bytes) -> bytes:
    return keccak(b"\x19\x01" + domain_separator + struct_hash)


class Wallet:
    """A private key and its address; signs 32-byte digests as Ethereum 65-byte r||s||v (v = 27/28)."""

    __slots__ = ("_key", "address", "address_word")

    def __init__(self, private_key: str | bytes) -> None:
        if isinstance(private_key, str):
            private_key = bytes.fromhex(private_key.removeprefix("0x"))
        self._key = PrivateKey(private_key)
        public = self._key.public_key.format(compressed=False)[1:]
        self.address = to_checksum_address(keccak(public)[-20:])
        self.address_word = address_word(self.address)

    def __repr__(self) -> str:
        return f"Wallet({self.address})"

    def sign_digest(self, digest: bytes) -> bytes:
        signature = self._key.sign_recoverable(digest, hasher=None)
        return signature[:64] + bytes((signature[64] + 27,))

    def sign_digest_hex(self, digest: bytes) -> str:
        return "0x" + self.sign_digest(digest).hex()

    @property
    def private_key_hex(self) -> str:
        """For handing the key to libraries that want it as text (eth_account transactions)."""
        return "0x" + self._key.secret.hex()


def order_struct_hash(
    salt: int,
    maker_word: bytes,
    signer_word: bytes,
    taker_word: bytes,
    token_id: int,
    maker_amount: int,
    taker_amount: int,
    expiration: int,
    nonce: int,
    fee_rate_bps: int,
    side: int,
    signature_type: int,
) -> bytes:
    return keccak(
        b"".join(
            (
                ORDER_TYPE_HASH,
                salt.to_bytes(32, "big"),
                maker_word,
                signer_word,
                taker_word,
                token_id.to_bytes(32, "big"),
                maker_amount.to_bytes(32, "big"),
                taker_amount.to_bytes(32, "big"),
                expiration.to_bytes(32, "big"),
                nonce.to_bytes(32, "big"),
                fee_rate_bps.to_bytes(32, "big"),
                side.to_bytes(32, "big"),
                signature_type.to_bytes(32, "big"),
            )
        )
    )


def clob_auth_signature(wallet: Wallet, chain_id: int, timestamp: str, nonce: int) -> str:
    """The L1 `POLY_SIGNATURE`: the wallet's EIP-712 signature of ClobAuth(address, timestamp, nonce, message)."""
    struct_hash = keccak(
        CLOB_AUTH_TYPE_HASH + wallet.address_word + keccak(timestamp.encode()) + _word(nonce) + _CLOB_AUTH_MESSAGE_HASH
    )
    return wallet.sign_digest_hex(typed_digest(clob_auth_domain_separator(chain_id), struct_hash))
