"""The portal's forms (Flask-WTF: every POST carries the CSRF token). They only carry what was
typed; the rules are the services' (``shop.portal.services``, ``photos``, ``proposals``)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField


class StoryForm(FlaskForm):
    story = TextAreaField(_l("Story (Vietnamese)"))
    story_en = TextAreaField(_l("Story (English)"))


class DescriptionForm(FlaskForm):
    description = TextAreaField(_l("Description (Vietnamese)"))
    description_en = TextAreaField(_l("Description (English)"))


class PreviewForm(FlaskForm):
    text = TextAreaField()


class ChangeForm(FlaskForm):
    """A change to a listed product: names, unit, price (whole đồng). Stars, certificates and
    listing are not fields here, nor read from the request."""

    name = StringField(_l("Name"))
    name_en = StringField(_l("Name (English)"))
    unit = StringField(_l("Unit"))
    unit_en = StringField(_l("Unit (English)"))
    price = StringField(_l("Price (đồng)"))


CHANGE_FIELDS = ("name", "name_en", "unit", "unit_en", "price")


class NewProductForm(FlaskForm):
    name = StringField(_l("Name"))
    name_en = StringField(_l("Name (English)"))
    group = SelectField(_l("OCOP group"), validate_choice=False)
    unit = StringField(_l("Unit"))
    unit_en = StringField(_l("Unit (English)"))
    price = StringField(_l("Price (đồng)"))
    description = TextAreaField(_l("Description (Vietnamese)"))
    description_en = TextAreaField(_l("Description (English)"))


NEW_PRODUCT_FIELDS = ("name", "name_en", "group", "unit", "unit_en", "price", "description", "description_en")


class DecisionForm(FlaskForm):
    note = TextAreaField(_l("Note for the producer (required to reject)"))
