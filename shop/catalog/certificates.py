"""OCOP certificates as the provincial office keeps them: record, renew or upgrade, revoke, and the
list of those about to expire. Administrators only (the screens in ``shop/admin/`` ask the policy);
these functions are also what the CLI calls.

Rules and their source (DOMAIN.md, "The programme"):
- Stars 3, 4 or 5 with a score out of 100 in the star's band — 3★ 50–69, 4★ 70–89, 5★ 90–100
  (Decision 148/QĐ-TTg of 24/2/2023, the scoring set; 1–2★ get no certificate). The legal basis is
  stored on each certificate as typed, never assumed.
- A certificate is valid for 36 months from its issue date unless the decision says otherwise;
  re-recognition or an upgrade starts a new period and the old certificate becomes superseded.
- Revocation is by decision (number, date, reason). The mark may be shown only while the
  certificate is valid (1162/QĐ-VPĐP-OCOP, 2020), so a revoked product loses its badge and leaves
  sale at once: the listing read model (``shop.catalog.listing``) recomputes in the same flush, and
  the open orders holding the product are flagged for staff (``shop.orders.services.flag``).

Status changes follow ``TRANSITIONS``; anything else raises ``InvalidTransition``. Input problems
raise ``InvalidFields`` (every field's error at once, field names as in the admin forms). Callers
commit; nothing here commits except ``send_expiry_digest`` (which only queues mail).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop.admin.enums import AuditAction, AuditObject
from shop.catalog.enums import CertificateKind, CertificateLevel, CertificateStatus
from shop.catalog.models import Certificate, Product
from shop.errors import FieldErrors, InvalidFields, InvalidTransition, NotFound
from shop.extensions import db
from shop.timeutil import today_vn

VALIDITY_MONTHS = 36
EXPIRY_WARNING_DAYS = 60
# Score bands of 148/QĐ-TTg: stars -> (lowest, highest) score out of 100.
SCORE_BANDS = {3: (50, 69), 4: (70, 89), 5: (90, 100)}
TRANSITIONS = {
    CertificateStatus.ACTIVE: {CertificateStatus.REVOKED, CertificateStatus.SUPERSEDED},
    CertificateStatus.REVOKED: set(),
    CertificateStatus.SUPERSEDED: set(),
}
FIELD_LIMITS = {"decision_number": 80, "issuing_body": 200, "legal_basis": 200, "product_name_certified": 200,
                "producer_name_certified": 200, "revocation_decision": 80, "revocation_reason": 2000}


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months; the 31st of a shorter month becomes its last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_expiry(issued_on: date) -> date:
    """The last day of validity: 36 months after the issue date, the day before the anniversary."""
    return add_months(issued_on, VALIDITY_MONTHS) - timedelta(days=1)


@dataclass
class CertificateInput:
    """What an administrator types for a certificate (strings as typed; dates already parsed).

    ``stars``/``score``: int or None (missing); ``kind``/``level``: enum values as strings;
    ``expires_on`` None means the default 36 months.
    """

    stars: int | None
    score: int | None
    kind: str
    decision_number: str
    issuing_body: str
    level: str
    legal_basis: str
    product_name_certified: str
    producer_name_certified: str
    issued_on: date | None
    expires_on: date | None = None


def _text(errors: FieldErrors, field: str, value: str | None, required: bool = True) -> str:
    value = " ".join((value or "").split())
    if required and not value:
        errors.add(field, _("Required."))
    elif len(value) > FIELD_LIMITS[field]:
        errors.add(field, _("At most %(num)d characters.", num=FIELD_LIMITS[field]))
    return value


def _enum(errors: FieldErrors, field: str, enum, value):
    try:
        return enum(value)
    except ValueError:
        errors.add(field, _("Choose one of the options."))
        return None


def check_input(data: CertificateInput, *, kinds: tuple[CertificateKind, ...]) -> dict:
    """The certificate's column values from ``data``, or ``InvalidFields`` naming every problem:
    stars not 3–5, score missing, outside 0–100 or outside the stars' band, an unknown kind or
    level, a kind not in ``kinds``, missing decision number / issuing body / issue date, an issue
    date in the future, an expiry on or before the issue date, text too long."""
    errors = FieldErrors()
    stars = data.stars
    if stars not in SCORE_BANDS:
        errors.add("stars", _("Stars must be 3, 4 or 5 (1–2 stars get no certificate)."))
        stars = None
    score = data.score
    if score is None:
        errors.add("score", _("Required."))
    elif not 0 <= score <= 100:
        errors.add("score", _("The score is out of 100: give a number from 0 to 100."))
    elif stars is not None and not SCORE_BANDS[stars][0] <= score <= SCORE_BANDS[stars][1]:
        low, high = SCORE_BANDS[stars]
        errors.add("score", _("A %(stars)d-star certificate needs %(low)d–%(high)d points (148/QĐ-TTg).",
                              stars=stars, low=low, high=high))
    kind = _enum(errors, "kind", CertificateKind, data.kind)
    if kind is not None and kind not in kinds:
        errors.add("kind", _("Not possible here: %(choices)s.", choices=", ".join(str(k.label) for k in kinds)))
    level = _enum(errors, "level", CertificateLevel, data.level)
    values = {field: _text(errors, field, getattr(data, field), required=field in ("decision_number", "issuing_body"))
              for field in ("decision_number", "issuing_body", "legal_basis", "product_name_certified",
                            "producer_name_certified")}
    issued_on, expires_on = data.issued_on, data.expires_on
    if issued_on is None:
        errors.add("issued_on", _("Required."))
    elif issued_on > today_vn():
        errors.add("issued_on", _("The issue date is in the future."))
    if issued_on is not None and expires_on is not None and expires_on <= issued_on:
        errors.add("expires_on", _("The expiry date must come after the issue date."))
    errors.raise_if_any()
    return {"stars": stars, "score": score, "kind": kind, "level": level, "issued_on": issued_on,
            "expires_on": expires_on or default_expiry(issued_on), **values}


def _product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(_("No such product."))
    return product


def get(certificate_id: int) -> Certificate:
    """The certificate, or ``NotFound``."""
    cert = db.session.get(Certificate, certificate_id)
    if cert is None:
        raise NotFound(_("No such certificate."))
    return cert


def _move(cert: Certificate, to: CertificateStatus) -> None:
    if to not in TRANSITIONS[cert.status]:
        raise InvalidTransition(_("A %(status)s certificate cannot become %(to)s.",
                                  status=cert.status.label, to=to.label), status=str(cert.status), to=str(to))
    cert.status = to


def _duplicate_decision(errors_field: str, product: Product, decision_number: str) -> None:
    if any(c.decision_number == decision_number for c in product.certificates):
        raise InvalidFields({errors_field: [_("This product already has a certificate with this decision number.")]})


def audit(cert: Certificate, action: AuditAction, before: dict, *, actor: str, user_id: int | None) -> None:
    """One entry in the administrators' audit history (``shop.admin.records.log``) about ``cert``."""
    from shop.admin.records import log

    after = {"status": cert.status, "stars": cert.stars, "decision_number": cert.decision_number,
             "issued_on": cert.issued_on, "expires_on": cert.expires_on}
    if cert.status is CertificateStatus.REVOKED:
        after.update(revocation_decision=cert.revocation_decision, revoked_on=cert.revoked_on,
                     revocation_reason=cert.revocation_reason)
    log(AuditObject.CERTIFICATE, cert.id, action, before, after, actor=actor, user_id=user_id)


