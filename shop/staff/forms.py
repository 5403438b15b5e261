"""Staff forms (Flask-WTF: every POST carries the CSRF token). They carry what was typed; the
views check it and the services own the rules (``shop.forms`` pattern: every error at once)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField


class ConfirmForm(FlaskForm):
    called = BooleanField(_l("I called the buyer and they confirmed the order"))


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Why is it cancelled?"))


class StepForm(FlaskForm):
    to = HiddenField()
    carrier = SelectField(_l("Carrier"), choices=[], validate_choice=False)
    carrier_other = StringField(_l("Other carrier"))
    tracking_number = StringField(_l("Tracking number"))
    cash = StringField(_l("Cash received (đồng)"))
    note = StringField(_l("Note (optional)"))


# ---- stock --------------------------------------------------------------------------------------

from wtforms import FieldList, Form, FormField  # noqa: E402


class ReceiveLine(Form):
    """One line of a delivery (no CSRF of its own: the enclosing form carries it)."""

    product = StringField(_l("Product (code or barcode)"))
    lot_code = StringField(_l("Lot code"))
    produced_on = StringField(_l("Production date"))
    best_before = StringField(_l("Best before"))
    quantity = StringField(_l("Quantity"))


class ReceiveForm(FlaskForm):
    reference = StringField(_l("Delivery note"))
    lines = FieldList(FormField(ReceiveLine), min_entries=5, max_entries=20)


class AdjustForm(FlaskForm):
    product = StringField(_l("Product (code or barcode)"))
    lot_code = StringField(_l("Lot code (optional)"))
    reason = SelectField(_l("Reason"), choices=[], validate_choice=False)
    quantity = StringField(_l("Quantity"))
    note = StringField(_l("Note (optional)"))
    # Shown only when the loss would take units held for orders (shop.inventory.holds).
    confirm_held = BooleanField(_l("Record the breakage anyway: those orders will be flagged for staff"))


class TransferLineForm(Form):
    product = StringField(_l("Product (code or barcode)"))
    lot_code = StringField(_l("Lot code (optional)"))
    quantity = StringField(_l("Quantity"))


class TransferForm(FlaskForm):
    to_shop = SelectField(_l("To shop"), choices=[], validate_choice=False)
    note = StringField(_l("Note (optional)"))
    lines = FieldList(FormField(TransferLineForm), min_entries=5, max_entries=20)


class ReasonForm(FlaskForm):
    """A form whose only field is a reason (cancelling a transfer); the receive form's counts are
    read from ``line-<id>`` fields by the view."""

    reason = StringField(_l("Why is it cancelled?"))


# ---- bank statements ----------------------------------------------------------------------------

from flask_wtf.file import FileField  # noqa: E402


class StatementForm(FlaskForm):
    file = FileField(_l("Bank statement (CSV)"))


class StatementConfirmForm(FlaskForm):
    """The preview's one click: the parsed credits travel signed (``payload``), never re-uploaded."""

    payload = HiddenField()


class DecideForm(FlaskForm):
    note = StringField(_l("Note"))


class TransferPaidForm(FlaskForm):
    seen = BooleanField(_l("I saw this transfer arrive on the shop's bank account"))
    reference = StringField(_l("Bank reference (optional)"))


# ---- refunds and returns ------------------------------------------------------------------------


class RefundForm(FlaskForm):
    amount = StringField(_l("Amount to refund (đồng; empty: all that is left)"))
    reference = StringField(_l("Reference of the transfer or receipt"))
    reason = StringField(_l("Reason"))


class ReturnForm(FlaskForm):
    """Goods brought back; the units per line are read from ``line-<id>`` fields by the view."""

    write_off = BooleanField(_l("The goods cannot be sold again: write them off"))
    note = StringField(_l("Note (required for a write-off)"))


# ---- the manager's settings ---------------------------------------------------------------------


class BlindCountForm(FlaskForm):
    blind_count = BooleanField(_l("Clerks count blind (the sheet hides what the books say)"))


class ThresholdsForm(FlaskForm):
    """The stock page's thresholds; the values are read from ``threshold-<product id>`` fields."""
