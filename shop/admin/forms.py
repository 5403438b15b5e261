"""Administration forms (Flask-WTF: every POST carries the CSRF token). They only carry what was
typed; the rules are the services' (``shop.catalog.certificates``), which report every field's
problem at once (``shop.forms`` pattern). Choices are not validated here, so an unexpected value
reaches the service and gets its clear message rather than a generic one."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from shop.catalog.enums import CertificateKind, CertificateLevel
from shop.orders.forms import choice

CERTIFICATE_FIELDS = ("kind", "stars", "score", "decision_number", "issuing_body", "level", "legal_basis",
                      "product_name_certified", "producer_name_certified", "issued_on", "expires_on")
REVOKE_FIELDS = ("revocation_decision", "revoked_on", "revocation_reason")


class CertificateForm(FlaskForm):
    kind = SelectField(_l("Kind of decision"), validate_choice=False)
    stars = SelectField(_l("Stars"), choices=[choice(str(n), f"{n}★") for n in (3, 4, 5)], default="4",
                        validate_choice=False)
    score = StringField(_l("Score (out of 100)"))
    decision_number = StringField(_l("Decision number"))
    issuing_body = StringField(_l("Issuing body"))
    level = SelectField(_l("Level of the issuing body"), validate_choice=False,
                        choices=[choice(level.value, level.label) for level in CertificateLevel],
                        default=CertificateLevel.PROVINCE.value)
    legal_basis = StringField(_l("Legal basis"), default="Quyết định 148/QĐ-TTg ngày 24/02/2023")
    product_name_certified = StringField(_l("Product name as certified"))
    producer_name_certified = StringField(_l("Producer name as certified"))
    issued_on = StringField(_l("Issue date"))
    expires_on = StringField(_l("Expiry date (empty: 36 months)"))

    def set_kinds(self, kinds: tuple[CertificateKind, ...]) -> "CertificateForm":
        self.kind.choices = [choice(kind.value, kind.label) for kind in kinds]
        return self


class RevokeForm(FlaskForm):
    revocation_decision = StringField(_l("Revocation decision number"))
    revoked_on = StringField(_l("Revocation date"))
    revocation_reason = TextAreaField(_l("Reason"))
