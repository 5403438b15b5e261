"""Administration forms (Flask-WTF: every POST carries the CSRF token). They only carry what was
typed; the rules are the services' (``shop.catalog.certificates``), which report every field's
problem at once (``shop.forms`` pattern). Choices are not validated here, so an unexpected value
reaches the service and gets its clear message rather than a generic one."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField

from shop.catalog.enums import CertificateKind, CertificateLevel
from shop.orders.forms import choice
from shop.places.enums import PlaceKind
from shop.producers.enums import ProducerKind

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
                        choices=[choice(level.value, level.lazy_label) for level in CertificateLevel],
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


class ImportUploadForm(FlaskForm):
    """The annex table and the decision it belongs to."""

    file = FileField(_l("The province's list (XLSX or CSV)"))
    decision_number = StringField(_l("Decision number"))
    issued_on = StringField(_l("Issue date"))
    issuing_body = StringField(_l("Issuing body"))
    level = SelectField(_l("Level of the issuing body"), validate_choice=False,
                        choices=[choice(level.value, level.lazy_label) for level in CertificateLevel],
                        default=CertificateLevel.PROVINCE.value)
    legal_basis = StringField(_l("Legal basis"), default="Quyết định 148/QĐ-TTg ngày 24/02/2023")


class ImportMappingForm(FlaskForm):
    """Which column holds which field; the rows travel signed in ``payload``."""

    payload = HiddenField()
    col_product = SelectField(_l("Product"), validate_choice=False)
    col_producer = SelectField(_l("Producer"), validate_choice=False)
    col_address = SelectField(_l("Address"), validate_choice=False)
    col_group = SelectField(_l("Group"), validate_choice=False)
    col_stars = SelectField(_l("Stars"), validate_choice=False)
    col_score = SelectField(_l("Score (out of 100)"), validate_choice=False)

    def set_columns(self, header: list[str]) -> "ImportMappingForm":
        options = [choice("", "—")] + [choice(str(i), f"{_letter(i)}: {name or '…'}") for i, name in enumerate(header)]
        for name in IMPORT_COLUMNS:
            self[name].choices = options
        return self


IMPORT_COLUMNS = ("col_product", "col_producer", "col_address", "col_group", "col_stars", "col_score")
IMPORT_DECISION_FIELDS = ("file", "decision_number", "issued_on", "issuing_body", "level", "legal_basis")


def _letter(index: int) -> str:
    letters, index = "", index + 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class ShopForm(FlaskForm):
    name = StringField(_l("Name"))
    address = StringField(_l("Address"))
    phone = StringField(_l("Phone"))
    opening_hours = TextAreaField(_l("Opening hours"))
    opening_hours_en = TextAreaField(_l("Opening hours (English)"))
    offers_pickup = BooleanField(_l("Offers pick-up"))
    ships_online = BooleanField(_l("Ships online orders"))


SHOP_FIELDS = ("name", "address", "phone", "opening_hours", "opening_hours_en", "offers_pickup", "ships_online")


class ProductForm(FlaskForm):
    """A product's details; ``group`` and ``producer`` choices are set by the view (``set_choices``)."""

    name = StringField(_l("Name"))
    name_en = StringField(_l("Name (English)"))
    group = SelectField(_l("Product group"), validate_choice=False)
    unit = StringField(_l("Unit"))
    unit_en = StringField(_l("Unit (English)"))
    weight_grams = StringField(_l("Weight (grams)"))
    barcode = StringField(_l("Barcode (EAN-13)"))
    price = StringField(_l("Price (đồng)"))
    listed = BooleanField(_l("Listed (on sale while its certificate is valid)"))
    producer = SelectField(_l("Producer"), validate_choice=False)

    def set_choices(self, groups, producers, empty_label) -> "ProductForm":
        """``groups``: ProductGroup rows (subgroups after their group); ``producers``: Producer rows."""
        self.group.choices = [choice("", empty_label)] + [
            choice(str(group.id), f"{group.code} · {group.name}") for group in groups]
        self.producer.choices = [choice("", empty_label)] + [
            choice(producer.slug, producer.name) for producer in producers]
        return self


PRODUCT_FIELDS = ("name", "name_en", "group", "unit", "unit_en", "weight_grams", "barcode", "price", "listed",
                  "producer")


class ProducerForm(FlaskForm):
    """A producer's details; ``locality`` choices are set by the view (every place, by full name)."""

    name = StringField(_l("Name"))
    kind = SelectField(_l("Kind"), validate_choice=False,
                       choices=[choice(kind.value, kind.lazy_label) for kind in ProducerKind])
    locality = SelectField(_l("Locality"), validate_choice=False)
    address = StringField(_l("Address"))
    phone = StringField(_l("Phone"))
    story = TextAreaField(_l("Story (Markdown)"))
    story_en = TextAreaField(_l("Story in English (Markdown)"))


PRODUCER_FIELDS = ("name", "kind", "locality", "address", "phone", "story", "story_en")


class LocalityForm(FlaskForm):
    """A place; ``parent`` and ``successor`` choices are set by the view (every place)."""

    name = StringField(_l("Name"))
    kind = SelectField(_l("Kind"), validate_choice=False, choices=[choice(kind.value, kind.lazy_label) for kind in PlaceKind])
    parent = SelectField(_l("Inside (parent)"), validate_choice=False)
    successor = SelectField(_l("Merged into (successor)"), validate_choice=False)


LOCALITY_FIELDS = ("name", "kind", "parent", "successor")
