"""Who may do what: tenants, their users and roles, API keys and one-time chat link codes.

Every front end turns its credential (an API key, a linked Telegram account, the local operator
of the CLI) into a `Caller`, and every operation checks the caller's role. A key's secret is
random (256 bits), so a SHA-256 of it is enough to store: nothing that is kept lets anyone
rebuild a key, and a key is shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from control.app.errors import NotFound, OperationError
from domain.accounts import DEFAULT_TENANT, TENANT_ID, TenantId
from domain.models import utc_now
from storage.database import session_factory
from storage.tables import ApiKeyRow, LinkCodeRow, Tenant, User

KEY_PREFIX = "ie"
LINK_CODE_TTL = timedelta(minutes=10)
LAST_USED_RESOLUTION = timedelta(seconds=60)
DEFAULT_OWNER = "owner"
TIERS = ("shared", "enterprise")


class Role(StrEnum):
    VIEWER = "viewer"
    TRADER = "trader"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        return ROLE_RANK[self]


ROLE_RANK = {Role.VIEWER: 0, Role.TRADER: 1, Role.OWNER: 2}


class Interface(StrEnum):
    CLI = "cli"
    API = "api"
    TELEGRAM = "telegram"
    WEB = "web"


class Unauthorized(OperationError):
    """No valid credential: a missing, unknown or revoked key, an unlinked chat account."""


class Forbidden(OperationError):
    """A valid caller whose role does not allow the operation."""


@dataclass(frozen=True, slots=True)
class Caller:
    tenant_id: TenantId
    user_id: str
    role: Role
    interface: Interface
    key_id: str | None = None
    tier: str = "shared"

    @property
    def actor(self) -> str:
        """How audit records and workflow histories name who did something."""
        return f"{self.interface}:{self.user_id}"

    def require(self, role: Role) -> None:
        if self.role.rank < role.rank:
            raise Forbidden(f"{self.user_id} is {_a(self.role)}; this needs {_a(role)} of tenant {self.tenant_id}")


def _a(role: Role) -> str:
    return f"an {role}" if role is Role.OWNER else f"a {role}"


def local_operator(tenant_id: TenantId = DEFAULT_TENANT) -> Caller:
    """The person at this machine's shell: whoever can run the CLI can already read the database."""
    return Caller(tenant_id=tenant_id, user_id="operator", role=Role.OWNER, interface=Interface.CLI)


class TenantView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    tier: str
    created_at: datetime


class UserView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    tenant_id: str
    display_name: str
    role: Role
    telegram_linked: bool
    created_at: datetime


