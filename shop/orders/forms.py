"""The checkout form. It carries and redisplays what the customer typed; the rules (name, phone,
address, which shops and payment methods are allowed) live in ``shop.orders.services`` and come
back as ``DomainError``s whose ``details["field"]`` names one of these fields.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectField, StringField, TelField

from shop.inputs import column_length
from shop.orders.enums import FulfilmentType
from shop.orders.models import Order
from shop.phone import TYPED_MAX as _PHONE

try:  # WTForms 3.3 deprecates (value, label) tuples in favour of SelectChoice
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None

# The browser's own limit (``maxlength``) is the column's; the service re-checks after normalising.
_NAME, _EMAIL = column_length(Order.customer_name), column_length(Order.email)
_STREET, _WARD, _PROVINCE = (column_length(c) for c in (Order.address_street, Order.address_ward,
                                                         Order.address_province))


def choice(value: str, label) -> object:
    return SelectChoice(value, label) if SelectChoice is not None else (value, label)


class CheckoutForm(FlaskForm):
    # CSRF is checked by CSRFProtect for every POST; the template renders the token itself.
    class Meta:
        csrf = False

    name = StringField(_l("Full name"), render_kw={"autocomplete": "name", "maxlength": _NAME})
    phone = TelField(_l("Phone"), render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": _PHONE})
    email = EmailField(_l("Email"), render_kw={"autocomplete": "email", "maxlength": _EMAIL})

    fulfilment = RadioField(_l("How do you want to receive your order?"), default=FulfilmentType.DELIVERY,
                            choices=[choice(f, f.lazy_label) for f in FulfilmentType],
                            validate_choice=False)
    street = StringField(_l("House number and street"),
                         render_kw={"autocomplete": "address-line1", "maxlength": _STREET})
    ward = StringField(_l("Ward / commune"), render_kw={"autocomplete": "address-level3", "maxlength": _WARD})
    province = StringField(_l("Province / city"), render_kw={"autocomplete": "address-level1", "maxlength": _PROVINCE})
    pickup_shop_id = SelectField(_l("Shop"), choices=[], validate_choice=False)

    payment_method = RadioField(_l("Payment"), choices=[], validate_choice=False)

    def clipped(self, name: str) -> str:
        """A field's text as sent, stripped. Never cut here: cutting could turn a too-long value into
        an accepted, silently shortened one; the service measures it after normalisation and says so
        (the request body itself is bounded by ``MAX_CONTENT_LENGTH``)."""
        return (self[name].data or "").strip()
