"""The portal's forms (Flask-WTF: every POST carries the CSRF token). They only carry what was
typed; the rules are the services' (``shop.portal.services``, ``photos``, ``proposals``)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField


class StoryForm(FlaskForm):
    story = TextAreaField(_l("Story (Vietnamese)"))
    story_en = TextAreaField(_l("Story (English)"))


class DescriptionForm(FlaskForm):
    description = TextAreaField(_l("Description (Vietnamese)"))
    description_en = TextAreaField(_l("Description (English)"))


class PreviewForm(FlaskForm):
    text = TextAreaField()
