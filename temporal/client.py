"""One way to connect to Temporal: with the pydantic data converter, which carries our Decimal money,
and, when the vault supplies one, the payload codec that seals every payload (security/codec.py)."""

from __future__ import annotations

from dataclasses import replace

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import PayloadCodec


async def connect(address: str, namespace: str, codec: PayloadCodec | None = None) -> Client:
    converter = pydantic_data_converter if codec is None else replace(pydantic_data_converter, payload_codec=codec)
    return await Client.connect(address, namespace=namespace, data_converter=converter)


def with_codec(client: Client, codec: PayloadCodec) -> Client:
    """The same connection, sealing and opening payloads with `codec`."""
    config = client.config()
    config["data_converter"] = replace(client.data_converter, payload_codec=codec)
    return Client(**config)
