"""``dailypapers users …``: the accounts of an instance from the command line, mirroring the library.

``list``, ``create [--admin]``, ``set-password``, ``disable`` (``--enable`` to undo), ``promote`` (``--demote``)
and ``invite``. Each command is a few lines over :class:`dailypapers.accounts.service.Accounts`; a password is
asked for twice without echo (or read from ``--password-stdin``, for scripts), never taken as an argument that
would stay in the shell's history and the process list.
"""

from __future__ import annotations

import sys

import click

from dailypapers.accounts.models import User
from dailypapers.config import ConfigError, load_config
from dailypapers.errors import StoreError, UserError
from dailypapers.library import Library


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


_password_stdin = click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")


def _run(action: object) -> None:
    """Run ``action(lib)`` on the configured library; a user error is a one-line message and exit status 1."""
    try:
        lib = Library(load_config())
    except (ConfigError, StoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        lib.init()
        action(lib)  # type: ignore[operator]
    except (UserError, StoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        lib.close()


def _describe(user: User) -> str:
    state = "disabled" if user.disabled else "active"
    return f"{user.username}\t{user.email}\t{user.role}\t{state}\t{user.created_at:%Y-%m-%d}"


@click.group()
def users() -> None:
    """Manage the accounts of this instance."""


@users.command("list")
def list_users() -> None:
    """Every user: name, email, role, state, day created."""

    def action(lib: Library) -> None:
        for user in lib.accounts.list_users():
            click.echo(_describe(user))

    _run(action)


@users.command("create")
@click.argument("username")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Make the user an admin.")
@_password_stdin
def create(username: str, email: str, admin: bool, password_stdin: bool) -> None:
    """Create a user (whatever the sign-up setting)."""
    password = _password(password_stdin)

    def action(lib: Library) -> None:
        click.echo(f"created {_describe(lib.accounts.create_user(username, email, password, admin=admin))}")

    _run(action)


@users.command("set-password")
@click.argument("username")
@_password_stdin
def set_password(username: str, password_stdin: bool) -> None:
    """Set a user's password (their sessions are logged out and their API tokens revoked)."""
    password = _password(password_stdin)

    def action(lib: Library) -> None:
        revoked = lib.accounts.set_password(lib.accounts.get(username), password)
        tokens = "1 API token was" if revoked == 1 else f"{revoked} API tokens were"
        click.echo(f"password of {username} set; their sessions were logged out and {tokens} revoked")

    _run(action)


@users.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="Enable the user again instead.")
def disable(username: str, enable: bool) -> None:
    """Disable a user: they cannot log in, their sessions end and their tokens stop working."""
    _run(lambda lib: click.echo(f"{_describe(lib.accounts.set_disabled(lib.accounts.get(username), not enable))}"))


@users.command("promote")
@click.argument("username")
@click.option("--demote", is_flag=True, help="Make the admin a member again instead.")
def promote(username: str, demote: bool) -> None:
    """Make a user an admin."""
    role = "member" if demote else "admin"
    _run(lambda lib: click.echo(_describe(lib.accounts.set_role(lib.accounts.get(username), role))))


@users.command("invite")
def invite() -> None:
    """Print a one-use invite link for sign-up (valid for DAILYPAPERS_INVITE_DAYS days): absolute under
    DAILYPAPERS_PUBLIC_URL, else the path on this site."""

    def link(lib: Library) -> None:
        path = f"/signup?invite={lib.accounts.create_invite(None)}"
        click.echo(lib.config.public_url.rstrip("/") + path if lib.config.public_url else path)

    _run(link)