class KeyView(BaseModel):
    """What may be shown of a key after it was made: never its secret."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    tenant_id: str
    user_id: str
    role: Role
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: KeyView
    secret: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _user_view(row: User) -> UserView:
    return UserView(
        id=row.id,
        tenant_id=row.tenant_id,
        display_name=row.display_name,
        role=Role(row.role),
        telegram_linked=row.telegram_id is not None,
        created_at=row.created_at,
    )


def _user_id(tenant_id: TenantId, name: str) -> str:
    """User names are per tenant; the stored id joins both so two tenants may each have an `alice`."""
    return f"{tenant_id}:{name}"


def user_name(user_id: str) -> str:
    """The name a user has within their tenant (the stored id without its tenant)."""
    return user_id.split(":", 1)[1]


def _chat_caller(user: User) -> Caller:
    return Caller(user.tenant_id, user_name(user.id), Role(user.role), Interface.TELEGRAM)


class Access:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)

    async def create_tenant(self, tenant_id: str, name: str = "", tier: str = "shared") -> TenantView:
        if not re.match(TENANT_ID, tenant_id):
            raise OperationError(f"tenant id {tenant_id!r}: use 1-46 lower-case letters, digits, '-' or '_'")
        if tier not in TIERS:
            raise OperationError(f"tier {tier!r}: one of {', '.join(TIERS)}")
        async with self._sessions() as session:
            if await session.get(Tenant, tenant_id) is not None:
                raise OperationError(f"tenant {tenant_id} exists")
            row = Tenant(id=tenant_id, name=name or tenant_id, tier=tier)
            session.add(row)
            await session.commit()
            return TenantView.model_validate(row)

    async def tenants(self) -> list[TenantView]:
        async with self._sessions() as session:
            rows = (await session.scalars(select(Tenant).order_by(Tenant.id))).all()
            return [TenantView.model_validate(r) for r in rows]

    async def tenant(self, tenant_id: TenantId) -> TenantView:
        async with self._sessions() as session:
            row = await session.get(Tenant, tenant_id)
            if row is None:
                raise NotFound(f"no tenant {tenant_id}")
            return TenantView.model_validate(row)

    async def add_user(self, tenant_id: TenantId, name: str, role: Role, display_name: str = "") -> UserView:
        if not name or len(name) > 40 or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise OperationError(f"user name {name!r}: use 1-40 letters, digits, '-', '_' or '.'")
        await self.tenant(tenant_id)
        async with self._sessions() as session:
            row = User(id=_user_id(tenant_id, name), tenant_id=tenant_id, display_name=display_name or name, role=role)
            session.add(row)
            try:
                await session.commit()
            except IntegrityError:
                raise OperationError(f"user {name} exists in tenant {tenant_id}") from None
            return _user_view(row)

    async def users(self, tenant_id: TenantId) -> list[UserView]:
        async with self._sessions() as session:
            rows = (await session.scalars(select(User).where(User.tenant_id == tenant_id).order_by(User.id))).all()
            return [_user_view(r) for r in rows]

    async def user(self, tenant_id: TenantId, name: str) -> UserView:
        async with self._sessions() as session:
            row = await session.get(User, _user_id(tenant_id, name))
            if row is None:
                raise NotFound(f"no user {name} in tenant {tenant_id}")
            return _user_view(row)

    async def issue_key(self, tenant_id: TenantId, user: str, name: str, role: Role | None = None) -> IssuedKey:
        """A key never has more power than its user: `role` defaults to, and may not exceed, the user's."""
        owner = await self.user(tenant_id, user)
        granted = role or owner.role
        if granted.rank > owner.role.rank:
            raise Forbidden(f"{user} is {_a(owner.role)} and cannot hold {_a(granted)} key")
        key_id = secrets.token_hex(8)
        secret = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        async with self._sessions() as session:
            row = ApiKeyRow(
                id=key_id,
                tenant_id=tenant_id,
                user_id=owner.id,
                role=granted,
                name=name or "key",
                secret_hash=_digest(secret),
            )
            session.add(row)
            await session.commit()
            return IssuedKey(KeyView.model_validate(row), secret)

    async def keys(self, tenant_id: TenantId) -> list[KeyView]:
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(ApiKeyRow).where(ApiKeyRow.tenant_id == tenant_id).order_by(ApiKeyRow.created_at)
                )
            ).all()
            return [KeyView.model_validate(r) for r in rows]

    async def revoke_key(self, tenant_id: TenantId, key_id: str) -> KeyView:
        async with self._sessions() as session:
            row = await session.get(ApiKeyRow, key_id)
            if row is None or row.tenant_id != tenant_id:
                raise NotFound(f"no key {key_id} in tenant {tenant_id}")
            row.revoked_at = row.revoked_at or utc_now()
            await session.commit()
            return KeyView.model_validate(row)

    async def authenticate(self, secret: str, interface: Interface = Interface.API) -> Caller:
        """The caller a key stands for; its last-used time is kept to the minute (one write per minute)."""
        parts = secret.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            raise Unauthorized("not an InertialEvent API key (they look like ie_<id>_<secret>)")
        async with self._sessions() as session:
            row = await session.get(ApiKeyRow, parts[1])
            if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
                raise Unauthorized("unknown API key")
            if row.revoked_at is not None:
                raise Unauthorized(f"API key {row.id} was revoked")
            user = await session.get(User, row.user_id)
            if user is None:
                raise Unauthorized("the API key's user no longer exists")
            now = utc_now()
            if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
                row.last_used_at = now
                await session.commit()
            tenant = await session.get(Tenant, row.tenant_id)
            role = min(Role(row.role), Role(user.role), key=lambda r: r.rank)
            tier = tenant.tier if tenant is not None else "shared"
            return Caller(row.tenant_id, user_name(user.id), role, interface, row.id, tier)

    async def issue_link_code(self, tenant_id: TenantId, user: str) -> str:
        """A one-time code for `/start <code>` in the bot; valid for ten minutes."""
        owner = await self.user(tenant_id, user)
        code = secrets.token_hex(5)
        async with self._sessions() as session:
            session.add(LinkCodeRow(code_hash=_digest(code), user_id=owner.id, expires_at=utc_now() + LINK_CODE_TTL))
            await session.commit()
        return code

    async def redeem_link_code(self, code: str, telegram_id: str) -> Caller:
        """Link a Telegram account to the code's user; a used, expired or unknown code links nothing."""
        async with self._sessions() as session:
            row = await session.get(LinkCodeRow, _digest(code.strip().lower()))
            if row is None or row.used_at is not None or row.expires_at <= utc_now():
                raise Unauthorized("that link code is unknown, used or expired; ask for a new one")
            user = await session.get(User, row.user_id)
            if user is None:
                raise Unauthorized("that link code's user no longer exists")
            for linked in (await session.scalars(select(User).where(User.telegram_id == telegram_id))).all():
                linked.telegram_id = None
            await session.flush()
            row.used_at = utc_now()
            user.telegram_id = telegram_id
            await session.commit()
            return _chat_caller(user)

    async def telegram_caller(self, telegram_id: str) -> Caller:
        async with self._sessions() as session:
            user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
            if user is None:
                raise Unauthorized(
                    "this Telegram account is not linked; send /start <code> with a code from `inertial users link`"
                )
            return _chat_caller(user)

    async def telegram_ids(self, tenant_id: TenantId) -> list[str]:
        """The chats of the tenant's linked users: where its alerts are pushed."""
        async with self._sessions() as session:
            query = select(User.telegram_id).where(User.tenant_id == tenant_id, User.telegram_id.is_not(None))
            return [t for t in (await session.scalars(query)).all() if t is not None]

    async def ensure_default(self) -> bool:
        """The embedded default: one tenant and its owner; True when this call made them."""
        async with self._sessions() as session:
            made = False
            if await session.get(Tenant, DEFAULT_TENANT) is None:
                session.add(Tenant(id=DEFAULT_TENANT, name="default", tier="shared"))
                made = True
                await session.flush()
            if await session.get(User, _user_id(DEFAULT_TENANT, DEFAULT_OWNER)) is None:
                session.add(
                    User(
                        id=_user_id(DEFAULT_TENANT, DEFAULT_OWNER),
                        tenant_id=DEFAULT_TENANT,
                        display_name=DEFAULT_OWNER,
                        role=Role.OWNER,
                    )
                )
                made = True
            await session.commit()
            return made