def record(product_id: int, data: CertificateInput, *, actor: str = "", user_id: int | None = None) -> Certificate:
    """Record a first certificate (kind ``new``) for a product that holds no active one.

    Raises ``NotFound`` (no product), ``InvalidFields`` (see ``check_input``; also when the product
    already has an active certificate — renew or upgrade it instead — or the same decision number).
    The product's badge and listing follow in the same flush.
    """
    product = _product(product_id)
    values = check_input(data, kinds=(CertificateKind.NEW,))
    if any(c.status == CertificateStatus.ACTIVE for c in product.certificates):
        raise InvalidFields({"kind": [_("This product already holds an active certificate: renew or upgrade it.")]})
    _duplicate_decision("decision_number", product, values["decision_number"])
    cert = Certificate(product=product, status=CertificateStatus.ACTIVE, **values)
    db.session.add(cert)
    db.session.flush()
    audit(cert, AuditAction.RECORD, {}, actor=actor, user_id=user_id)
    return cert


def renew(certificate_id: int, data: CertificateInput, *, actor: str = "", user_id: int | None = None) -> Certificate:
    """Re-recognise or upgrade: a new certificate for the same product (kind ``re_recognition`` or
    ``upgrade``), the old one (which must be active) becomes ``superseded``.

    An upgrade must give more stars than the old certificate. Raises ``NotFound``,
    ``InvalidTransition`` (old one revoked or superseded already) or ``InvalidFields``.
    """
    old = get(certificate_id)
    if old.status is not CertificateStatus.ACTIVE:
        _move(old, CertificateStatus.SUPERSEDED)  # raises: only an active certificate is renewed
    values = check_input(data, kinds=(CertificateKind.RE_RECOGNITION, CertificateKind.UPGRADE))
    if values["kind"] is CertificateKind.UPGRADE and values["stars"] <= old.stars:
        raise InvalidFields({"stars": [_("An upgrade gives more stars than the %(stars)d of the current certificate.",
                                         stars=old.stars)]})
    if values["issued_on"] < old.issued_on:
        raise InvalidFields({"issued_on": [_("The new decision cannot be older than the one it replaces.")]})
    _duplicate_decision("decision_number", old.product, values["decision_number"])
    _move(old, CertificateStatus.SUPERSEDED)
    cert = Certificate(product=old.product, status=CertificateStatus.ACTIVE, **values)
    db.session.add(cert)
    db.session.flush()
    audit(cert, AuditAction.RENEW, {"supersedes": old.decision_number, "stars": old.stars}, actor=actor,
          user_id=user_id)
    return cert


