"""``rundbrief users …``: accounts, their roles, passwords, sessions, TOTP and API tokens.

Every command acts as ``--as EMAIL`` (``pipeline.cli.context.actor``): managing other
accounts needs the role admin; one's own password, sessions, TOTP and tokens need no
more than the account. Passwords are read from a prompt or ``--password-stdin``, never
from an argument (which other users of the machine could see in the process list).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

import typer

from pipeline.cli.context import actor, app_context
from pipeline.cli.output import console, emit_json
from pipeline.errors import AccountError

if TYPE_CHECKING:
    from pipeline.accounts import Account, Accounts

users_app = typer.Typer(
    help="Accounts of the web app, the CLI and the API: add, roles, disable, passwords, "
    "sessions, TOTP, API tokens.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")
PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="Read the password from the first line of stdin."
)


def _service(ctx: typer.Context) -> Accounts:
    from pipeline.accounts import Accounts, adopt_legacy

    state = app_context(ctx)
    adopt_legacy(state.store, state.settings, state.clock)
    return Accounts(state.store, state.settings, state.clock)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise AccountError("no password given")
    return password


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


def _account_json(account: Account) -> dict[str, object]:
    return {
        "id": account.id,
        "email": account.email,
        "name": account.name,
        "role": account.role.value,
        "active": account.active,
        "totp": account.totp_enrolled,
        "created_at": account.created_at.isoformat(),
        "last_login_at": account.last_login_at.isoformat() if account.last_login_at else None,
    }


@users_app.command("add")
def add(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The account's e-mail address (its log-in)."),
    role: str = typer.Option(..., "--role", "-r", help="editor, approver or admin."),
    name: str = typer.Option("", "--name", "-n", help="Display name."),
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Add an account (needs the role admin; the first one needs no --as).

    Example: rundbrief --as admin@example.org users add anna@example.org --role editor --name "Anna Roth"
    """
    service = _service(ctx)
    by = actor(ctx)
    password = _password(password_stdin)
    account = service.add(by, email, role, password, name=name)
    typer.echo(f"added {account.email} ({account.role})")


@users_app.command("list")
def list_cmd(ctx: typer.Context, as_json: bool = JSON) -> None:
    """List the accounts with role, state, second factor and last log-in.

    Example: rundbrief --as admin@example.org users list
    """
    service = _service(ctx)
    found = service.list(actor(ctx))
    if as_json:
        emit_json([_account_json(a) for a in found])
        return
    from rich.table import Table

    table = Table("e-mail", "name", "role", "state", "TOTP", "last log-in")
    for a in found:
        table.add_row(
            a.email,
            a.name,
            a.role.value,
            "active" if a.active else "disabled",
            "yes" if a.totp_enrolled else "no",
            _when(a.last_login_at),
        )
    console.print(table)


@users_app.command("set-role")
def set_role(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The account."),
    role: str = typer.Argument(..., help="editor, approver or admin."),
) -> None:
    """Give an account another role (the last active admin keeps theirs).

    Example: rundbrief --as admin@example.org users set-role anna@example.org approver
    """
    service = _service(ctx)
    account = service.set_role(actor(ctx), email, role)
    typer.echo(f"{account.email} is now {account.role}")


@users_app.command("disable")
def disable(ctx: typer.Context, email: str = typer.Argument(..., help="The account.")) -> None:
    """Disable an account: it cannot log in, its sessions end, its API tokens stop.

    Example: rundbrief --as admin@example.org users disable anna@example.org
    """
    service = _service(ctx)
    account = service.disable(actor(ctx), email)
    typer.echo(f"{account.email} is disabled; its sessions have ended")


@users_app.command("enable")
def enable(ctx: typer.Context, email: str = typer.Argument(..., help="The account.")) -> None:
    """Enable a disabled account again.

    Example: rundbrief --as admin@example.org users enable anna@example.org
    """
    service = _service(ctx)
    account = service.enable(actor(ctx), email)
    typer.echo(f"{account.email} is active")


