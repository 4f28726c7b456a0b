"""Commands for the workspace's accounts: ``users add|list|remove|reset`` (see docs/WORKSPACE.md).

``users add EMAIL --role ROLE`` asks for the password twice with a terminal, and otherwise reads it from the first
line of stdin (``echo "$PASSWORD" | social-campaign users add …``). ``users reset EMAIL`` prints a single-use link
to choose a new password (valid one hour). Every change is audited with the actor ``cli:<os user>``; errors are one
line and exit 1.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from social_campaign.cli.common import echo, echo_err, get_settings, open_existing_engine

users_app = typer.Typer(help="Accounts of the managers' workspace: add, list, remove, and password links.",
                        no_args_is_help=True)

EmailArg = Annotated[str, typer.Argument(help="The user's email address.")]


def _password(email: str) -> str:
    from social_campaign.errors import BadRequest, InputError
    from social_campaign.workspace.accounts import check_password

    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass(f"Password for {email}: ")
        if getpass.getpass("The same password again: ") != first:
            raise InputError("the two passwords are not the same")
    else:
        first = sys.stdin.readline().rstrip("\r\n")
        if not first:
            raise InputError("no password on stdin (give it on the first line, or run with a terminal)")
    try:
        return check_password(first, email)
    except BadRequest as exc:  # its sentence, as the CLI's one line
        raise InputError(str(exc)) from None


def add(
    email: EmailArg,
    role: Annotated[str, typer.Option("--role", "-r", help="viewer, editor or owner.")] = "viewer",
) -> None:
    """Create a user; the password comes from the terminal (asked twice) or the first line of stdin."""
    from social_campaign.audit import cli_actor
    from social_campaign.db import engine_for, session_scope
    from social_campaign.errors import InputError, WebError
    from social_campaign.web.deps import now
    from social_campaign.workspace import accounts

    try:
        address, _role = accounts.normalise_email(email), accounts.check_role(role)
    except WebError as exc:
        raise InputError(str(exc)) from None
    password = _password(address)
    engine = engine_for(get_settings())  # the first user may come before the first `serve`
    with session_scope(engine) as s:
        try:
            accounts.add(s, address, role, password, actor=cli_actor(), now=now())
        except WebError as exc:
            raise InputError(str(exc)) from None
    echo(f"added {address} ({role})")


def list_users() -> None:
    """Every user: email, role, two-step login yes/no, last login (UTC). No secrets."""
    from social_campaign.db import session_scope
    from social_campaign.workspace import accounts

    with session_scope(open_existing_engine(get_settings())) as s:
        users = accounts.all_users(s)
        if not users:
            echo_err("no users yet: add one with `social-campaign users add EMAIL --role owner`")
            return
        for user in users:
            last = user.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if user.last_login_at else "never"
            echo(f"{user.email}\t{user.role}\t2fa={'yes' if user.totp_secret_enc else 'no'}\tlast login {last}")


def remove(email: EmailArg) -> None:
    """Delete a user and end their sessions (not the last owner)."""
    from social_campaign.audit import cli_actor
    from social_campaign.db import session_scope
    from social_campaign.errors import InputError, WebError
    from social_campaign.web.deps import now
    from social_campaign.workspace import accounts

    with session_scope(open_existing_engine(get_settings())) as s:
        try:
            accounts.remove(s, email, actor=cli_actor(), now=now())
        except WebError as exc:
            raise InputError(str(exc)) from None
    echo(f"removed {email.strip().lower()}")


def reset(email: EmailArg) -> None:
    """Print a single-use link (valid one hour) for the user to choose a new password."""
    from social_campaign.audit import cli_actor
    from social_campaign.db import session_scope
    from social_campaign.errors import InputError, WebError
    from social_campaign.web.deps import now
    from social_campaign.workspace import accounts
    from social_campaign.workspace import reset as links

    settings = get_settings()
    with session_scope(open_existing_engine(settings)) as s:
        try:
            token = links.create(s, accounts.get(s, email), actor=cli_actor(), now=now())
        except WebError as exc:
            raise InputError(str(exc)) from None
    echo(links.link(settings, token))


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    users_app.command("add")(add)
    users_app.command("list")(list_users)
    users_app.command("remove")(remove)
    users_app.command("reset")(reset)
    app.add_typer(users_app, name="users")
