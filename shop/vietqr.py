"""VietQR: the NAPAS bank-transfer QR, an EMVCo merchant-presented payload rendered locally.

Layout (EMVCo MPM): 00 format "01", 01 initiation "12" (dynamic, amount set), 38 merchant
account (GUID A000000727, beneficiary bank BIN + account, service QRIBFTTA = transfer to account),
53 currency 704 (VND), 54 amount, 58 country VN, 62/08 transfer description, 63 CRC-16/CCITT-FALSE.
"""
from __future__ import annotations

import re

import segno
from markupsafe import Markup

NAPAS_GUID = "A000000727"
SERVICE_TO_ACCOUNT = "QRIBFTTA"


def _tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"EMV field {tag} is too long")
    return f"{tag}{len(value):02d}{value}"


def crc16_ccitt(data: bytes) -> str:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def payload(bank_bin: str, account: str, amount: int, reference: str) -> str:
    """The text a banking app reads from the QR code."""
    if not re.fullmatch(r"\d{6}", bank_bin or ""):
        raise ValueError("VietQR needs the bank's 6-digit BIN")
    if not re.fullmatch(r"[0-9A-Za-z]{1,19}", account or ""):
        raise ValueError("VietQR needs the account number")
    beneficiary = _tlv("00", bank_bin) + _tlv("01", account)
    merchant = _tlv("00", NAPAS_GUID) + _tlv("01", beneficiary) + _tlv("02", SERVICE_TO_ACCOUNT)
    # Banks show field 62/08 as the transfer description: keep it plain ASCII.
    description = re.sub(r"[^0-9A-Za-z \-]", "", reference)[:50]
    body = (
        _tlv("00", "01") + _tlv("01", "12") + _tlv("38", merchant) + _tlv("53", "704")
        + _tlv("54", str(int(amount))) + _tlv("58", "VN") + _tlv("62", _tlv("08", description))
    )
    body += "6304"
    return body + crc16_ccitt(body.encode("ascii"))


def qr_svg(data: str) -> Markup:
    """An inline SVG QR code (made here; nothing is fetched)."""
    qr = segno.make(data, error="m")
    return Markup(qr.svg_inline(scale=5, border=2, dark="#1b3a2b", light="#ffffff"))