@users_app.command("passwd")
def passwd(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The account."),
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Set a new password (one's own, or anyone's as admin); every session of the account ends.

    Example: rundbrief --as anna@example.org users passwd anna@example.org
    """
    service = _service(ctx)
    by = actor(ctx)
    account = service.passwd(by, email, _password(password_stdin))
    typer.echo(f"new password for {account.email}; its sessions have ended")


@users_app.command("sessions")
def sessions_cmd(
    ctx: typer.Context, email: str = typer.Argument(..., help="The account."), as_json: bool = JSON
) -> None:
    """List an account's web sessions, newest first: from where, since when, whether live.

    Example: rundbrief --as admin@example.org users sessions anna@example.org
    """
    service = _service(ctx)
    found = service.sessions(actor(ctx), email)
    now = app_context(ctx).clock.now()
    if as_json:
        emit_json(
            [
                {
                    "ref": s.ref[:12],
                    "created_at": s.created_at.isoformat(),
                    "last_seen_at": s.last_seen_at.isoformat(),
                    "live": s.live(now),
                    "ended_at": s.ended_at.isoformat() if s.ended_at else None,
                    "end_reason": s.end_reason,
                    "client_address": s.client_address,
                    "user_agent": s.user_agent,
                }
                for s in found
            ]
        )
        return
    from rich.table import Table

    table = Table("since", "last seen", "state", "address", "browser")
    for s in found:
        state = "live" if s.live(now) else (s.end_reason or "expired")
        table.add_row(
            _when(s.created_at),
            _when(s.last_seen_at),
            state,
            s.client_address or "",
            (s.user_agent or "")[:40],
        )
    console.print(table)


@users_app.command("totp")
def totp_cmd(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The account."),
    off: bool = typer.Option(
        False, "--off", help="Remove the second factor (an admin, e.g. for a lost phone)."
    ),
) -> None:
    """Enroll a second factor: prints the otpauth:// URI for an authenticator app.

    From then on the web log-in asks for the app's 6-digit code; each code works once.
    Enrolling again replaces the secret (the old app entry stops working). --off removes
    it; only an admin may, so a stolen session cannot strip an account of it.

    Example: rundbrief --as anna@example.org users totp anna@example.org
    """
    service = _service(ctx)
    if off:
        account = service.drop_totp(actor(ctx), email)
        typer.echo(f"Second factor removed for {account.email}.")
        return
    uri = service.enroll_totp(actor(ctx), email)
    typer.echo(uri)


def _expiry(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise AccountError(f"--expires {value!r}: expected a date like 2026-12-31") from None
    # valid through that whole day (UTC)
    return datetime.combine(day, time.max, tzinfo=UTC)


@users_app.command("token")
def token_cmd(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The account the token acts as."),
    name: str = typer.Option("", "--name", "-n", help="What the token is for (e.g. website)."),
    expires: str = typer.Option(None, "--expires", help="Last day it is valid (YYYY-MM-DD)."),
) -> None:
    """Make an API token: printed once, stored only as a hash; it acts with the account's role.

    Example: rundbrief --as anna@example.org users token anna@example.org --name website --expires 2026-12-31
    """
    service = _service(ctx)
    secret, record = service.create_token(actor(ctx), email, name=name, expires_at=_expiry(expires))
    print(secret)
    typer.echo(
        f"token {record.id} for {record.email}: copy it now, it is not shown again", err=True
    )


@users_app.command("tokens")
def tokens_cmd(
    ctx: typer.Context, email: str = typer.Argument(..., help="The account."), as_json: bool = JSON
) -> None:
    """List an account's API tokens (never the tokens themselves).

    Example: rundbrief --as admin@example.org users tokens anna@example.org
    """
    service = _service(ctx)
    found = service.tokens(actor(ctx), email)
    now = app_context(ctx).clock.now()
    if as_json:
        emit_json(
            [
                {
                    "id": t.id,
                    "name": t.name,
                    "state": t.state(now),
                    "created_at": t.created_at.isoformat(),
                    "expires_at": t.expires_at.isoformat() if t.expires_at else None,
                    "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                }
                for t in found
            ]
        )
        return
    from rich.table import Table

    table = Table("id", "name", "state", "created", "expires", "last used")
    for t in found:
        table.add_row(
            str(t.id),
            t.name,
            t.state(now),
            _when(t.created_at),
            _when(t.expires_at),
            _when(t.last_used_at),
        )
    console.print(table)


@users_app.command("revoke-token")
def revoke_token(
    ctx: typer.Context, token_id: int = typer.Argument(..., help="The token's id (users tokens).")
) -> None:
    """Revoke an API token at once (one's own, or anyone's as admin).

    Example: rundbrief --as admin@example.org users revoke-token 3
    """
    service = _service(ctx)
    record = service.revoke_token(actor(ctx), token_id)
    typer.echo(f"token {record.id} of {record.email} is revoked")


def register(app: typer.Typer) -> None:
    """Add the ``users`` command group."""
    app.add_typer(users_app, name="users")
