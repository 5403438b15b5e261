"""``flask users …``: create the first administrator and manage accounts from a shell.

Passwords never appear on the command line (shell history, ``ps``): they come from a hidden
prompt, or from standard input with ``--password-stdin`` (one line, for scripts).
"""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from shop.accounts import services as accounts
from shop.accounts.enums import Role, ShopRole
from shop.accounts.models import User
from shop.errors import DomainError, InvalidFields
from shop.extensions import db

users_cli = AppGroup("users", help="Create and manage user accounts.")

ROLE_CHOICE = click.Choice(Role.values())
SHOP_ROLE_CHOICE = click.Choice(ShopRole.values())


def _fail(exc: DomainError):
    db.session.rollback()
    if isinstance(exc, InvalidFields):
        message = "; ".join(f"{field or 'error'}: {' '.join(msgs)}" for field, msgs in exc.errors.items())
    else:
        message = exc.message
    raise click.ClickException(message)


def _user(email: str) -> User:
    user = accounts.find_by_email(email)
    if user is None:
        raise click.ClickException(f"no user with e-mail {email}")
    return user


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=ROLE_CHOICE, required=True)
@click.option("--shop", "shops", multiple=True, metavar="SLUG", help="A shop the staff member works in (repeat).")
@click.option("--shop-role", type=SHOP_ROLE_CHOICE, default=ShopRole.CLERK.value, show_default=True)
@click.option("--producer", metavar="SLUG", help="The producer a producer user belongs to.")
@click.option("--name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_command(email, role, shops, shop_role, producer, name, password_stdin):
    """Create a user (e-mail counts as verified)."""
    password = _read_password(password_stdin)
    try:
        user = accounts.create_user(email, role, password=password, name=name, shops=shops,
                                    shop_role=shop_role, producer=producer)
        db.session.commit()
    except DomainError as exc:
        _fail(exc)
    click.echo(f"created user {user.id} {user.email} ({user.role})")


@users_cli.command("list")
@click.option("--role", type=ROLE_CHOICE)
def list_command(role):
    """List users: id, e-mail, role, memberships, state."""
    query = select(User).order_by(User.id)
    if role:
        query = query.where(User.role == Role(role))
    for user in db.session.scalars(query):
        scope = ", ".join([f"{m.shop.slug}:{m.shop_role}" for m in user.shop_memberships]
                          + ([f"producer:{user.producer_membership.producer.slug}"] if user.producer_membership else []))
        state = "closed" if user.deleted_at else "disabled" if user.disabled else "enabled"
        two_step = " two-step" if user.two_step_enabled else ""
        click.echo(f"{user.id}\t{user.email}\t{user.role}\t{scope or '-'}\t{state}{two_step}")


@users_cli.command("set-role")
@click.argument("email")
@click.option("--role", type=ROLE_CHOICE, required=True)
@click.option("--shop", "shops", multiple=True, metavar="SLUG")
@click.option("--shop-role", type=SHOP_ROLE_CHOICE, default=ShopRole.CLERK.value, show_default=True)
@click.option("--producer", metavar="SLUG")
def set_role_command(email, role, shops, shop_role, producer):
    """Change a user's role and memberships (their sessions end)."""
    user = _user(email)
    try:
        accounts.set_role(user, role, shops=shops, shop_role=shop_role, producer=producer)
        db.session.commit()
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{user.email} is now {user.role}")


@users_cli.command("disable")
@click.argument("email")
@click.option("--enable", is_flag=True, help="Enable the account again.")
def disable_command(email, enable):
    """Disable an account (sessions end at once; history keeps the name)."""
    user = _user(email)
    accounts.set_disabled(user, not enable)
    db.session.commit()
    click.echo(f"{user.email} {'enabled' if enable else 'disabled'}")
