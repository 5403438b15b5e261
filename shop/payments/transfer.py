"""Bank-transfer instructions: the one place that says where and how a customer transfers the money.

The order page, the JSON API (``payment`` of an order) and the confirmation email all read
``transfer_instructions(order)``, so the account, the amount and the transfer description cannot
drift apart. The shop's account comes from the settings ``BANK_BIN`` (the bank's 6-digit NAPAS
BIN), ``BANK_NAME``, ``BANK_ACCOUNT`` and ``BANK_ACCOUNT_NAME`` (config.py).

A leaf module: it reads an order and the settings and imports nothing from the orders area but
its vocabulary, so the orders area's pages and emails may use it without reaching into payments'
services.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from markupsafe import Markup

from shop import vietqr
from shop.orders.enums import OrderStatus, PaymentMethod
from shop.orders.models import Order


@dataclass(frozen=True)
class TransferInstructions:
    """What the customer needs to make the transfer.

    ``amount`` is whole đồng (the order's total); ``reference`` the transfer description the shop
    matches the money with (the order number); ``expires_at`` the hold deadline (UTC-aware, None
    when the order has none); ``awaiting`` whether the money is still asked for now (the order is
    shown as awaiting payment: not paid, cancelled or expired); ``qr_payload`` the VietQR text to
    scan, only while awaiting and when the settings make a valid code (else None, and the error is
    logged once per call).
    """

    amount: int
    bank_bin: str
    bank_name: str
    account: str
    account_name: str
    reference: str
    expires_at: datetime | None
    awaiting: bool
    qr_payload: str | None

    def qr_svg(self) -> Markup | None:
        """The VietQR code as inline SVG (made locally), or None when there is none to scan."""
        return vietqr.qr_svg(self.qr_payload) if self.qr_payload else None


def transfer_instructions(order: Order) -> TransferInstructions | None:
    """The transfer instructions of an order paid by bank transfer; None for any other method.

    Settings that do not make a VietQR code (a BIN that is not 6 digits, no account) leave
    ``qr_payload`` None and log the error: the customer still reads the account to type in.
    """
    if order.payment_method != PaymentMethod.BANK_TRANSFER:
        return None
    config = current_app.config
    awaiting = order.shown_status() == OrderStatus.PENDING_PAYMENT
    payload = None
    if awaiting:  # no code to scan once the time to pay is over
        try:
            payload = vietqr.payload(config["BANK_BIN"], config["BANK_ACCOUNT"], order.total, order.number or "")
        except ValueError:
            current_app.logger.exception("VietQR settings are wrong (BANK_BIN / BANK_ACCOUNT)")
    return TransferInstructions(
        amount=order.total,
        bank_bin=config["BANK_BIN"],
        bank_name=config["BANK_NAME"],
        account=config["BANK_ACCOUNT"],
        account_name=config["BANK_ACCOUNT_NAME"],
        reference=order.number or "",
        expires_at=order.hold_expires_at,
        awaiting=awaiting,
        qr_payload=payload,
    )
