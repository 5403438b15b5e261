"""The checkout form. It carries and redisplays what the customer typed; the rules (name, phone,
address, which shops and payment methods are allowed) live in ``shop.orders.services`` and come
back as ``DomainError``s whose ``details["field"]`` names one of these fields.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, SelectField, StringField, TelField

try:  # WTForms 3.3 deprecates (value, label) tuples in favour of SelectChoice
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None

# Longer than any value the service accepts, so a paste is cut here but still gets its message.
_MAX = 300


def choice(value: str, label) -> object:
    return SelectChoice(value, label) if SelectChoice is not None else (value, label)


class CheckoutForm(FlaskForm):
    # CSRF is checked by CSRFProtect for every POST; the template renders the token itself.
    class Meta:
        csrf = False

    name = StringField(_l("Full name"), render_kw={"autocomplete": "name", "maxlength": 120})
    phone = TelField(_l("Phone"), render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": 20})
    email = EmailField(_l("Email"), render_kw={"autocomplete": "email", "maxlength": 200})

    fulfilment = RadioField(_l("How do you want to receive your order?"), default="delivery",
                            choices=[choice("delivery", _l("Home delivery")), choice("pickup", _l("Pick up at a shop"))],
                            validate_choice=False)
    street = StringField(_l("House number and street"),
                         render_kw={"autocomplete": "address-line1", "maxlength": 200})
    ward = StringField(_l("Ward / commune"), render_kw={"autocomplete": "address-level3", "maxlength": 120})
    province = StringField(_l("Province / city"), render_kw={"autocomplete": "address-level1", "maxlength": 120})
    pickup_shop_id = SelectField(_l("Shop"), choices=[], validate_choice=False)

    payment_method = RadioField(_l("Payment"), choices=[], validate_choice=False)

    def clipped(self, name: str) -> str:
        """A field's text, stripped and cut to a sane length before it reaches the service."""
        return (self[name].data or "").strip()[:_MAX]
