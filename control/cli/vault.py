"""`inertial vault init|add|list|remove|rotate`: venue credentials, sealed in the database.

A secret is read from a file or standard input (a hidden prompt on a terminal), never from the
command line, where it would sit in the shell history and the process list. Nothing here prints
a credential, and there is no export.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from control.app.credentials import Credentials
from control.cli.console import cli_caller, fail, settings, with_database
from security.credentials import purpose_of
from security.envelope import VaultError
from security.masters import KeyFileSource, MasterSource, PassphraseSource
from security.pkcs11 import Pkcs11Source
from security.vault import SecretView, Vault, initialise

app = typer.Typer(no_args_is_help=True, help="Credential vault: add, list, remove, rotate (never shows a secret)")
rotate_app = typer.Typer(no_args_is_help=True, help="Rotate the master key or a tenant's data key")
app.add_typer(rotate_app, name="rotate")

TENANT = typer.Option("default", "--tenant", help="The tenant whose credentials these are")
ACCOUNT = typer.Option("default", "--account", help="Which of the tenant's venue accounts")
T = TypeVar("T")


def _source() -> MasterSource:
    """The configured master; on a terminal a passphrase that is not configured is asked for."""
    loaded = settings()
    try:
        return loaded.vault.source(loaded.data_dir, ask=sys.stdin.isatty())
    except VaultError as exc:
        fail(str(exc))


def _with_credentials(tenant: str, action: Callable[[Credentials], Awaitable[T]]) -> T:
    source = _source()

    async def go(engine: AsyncEngine) -> T:
        return await action(Credentials(engine, await Vault.unlock(engine, source)))

    return with_database(go)


def _show(view: SecretView) -> str:
    label = f"  {view.label}" if view.label else ""
    return (
        f"{view.account:12} {view.purpose:24} key v{view.key_version}  updated {view.updated_at:%Y-%m-%d %H:%M}{label}"
    )


def _new_passphrase() -> str:
    given = settings().vault.new_passphrase
    if given is not None:
        return given.get_secret_value()
    if not sys.stdin.isatty():
        fail("no terminal to ask for the new passphrase: set INERTIAL_VAULT__NEW_PASSPHRASE")
    first, again = getpass.getpass("new vault passphrase: "), getpass.getpass("again: ")
    if first != again:
        fail("the passphrases differ; nothing was changed")
    return first


def _read_secret(from_file: Path | None) -> bytes:
    if from_file is not None:
        try:
            return from_file.read_bytes()
        except OSError as exc:
            fail(f"cannot read {from_file}: {exc.strerror}")
    if sys.stdin.isatty():
        return getpass.getpass("secret (hidden): ").encode()
    return sys.stdin.buffer.read()


@app.command()
def init() -> None:
    """Create the vault's master key (setting vault.master: a key file by default, or a passphrase)."""
    loaded = settings()
    source = _source()
    typed = loaded.vault.passphrase is None
    if isinstance(source, PassphraseSource) and typed and getpass.getpass("again: ") != source.passphrase:
        fail("the passphrases differ; nothing was created")

    async def go(engine: AsyncEngine) -> str:
        master = await initialise(engine, source)
        return f"vault initialised: master {master.id} ({master.kind})"

    typer.echo(with_database(go))


@app.command()
def add(
    purpose: str = typer.Argument(..., help="polymarket.private_key, polymarket.clob_api, kalshi.api, kalshi.leader"),
    tenant: str = TENANT,
    account: str = ACCOUNT,
    label: str = typer.Option("", "--label", help="A note shown by `vault list`"),
    from_file: Path | None = typer.Option(None, "--from-file", help="Read the secret from this file"),
) -> None:
    """Seal a credential (read from --from-file or standard input); it is checked before it is stored."""
    try:
        what = purpose_of(purpose)
    except VaultError as exc:
        fail(str(exc))
    secret = _read_secret(from_file)
    view = _with_credentials(tenant, lambda c: c.add(cli_caller(tenant), account, what, secret, label))
    typer.echo(f"sealed {_show(view)}")


@app.command("list")
def list_credentials(tenant: str = TENANT) -> None:
    """What is stored for the tenant: accounts, purposes, key versions; never a value."""
    views = _with_credentials(tenant, lambda c: c.listing(cli_caller(tenant)))
    typer.echo("\n".join(_show(v) for v in views) if views else f"no credentials for tenant {tenant}")


@app.command()
def remove(purpose: str, tenant: str = TENANT, account: str = ACCOUNT) -> None:
    try:
        what = purpose_of(purpose)
    except VaultError as exc:
        fail(str(exc))
    view = _with_credentials(tenant, lambda c: c.remove(cli_caller(tenant), account, what))
    typer.echo(f"removed {view.account} {view.purpose}")


@rotate_app.command("data-key")
def rotate_data_key(tenant: str = TENANT) -> None:
    """A new data key for the tenant; its credentials are re-sealed and the old key erased."""
    version = _with_credentials(tenant, lambda c: c.rotate_data_key(cli_caller(tenant)))
    typer.echo(f"tenant {tenant}: data key v{version}; the old one is erased")


@rotate_app.command("codec")
def rotate_codec(tenant: str = TENANT) -> None:
    """A new Temporal payload key: processes seal with it from their next start; old histories stay readable."""
    view = _with_credentials(tenant, lambda c: c.new_codec_key(cli_caller(tenant)))
    typer.echo(f"new codec key {view.account}; restart the processes to seal with it")


@rotate_app.command("master")
def rotate_master(
    to: str = typer.Option(..., "--to", help="keyfile, passphrase or pkcs11 (the vault.pkcs11_* settings' token)"),
    key_file: Path | None = typer.Option(None, "--key-file", help="The new key file (created if missing)"),
) -> None:
    """Re-wrap every data key under a new master; then point the vault.master setting at it."""
    if to == "keyfile":
        if key_file is None:
            fail("--to keyfile needs --key-file PATH (a new file, created with mode 0600)")
        new: MasterSource = KeyFileSource(key_file.expanduser())
    elif to == "passphrase":
        new = PassphraseSource(_new_passphrase())
    elif to == "pkcs11":
        cfg = settings().vault
        if cfg.pkcs11_pin is None:
            fail("--to pkcs11 needs INERTIAL_VAULT__PKCS11_PIN (and vault.pkcs11_module, vault.pkcs11_token)")
        new = Pkcs11Source(cfg.pkcs11_module, cfg.pkcs11_token, cfg.pkcs11_pin.get_secret_value())
    else:
        fail(f"unknown master {to!r}: keyfile, passphrase or pkcs11")
    view = _with_credentials("default", lambda c: c.rotate_master(cli_caller("default"), new))
    typer.echo(f"vault master is now {view.id} ({view.kind}); set vault.master = {view.kind} before restarting")
