"""The REST API, version 1: each route authenticates, rate-limits and calls one application operation.

Routes hold no logic of their own (that lives in control/app), so REST answers exactly what the
CLI and the bot answer. A key is sent as `X-API-Key`; another tenant's ids are 404, like ids that
do not exist; state-changing POSTs honour `Idempotency-Key`.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field

from control.api import problems
from control.api.idempotency import Idempotency, request_hash
from control.api.limits import BodyLimit, RateLimiter
from control.api.stream import BookTops, event_stream
from control.app.access import Access, Caller, Interface, KeyView, Role, Unauthorized, UserView
from control.app.audit import AuditView
from control.app.operations import Health, Operations
from control.app.pages import MAX_LIMIT, Page
from control.app.positions import Positions
from control.app.records import CopyView, OpportunityView, SagaView
from control.web.routes import mount_dashboard
from copytrade.leaders import Follow
from domain.manual_orders import ManualOrder, ManualOrderStatus
from domain.models import MarketPair, PairStatus, Venue
from risk.models import Limits
from risk.pnl import PnlReport
from risk.supervision import RiskStatus

API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key from `inertial keys create`")
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", max_length=200, description="Repeat-safe: same key, same answer")
]
Cursor = Annotated[str | None, Query(max_length=400, description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Leader = Annotated[str, Field(min_length=1, max_length=100)]


PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": problems.Problem, "content": {problems.PROBLEM: {}}, "description": title}
    for status, title in problems.TITLES.items()
    if status in (401, 403, 404, 409, 413, 422, 429, 503)
}

TradeKey = Annotated[
    str,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, description="Required: a retry places nothing twice"),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KillBody(_Body):
    reason: str = Field(min_length=1, max_length=500)


class LimitBody(_Body):
    value: str = Field(min_length=1, max_length=40, description="A decimal amount, a count, or 'none'")


class FollowBody(_Body):
    venue: Venue
    leader: Leader
    rules: dict[str, Any] = Field(default_factory=dict, description="Copy rules (copytrade/rules.py)")


class RulesBody(_Body):
    changes: dict[str, Any] = Field(description="Rules to change; others keep their value")


class PauseBody(_Body):
    reason: str = Field(default="paused", min_length=1, max_length=500)


class UserBody(_Body):
    name: str = Field(min_length=1, max_length=40)
    role: Role


class KeyBody(_Body):
    user: str = Field(min_length=1, max_length=40)
    name: str = Field(default="key", min_length=1, max_length=100)
    role: Role | None = None


class IssuedKeyView(BaseModel):
    key: KeyView
    secret: str = Field(description="Shown only now: store it; it cannot be read again")


class SuggestBody(_Body):
    polymarket: Any = Field(description="A Gamma /events or /markets response")
    kalshi: Any = Field(description="A Kalshi /markets or /events response")
    top_k: int = Field(default=3, ge=1, le=10)
    min_confidence: float = Field(default=0.5, ge=0, le=1)


class Suggested(BaseModel):
    pairs: list[MarketPair]
    rejected: list[str]


class LinkCode(BaseModel):
    code: str
    how: str


def create_api(
    ops: Operations,
    *,
    limiter: RateLimiter | None = None,
    book_tops: BookTops | None = None,
    codec_server: FastAPI | None = None,
) -> FastAPI:
    """`codec_server` (control/api/codec_server.py) is mounted at /codec when payloads are sealed."""
    access = Access(ops.engine)
    idempotency = Idempotency(ops.engine)
    limiter = limiter or RateLimiter()

    async def caller(key: Annotated[str | None, Depends(API_KEY)]) -> Caller:
        if not key:
            raise Unauthorized("send an API key in the X-API-Key header (make one with `inertial keys create`)")
        who = await access.authenticate(key, Interface.API)
        limiter.take(who.key_id or who.actor, who.tier)
        return who

    As = Annotated[Caller, Depends(caller)]

    def once(request: Request, body: Any = None) -> Callable[..., Any]:
        fingerprint = request_hash(request.method, request.url.path, body)

        async def run(who: Caller, key: str | None, call: Callable[[], Any]) -> JSONResponse:
            return await idempotency.once(who, key, fingerprint, call)

        return run

    v1 = APIRouter(prefix="/v1", responses=PROBLEMS)

    @v1.get("/health", response_model=Health, tags=["status"])
    async def health(who: As) -> Health:
        return await ops.health(who)

    @v1.get("/risk", response_model=RiskStatus, tags=["risk"])
    async def risk_status(who: As) -> RiskStatus:
        return await ops.risk_status(who)

    @v1.get("/risk/limits", response_model=Limits, tags=["risk"])
    async def limits(who: As) -> Limits:
        return await ops.limits(who)

    @v1.put("/risk/limits/{key}", response_model=Limits, tags=["risk"])
    async def set_limit(who: As, key: Annotated[str, Path(max_length=60)], body: LimitBody) -> Limits:
        return await ops.set_limit(who, key, body.value)

    @v1.get("/pnl", response_model=PnlReport | None, tags=["risk"])
    async def pnl(who: As) -> PnlReport | None:
        return await ops.pnl(who)

    @v1.get("/positions", response_model=Positions, tags=["risk"])
    async def positions(who: As) -> Positions:
        """Exposure, balances and P&L per venue, pair, leader and day."""
        return await ops.positions(who)

    @v1.post("/risk/kill", response_model=RiskStatus, tags=["risk"])
    async def kill(request: Request, who: As, body: KillBody, key: IdempotencyKey = None) -> JSONResponse:
        return await once(request, body)(who, key, lambda: ops.kill(who, body.reason))

    @v1.post("/risk/unkill", response_model=RiskStatus, tags=["risk"])
    async def unkill(request: Request, who: As, key: IdempotencyKey = None) -> JSONResponse:
        return await once(request)(who, key, lambda: ops.unkill(who))

    @v1.post("/risk/reset-breaker", response_model=RiskStatus, tags=["risk"])
    async def reset_breaker(request: Request, who: As, key: IdempotencyKey = None) -> JSONResponse:
        return await once(request)(who, key, lambda: ops.reset_breaker(who))

    @v1.get("/leaders", response_model=list[Follow], tags=["copy"])
    async def leaders(who: As) -> list[Follow]:
        return await ops.follows(who)

    @v1.post("/leaders", response_model=Follow, tags=["copy"])
    async def follow(request: Request, who: As, body: FollowBody, key: IdempotencyKey = None) -> JSONResponse:
        return await once(request, body)(who, key, lambda: ops.follow(who, body.venue, body.leader, body.rules))

    @v1.get("/leaders/{venue}/{leader}", response_model=Follow, tags=["copy"])
    async def leader(who: As, venue: Venue, leader: str) -> Follow:
        return await ops.follow_state(who, venue, leader)

    @v1.patch("/leaders/{venue}/{leader}/rules", response_model=Follow, tags=["copy"])
    async def set_rules(who: As, venue: Venue, leader: str, body: RulesBody) -> Follow:
        return await ops.set_rules(who, venue, leader, body.changes)

    @v1.post("/leaders/{venue}/{leader}/pause", response_model=Follow, tags=["copy"])
    async def pause(
        request: Request, who: As, venue: Venue, leader: str, body: PauseBody, key: IdempotencyKey = None
    ) -> JSONResponse:
        return await once(request, body)(who, key, lambda: ops.pause(who, venue, leader, body.reason))

    @v1.post("/leaders/{venue}/{leader}/resume", response_model=Follow, tags=["copy"])
    async def resume(request: Request, who: As, venue: Venue, leader: str, key: IdempotencyKey = None) -> JSONResponse:
        return await once(request)(who, key, lambda: ops.resume(who, venue, leader))

    @v1.delete("/leaders/{venue}/{leader}", response_model=Follow, tags=["copy"])
    async def unfollow(who: As, venue: Venue, leader: str) -> Follow:
        return await ops.unfollow(who, venue, leader)

    @v1.get("/copies", response_model=Page[CopyView], tags=["copy"])
    async def copies(who: As, leader: str | None = None, cursor: Cursor = None, limit: Limit = 50) -> Page[CopyView]:
        return await ops.copies(who, leader=leader, cursor=cursor, limit=limit)

    @v1.get("/copies/{fill_key}", response_model=CopyView, tags=["copy"])
    async def copy(who: As, fill_key: str) -> CopyView:
        return await ops.copy(who, fill_key)

    @v1.get("/opportunities", response_model=Page[OpportunityView], tags=["sagas"])
    async def opportunities(who: As, cursor: Cursor = None, limit: Limit = 50) -> Page[OpportunityView]:
        return await ops.opportunities(who, cursor=cursor, limit=limit)

    @v1.get("/sagas", response_model=Page[SagaView], tags=["sagas"])
    async def sagas(who: As, state: str | None = None, cursor: Cursor = None, limit: Limit = 50) -> Page[SagaView]:
        return await ops.sagas(who, state=state, cursor=cursor, limit=limit)

    @v1.get("/sagas/{workflow_id}", response_model=SagaView, tags=["sagas"])
    async def saga(who: As, workflow_id: str) -> SagaView:
        return await ops.saga(who, workflow_id)

    @v1.get("/pairs", response_model=list[MarketPair], tags=["pairs"])
    async def pairs(who: As, status: PairStatus | None = None) -> list[MarketPair]:
        return await ops.pair_desk.pairs(who, status)

    @v1.post("/pairs/suggest", response_model=Suggested, tags=["pairs"])
    async def suggest_pairs(who: As, body: SuggestBody) -> Suggested:
        """Match a Gamma listing against a Kalshi listing (as the venues answer them); candidates wait for review."""
        stored, rejected = await ops.pair_desk.suggest(
            who, body.polymarket, body.kalshi, top_k=body.top_k, min_confidence=body.min_confidence
        )
        return Suggested(pairs=stored, rejected=rejected)

    @v1.post("/pairs/{pair_id}/confirm", response_model=MarketPair, tags=["pairs"])
    async def confirm(request: Request, who: As, pair_id: str, key: IdempotencyKey = None) -> JSONResponse:
        return await once(request)(who, key, lambda: ops.pair_desk.decide(who, pair_id, PairStatus.CONFIRMED))

    @v1.post("/pairs/{pair_id}/reject", response_model=MarketPair, tags=["pairs"])
    async def reject(request: Request, who: As, pair_id: str, key: IdempotencyKey = None) -> JSONResponse:
        return await once(request)(who, key, lambda: ops.pair_desk.decide(who, pair_id, PairStatus.REJECTED))

    @v1.post("/orders", response_model=ManualOrderStatus, tags=["orders"])
    async def place_order(request: Request, who: As, body: ManualOrder, key: TradeKey) -> JSONResponse:
        """A limit order within the risk limits: fill-and-kill, or resting for `rest_seconds` (GTC)."""
        return await once(request, body)(who, key, lambda: ops.place_order(who, body, key))

    @v1.get("/orders", response_model=list[ManualOrderStatus], tags=["orders"])
    async def orders(who: As, limit: Limit = 50) -> list[ManualOrderStatus]:
        return await ops.orders(who, limit)

    @v1.get("/orders/{order_id}", response_model=ManualOrderStatus, tags=["orders"])
    async def order(who: As, order_id: Annotated[str, Path(max_length=120)]) -> ManualOrderStatus:
        return await ops.order(who, order_id)

    @v1.post("/orders/{order_id}/cancel", response_model=ManualOrderStatus, tags=["orders"])
    async def cancel_order(who: As, order_id: Annotated[str, Path(max_length=120)]) -> ManualOrderStatus:
        return await ops.cancel_order(who, order_id)

    @v1.get("/alerts", response_model=Page[AuditView], tags=["status"])
    async def alerts(who: As, cursor: Cursor = None, limit: Limit = 50) -> Page[AuditView]:
        return await ops.alerts(who, cursor=cursor, limit=limit)

    @v1.get("/audit", response_model=Page[AuditView], tags=["access"])
    async def audit(who: As, cursor: Cursor = None, limit: Limit = 50) -> Page[AuditView]:
        return await ops.audit(who, cursor=cursor, limit=limit)

    @v1.get("/users", response_model=list[UserView], tags=["access"])
    async def users(who: As) -> list[UserView]:
        return await ops.people.users(who)

    @v1.post("/users", response_model=UserView, status_code=201, tags=["access"])
    async def add_user(who: As, body: UserBody) -> UserView:
        return await ops.people.add_user(who, body.name, body.role)

    @v1.post("/users/{name}/link-code", response_model=LinkCode, tags=["access"])
    async def link_code(who: As, name: str) -> LinkCode:
        code = await ops.people.link_code(who, name)
        return LinkCode(code=code, how=f"send /start {code} to the bot within 10 minutes")

    @v1.get("/keys", response_model=list[KeyView], tags=["access"])
    async def keys(who: As) -> list[KeyView]:
        return await ops.people.keys(who)

    @v1.post("/keys", response_model=IssuedKeyView, status_code=201, tags=["access"])
    async def issue_key(who: As, body: KeyBody) -> IssuedKeyView:
        issued = await ops.people.issue_key(who, body.user, body.name, body.role)
        return IssuedKeyView(key=issued.key, secret=issued.secret)

    @v1.delete("/keys/{key_id}", response_model=KeyView, tags=["access"])
    async def revoke_key(who: As, key_id: str) -> KeyView:
        return await ops.people.revoke_key(who, key_id)

    @v1.get(
        "/stream",
        tags=["status"],
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
    )
    async def stream(who: As) -> StreamingResponse:
        """Book tops, saga and copy state changes, risk status and alerts of the caller's tenant, as they happen."""
        return StreamingResponse(event_stream(ops, who, book_tops), media_type="text/event-stream")

    app = FastAPI(
        title="InertialEvent",
        version="1",
        description="Cross-venue prediction-market trading: risk, copy trading, sagas, pairs.",
    )
    problems.install(app)
    app.include_router(v1)
    mount_dashboard(app)
    if codec_server is not None:
        app.mount("/codec", codec_server)
    app.add_middleware(BodyLimit)
    return app
