"""Shared form pattern: a form reports every field error in one answer.

Services check all the fields of a form and raise ``shop.errors.InvalidFields`` (collected with
``shop.errors.FieldErrors``); a single ``InvalidInput`` with ``details["field"]`` still works. A
view hands the error to :func:`apply_errors`, which puts each message on its WTForms field and
returns the errors in the form's field order, and renders the form again with what was typed
(WTForms keeps the submitted values). The template calls the macros of
``templates/macros/_forms.html``: ``error_summary`` (a list of links to the fields, which takes the
focus when the page loads: static/js/forms.js) and ``text_field`` (label, hint, the field's error,
``aria-invalid`` and ``aria-describedby``). Checkout uses it (shop/orders/views.py); sign-in,
registration and staff forms are meant to do the same.
"""
from __future__ import annotations

from collections.abc import Sequence

from shop.errors import DomainError, InvalidFields


def apply_errors(form, exc: DomainError, field_order: Sequence[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Put ``exc``'s messages on ``form``'s fields.

    Returns (field errors in ``field_order``: {field name: [messages]}, messages about no field of
    ``field_order``: the form as a whole).
    """
    if isinstance(exc, InvalidFields):
        raw = exc.errors
    else:
        raw = {exc.details.get("field") or "": [exc.message]}
    general: list[str] = []
    for field, messages in raw.items():
        if field in field_order:
            form[field].errors = list(form[field].errors or []) + list(messages)
        else:
            general.extend(messages)
    return field_errors(form, field_order), general


def field_errors(form, field_order: Sequence[str]) -> dict[str, list[str]]:
    """{field name: [messages]} for the fields of ``form`` that have errors, in ``field_order``."""
    return {name: list(form[name].errors) for name in field_order if form[name].errors}
