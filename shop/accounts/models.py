"""Users, their memberships (staff → shops, producer users → one producer), their second factor
and a customer's saved delivery addresses.

Users are never deleted: an account that is closed keeps its row with its personal data removed
(``services.delete_account``), and a removed member of staff is disabled, so the ledger, order
events and recalls that point at them keep a name (``User.display_name``).
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Optional

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.enums import Role, ShopRole
from shop.enums import EnumText, check_in
from shop.extensions import db
from shop.model_mixins import CreatedMixin
from shop.timeutil import UTCDateTime

if TYPE_CHECKING:
    from shop.producers.models import Producer
    from shop.shops.models import Shop


def normalize_email(email: str | None) -> str:
    """The form an address is stored and looked up in: trimmed, lower case.

    E-mail is the login and is unique case-insensitively: ``Lan@Example.vn`` and
    ``lan@example.vn`` are one account (the local part is case-sensitive in theory, never in
    practice).
    """
    return (email or "").strip().lower()


class User(UserMixin, CreatedMixin, db.Model):
    """A person who signs in. ``email`` is stored lower-case (``normalize_email``) and unique.

    ``session_version`` is part of the id Flask-Login keeps in the session and the "remember me"
    cookie (``get_id``): raising it ends every session and remember cookie of the user (sign-out,
    password change, disabling). ``password_hash`` is argon2id (``shop.accounts.passwords``).
    """

    __tablename__ = "user"
    __table_args__ = (
        check_in("role", Role, name="role_known"),
        CheckConstraint("session_version >= 1", name="session_version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(20), default="", server_default="")
    password_hash: Mapped[Optional[str]] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(EnumText(Role), index=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    email_verified_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Two-step sign-in (TOTP, RFC 6238): the base32 secret once confirmed, and the last time step
    # accepted, so a code cannot be used twice.
    totp_secret: Mapped[Optional[str]] = mapped_column(String(64))
    totp_last_step: Mapped[Optional[int]] = mapped_column(Integer)
    last_sign_in_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Set when the customer closed the account: name, e-mail, phone, password and addresses are gone.
    deleted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Membership.id")
    recovery_codes: Mapped[list["RecoveryCode"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="RecoveryCode.id")
    addresses: Mapped[list["Address"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Address.id")

    def get_id(self) -> str:
        """``"<id>.<session_version>"``: a session or remember cookie of an older version is void."""
        return f"{self.id}.{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return not self.disabled and self.deleted_at is None

    @property
    def two_step_enabled(self) -> bool:
        return bool(self.totp_secret)

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def display_name(self) -> str:
        """How history names this user: the name, else the e-mail (closed accounts: a number)."""
        if self.deleted_at is not None:
            return f"#{self.id}"
        return self.name or self.email

    @property
    def shop_memberships(self) -> list["Membership"]:
        return [m for m in self.memberships if m.shop_id is not None]

    @property
    def producer_membership(self) -> Optional["Membership"]:
        return next((m for m in self.memberships if m.producer_id is not None), None)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class Membership(CreatedMixin, db.Model):
    """A user's scope: a staff member in one shop (manager or clerk), or a producer user's producer.

    Exactly one of ``shop_id`` / ``producer_id`` is set; ``shop_role`` goes with ``shop_id``. A
    producer user has at most one producer membership (``services.set_memberships`` keeps it so).
    """

    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("user_id", "shop_id", name="uq_membership_user_shop"),
        UniqueConstraint("user_id", "producer_id", name="uq_membership_user_producer"),
        CheckConstraint("(shop_id IS NULL) <> (producer_id IS NULL)", name="one_scope"),
        CheckConstraint("(shop_id IS NULL) = (shop_role IS NULL)", name="shop_role_with_shop"),
        check_in("shop_role", ShopRole, name="shop_role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    shop_id: Mapped[Optional[int]] = mapped_column(ForeignKey("shop.id"), index=True)
    shop_role: Mapped[Optional[ShopRole]] = mapped_column(EnumText(ShopRole))
    producer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("producer.id"), index=True)

    user: Mapped[User] = relationship(back_populates="memberships")
    shop: Mapped[Optional["Shop"]] = relationship()
    producer: Mapped[Optional["Producer"]] = relationship()


class RecoveryCode(db.Model):
    """One single-use recovery code for two-step sign-in, stored as a SHA-256 digest.

    The codes are random (80 bits), so a fast digest is enough: nothing to guess from it.
    """

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="recovery_codes")


class Address(CreatedMixin, db.Model):
    """A delivery address a customer keeps for checkout (the 2025 form: no district)."""

    __tablename__ = "address"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20))
    street: Mapped[str] = mapped_column(String(200))
    ward: Mapped[str] = mapped_column(String(120))
    province: Mapped[str] = mapped_column(String(120))

    user: Mapped[User] = relationship(back_populates="addresses")
