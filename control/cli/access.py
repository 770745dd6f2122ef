"""`inertial tenants|users|keys …`: who may use this system, as the operator at this machine.

The shell's user is the local operator (an owner of whichever tenant `--tenant` names: whoever runs
the CLI can already read the database). Everything goes through the application layer and is
audited with interface `cli`.
"""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from control.app.access import Access, Role, local_operator, user_name
from control.app.audit import Audit
from control.app.operations import People
from control.cli.console import console, fail, with_database

TENANT = typer.Option("default", "--tenant", help="The tenant to act in")

tenants_app = typer.Typer(no_args_is_help=True, help="Tenants: isolated owners of accounts, risk and copies")
users_app = typer.Typer(no_args_is_help=True, help="Users of a tenant and their roles (owner, trader, viewer)")
keys_app = typer.Typer(no_args_is_help=True, help="API keys: made once, stored hashed, revocable")


def _role(name: str) -> Role:
    try:
        return Role(name.lower())
    except ValueError:
        fail(f"unknown role {name!r}: owner, trader or viewer")


@tenants_app.command("list")
def tenants_list() -> None:
    for t in with_database(lambda e: Access(e).tenants()):
        typer.echo(f"{t.id}  {t.tier:10} {t.name}")


@tenants_app.command("create")
def tenants_create(
    tenant_id: str,
    name: str = typer.Option("", "--name"),
    tier: str = typer.Option("shared", "--tier", help="shared or enterprise"),
    owner: str = typer.Option("owner", "--owner", help="Name of the tenant's first user (an owner)"),
) -> None:
    """A new tenant with its first owner."""

    async def go(engine: AsyncEngine) -> None:
        access = Access(engine)
        await access.create_tenant(tenant_id, name, tier)
        await access.add_user(tenant_id, owner, Role.OWNER)
        await Audit(engine).record(local_operator(tenant_id), "create_tenant", tenant_id, tier=tier, owner=owner)

    with_database(go)
    typer.echo(
        f"tenant {tenant_id} ({tier}) with owner {owner}; a key: inertial keys create {owner} --tenant {tenant_id}"
    )


@users_app.command("list")
def users_list(tenant: str = TENANT) -> None:
    for u in with_database(lambda e: People(e).users(local_operator(tenant))):
        linked = "telegram linked" if u.telegram_linked else ""
        typer.echo(f"{user_name(u.id):20} {u.role:7} {linked}")


@users_app.command("add")
def users_add(name: str, role: str = typer.Option("viewer", "--role"), tenant: str = TENANT) -> None:
    chosen = _role(role)
    user = with_database(lambda e: People(e).add_user(local_operator(tenant), name, chosen))
    typer.echo(f"user {name} ({user.role}) in tenant {tenant}")


@users_app.command("link")
def users_link(name: str, tenant: str = TENANT) -> None:
    """A one-time code that links NAME's Telegram account: send `/start CODE` to the bot."""
    code = with_database(lambda e: People(e).link_code(local_operator(tenant), name))
    typer.echo(f"send  /start {code}  to the bot within 10 minutes")


@keys_app.command("create")
def keys_create(
    user: str,
    name: str = typer.Option("key", "--name"),
    role: str | None = typer.Option(None, "--role", help="At most the user's role (default: the user's)"),
    tenant: str = TENANT,
) -> None:
    """Print a new key once; only its hash is kept."""
    chosen = _role(role) if role else None
    issued = with_database(lambda e: People(e).issue_key(local_operator(tenant), user, name, chosen))
    console.print(f"key {issued.key.id} ({issued.key.role}) for {user}; shown only now:", highlight=False)
    typer.echo(issued.secret)


@keys_app.command("list")
def keys_list(tenant: str = TENANT) -> None:
    for k in with_database(lambda e: People(e).keys(local_operator(tenant))):
        used = f"last used {k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "never used"
        state = f"REVOKED {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else used
        typer.echo(f"{k.id}  {user_name(k.user_id):16} {k.role:7} {k.name:12} {state}")


@keys_app.command("revoke")
def keys_revoke(key_id: str, tenant: str = TENANT) -> None:
    with_database(lambda e: People(e).revoke_key(local_operator(tenant), key_id))
    typer.echo(f"key {key_id} revoked")