def revoke(certificate_id: int, *, decision: str, revoked_on: date | None, reason: str,
           actor: str = "system", user_id: int | None = None) -> tuple[Certificate, list[str]]:
    """Revoke an active certificate by decision: number, date (not before the issue date, not in
    the future) and reason are all required. Returns (certificate, numbers of the open orders
    flagged for staff because they hold the product).

    The product loses its badge and leaves sale in the same flush (the listing read model), and
    each open order with a line of the product is flagged (``needs_review``) with the lapse in its
    history. Raises ``NotFound``, ``InvalidTransition`` (not active) or ``InvalidFields``.
    """
    cert = get(certificate_id)
    if cert.status is not CertificateStatus.ACTIVE:
        _move(cert, CertificateStatus.REVOKED)  # raises
    errors = FieldErrors()
    decision = _text(errors, "revocation_decision", decision)
    reason = _text(errors, "revocation_reason", reason)
    if revoked_on is None:
        errors.add("revoked_on", _("Required."))
    elif revoked_on > today_vn():
        errors.add("revoked_on", _("The revocation date is in the future."))
    elif revoked_on < cert.issued_on:
        errors.add("revoked_on", _("The revocation date is before the issue date."))
    errors.raise_if_any()
    _move(cert, CertificateStatus.REVOKED)
    cert.revocation_decision, cert.revoked_on, cert.revocation_reason = decision, revoked_on, reason
    db.session.flush()
    audit(cert, AuditAction.REVOKE, {"status": CertificateStatus.ACTIVE}, actor=actor, user_id=user_id)
    return cert, flag_open_orders(cert.product_id, actor=actor)


def flag_open_orders(product_id: int, *, actor: str = "system") -> list[str]:
    """Flag for staff every open order with a line of this product that is no longer certified;
    returns their numbers (also those flagged before for the same lapse). Staff see them in the
    flagged-orders list (``flask order flagged``, the staff workspace)."""
    from shop.orders import services as orders
    from shop.orders.models import Order, OrderLine

    candidates = db.session.scalars(
        select(Order).where(Order.status.in_(orders.OPEN_STATUSES),
                            Order.lines.any(OrderLine.product_id == product_id)).order_by(Order.id)).all()
    numbers = []
    for order in candidates:
        order = orders.lock_order(order)
        lapses = orders.certificate_lapses(order, product_ids={product_id})
        for lapse in lapses:
            orders.flag(order, lapse + ": check with the customer before the goods go out", actor=actor)
        if lapses:
            numbers.append(order.number)
    db.session.flush()
    return numbers


def expiring(within_days: int = EXPIRY_WARNING_DAYS, on: date | None = None) -> list[Certificate]:
    """Active certificates whose last valid day falls within ``within_days`` days of ``on`` (today
    in Vietnam), soonest first, with their products and producers loaded. Already expired ones are
    not listed (their products are off sale)."""
    on = on or today_vn()
    return list(db.session.scalars(
        select(Certificate).where(Certificate.status == CertificateStatus.ACTIVE, Certificate.expires_on >= on,
                                  Certificate.expires_on <= on + timedelta(days=within_days))
        .options(selectinload(Certificate.product).selectinload(Product.producer))
        .order_by(Certificate.expires_on, Certificate.id)))


def expiry_digest(on: date | None = None) -> tuple[str, str] | None:
    """(subject, plain-text body) listing the certificates expiring in the next 60 days, in
    Vietnamese then English; None when there are none."""
    certs = expiring(on=on)
    if not certs:
        return None
    on = on or today_vn()
    lines = [f"- {c.expires_on.isoformat()} ({(c.expires_on - on).days} ngày / days): {c.product.name} — "
             f"{c.product.producer.name} — {c.stars}★ {c.decision_number}" for c in certs]
    subject = f"OCOP: {len(certs)} chứng nhận sắp hết hạn / certificates expiring within {EXPIRY_WARNING_DAYS} days"
    body = ("Các chứng nhận OCOP sau hết hiệu lực trong 60 ngày tới; chủ thể cần nộp hồ sơ đánh giá lại "
            "hoặc nâng hạng.\nThese OCOP certificates end within 60 days; the producer should apply for "
            "re-recognition or an upgrade.\n\n" + "\n".join(lines) + "\n")
    return subject, body


def send_expiry_digest(on: date | None = None) -> list[str]:
    """Queue the expiry digest to every active administrator (``shop.mail.send_mail``) and commit;
    returns the addresses written to (none when nothing expires soon). Run weekly by cron:
    ``flask certificates expiring --mail``."""
    from shop.accounts.enums import Role
    from shop.accounts.models import User
    from shop.mail import send_mail

    digest = expiry_digest(on)
    if digest is None:
        return []
    admins = [u for u in db.session.scalars(select(User).where(User.role == Role.ADMIN).order_by(User.id))
              if u.is_active]
    for admin in admins:
        send_mail(admin.email, *digest)
    db.session.commit()
    return [admin.email for admin in admins]
