"""The codec server: the Temporal web UI and CLI send it sealed payloads and get them back readable,
for the namespace's owners only (`temporal workflow show --codec-endpoint <api>/codec --codec-auth
"Bearer <key>"`, or the UI's Settings → Data Encoder).

The shared namespace holds every shared-tier tenant's histories, so only an owner of the tenant
that owns the namespace may decode; a key of any other tenant, or of a trader or viewer, is refused.
The endpoints follow Temporal's codec server protocol: POST /decode and /encode with
`{"payloads": [...]}` in protobuf's JSON form.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.converter import PayloadCodec

from control.app.access import Access, Caller, Forbidden, Interface, Role, Unauthorized
from domain.accounts import TenantId
from security.envelope import VaultError


def codec_server(
    codec: PayloadCodec, access: Access, owner: TenantId, namespace: str, ui_origins: list[str]
) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    async def authorised(request: Request) -> Caller | Response:
        given = request.headers.get("authorization", "")
        secret = given.removeprefix("Bearer ").strip() or request.headers.get("x-api-key", "")
        if not secret:
            return Response("send an owner's API key: Authorization: Bearer <key>", status_code=401)
        try:
            caller = await access.authenticate(secret, Interface.WEB)
        except Unauthorized as exc:
            return Response(str(exc), status_code=401)
        asked = request.headers.get("x-namespace", namespace)
        if caller.tenant_id != owner or asked != namespace:
            return Response(f"only owners of tenant {owner} may decode namespace {namespace}", status_code=403)
        try:
            caller.require(Role.OWNER)
        except Forbidden as exc:
            return Response(str(exc), status_code=403)
        return caller

    async def transform(request: Request, decode: bool) -> Response:
        who = await authorised(request)
        if isinstance(who, Response):
            return who
        try:
            payloads = json_format.Parse(await request.body(), Payloads())
        except json_format.ParseError as exc:
            return Response(f"not a Payloads message: {exc}", status_code=400)
        try:
            done = await (codec.decode if decode else codec.encode)(list(payloads.payloads))
        except VaultError as exc:
            return Response(str(exc), status_code=422)
        body = json_format.MessageToJson(Payloads(payloads=done))
        return Response(body, media_type="application/json")

    @app.post("/decode")
    async def decode(request: Request) -> Response:
        return await transform(request, decode=True)

    @app.post("/encode")
    async def encode(request: Request) -> Response:
        return await transform(request, decode=False)

    app.add_middleware(
        CORSMiddleware,
        allow_origins=ui_origins,
        allow_credentials=True,
        allow_methods=["POST"],
        allow_headers=["authorization", "content-type", "x-namespace"],
    )
    return app
