"""Coded values: ``enum.StrEnum``s with their labels beside them, and the column type that stores them.

Each area keeps its own vocabulary in ``shop/<area>/enums.py``; nothing else spells a coded value
as a string literal (``tests/test_vocabulary.py`` greps for it). A member *is* its string
(``OrderStatus.PAID == "paid"``), so JSON, forms and SQL see plain strings; the database guards
every stored column with a CHECK constraint built from the enum (``check_in``).
"""
from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import CheckConstraint, String
from sqlalchemy.types import TypeDecorator


class LabelledEnum(enum.StrEnum):
    """A StrEnum whose members carry a label in the page language: ``PAID = "paid", _l("Paid")``.

    Labels are lazy (``flask_babel.lazy_gettext``), so they are translated when shown, in the
    language of the page or e-mail being written (``shop.i18n.language``).
    """

    def __new__(cls, value: str, label: Any = None):
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label if label is not None else value
        return member

    @property
    def label(self) -> str:
        """The label in the current language (page, or e-mail inside ``shop.i18n.language``)."""
        return str(self._label)

    @property
    def lazy_label(self):
        """The label, translated only when shown: for declarations made at import (form choices)."""
        return self._label

    @classmethod
    def label_of(cls, value: str | None) -> str:
        """The label of a stored code; an unknown code (never stored, CHECK) is shown as it is."""
        try:
            return cls(value).label
        except ValueError:
            return value or ""

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(member.value for member in cls)


def check_in(column: str, values, name: str) -> CheckConstraint:
    """A CHECK constraint allowing only ``values`` (enum members or strings) in ``column``."""
    allowed = ", ".join(f"'{str(v)}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


class EnumText(TypeDecorator):
    """A VARCHAR column whose values come back as members of ``enum_class``.

    Writing a value that is not a member raises ``ValueError`` before the database sees it (the
    CHECK constraint guards writes that bypass the ORM).
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[enum.StrEnum], length: int = 20, **kwargs):
        self.enum_class = enum_class
        super().__init__(length, **kwargs)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return self.enum_class(value).value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return self.enum_class(value)

    def copy(self, **kw):
        return EnumText(self.enum_class, self.impl.length)
