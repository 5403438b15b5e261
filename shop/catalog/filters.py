"""The one reader of catalogue filters: a query string in, a typed ``CatalogFilters`` out.

The product pages (``/products``) and the JSON API (``GET /api/v1/products``) both call
``read_filters`` on the request's query string, so they know the same parameters, with the same
bounds and meanings, and ``shop.catalog.services.browse`` receives the same object from both.
They differ only in what they do with a problem the reader reports:

- the API refuses the request (400 ``invalid_parameter``, naming the parameter), including any
  parameter it does not know;
- the pages drop what they could not read (a long search is shortened instead), show the rest,
  and tell the visitor which filters were left out. Unknown parameters (``utm_source``, ``fbclid``)
  are ignored there without a word.

Every number is checked as text (digits only, bounded length) before it is converted, so no input
can reach Python's int-digits limit or the database's integer range.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _

from shop.catalog.search import MAX_QUERY_LENGTH, strip_controls
from shop.inputs import DB_INT_MAX, whole_number

# Orders a list can be sorted in; "relevance" ranks search matches and is the default with a search.
SORTS = ("relevance", "stars", "price_asc", "price_desc", "name", "newest")
STARS = (3, 4, 5)
MAX_PRICE = 1_000_000_000  # đồng; no OCOP product comes near a billion
MAX_PAGE = 10_000
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 24
MAX_REF_LENGTH = 160  # slugs of groups and producers (String(160)); localities are String(120)
MAX_LOCALITY_REF_LENGTH = 120
MAX_ID = DB_INT_MAX  # ids are 32-bit integers in the database
TRUE_VALUES = ("1", "true", "on", "yes")
FALSE_VALUES = ("0", "false", "off", "no")
# Every parameter the catalogue reads; anything else is "unknown" (the API refuses it).
PARAMETERS = ("q", "stars", "group", "producer", "locality", "min_price", "max_price", "in_stock",
              "sort", "page", "per_page")
# Parameters every page and API call may carry that are not filters (the language of the reply).
GLOBAL_PARAMETERS = ("lang",)

_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")

Ref = str | int  # a slug, or a numeric id


@dataclass
class CatalogFilters:
    """What to list. ``group``, ``producer`` and ``locality`` are a slug or a numeric id (0 names
    nothing). Prices are whole đồng, inclusive. ``per_page`` None means the caller's default."""

    q: str = ""
    stars: list[int] = field(default_factory=list)
    group: Ref | None = None
    producer: Ref | None = None
    locality: Ref | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool = False
    sort: str = "stars"
    page: int = 1
    per_page: int | None = None

    @property
    def active(self) -> bool:
        """True when something narrows the list (sorting and paging do not)."""
        return bool(self.q or self.stars or self.group is not None or self.producer is not None
                    or self.locality is not None or self.min_price is not None
                    or self.max_price is not None or self.in_stock)


@dataclass
class FilterProblem:
    """A parameter that could not be used as given: its name and a message for a person."""

    param: str
    message: str


@dataclass
class FilterReading:
    filters: CatalogFilters
    problems: list[FilterProblem] = field(default_factory=list)  # known parameters, malformed
    unknown: list[str] = field(default_factory=list)  # parameters the catalogue does not know
    # Numbers, choices and flags given empty (``page=``): "no filter" for a form, a mistake for a program.
    blank: list[str] = field(default_factory=list)

    @property
    def first_error(self) -> FilterProblem | None:
        """What the API reports: an unknown parameter first, else the first malformed one."""
        if self.unknown:
            name = self.unknown[0][:40]
            return FilterProblem(name, _("%(field)s is not a parameter of this request. Known parameters: "
                                         "%(known)s.", field=name, known=", ".join(sorted(PARAMETERS))))
        if self.problems:
            return self.problems[0]
        if self.blank:
            return FilterProblem(self.blank[0], _("%(field)s is empty: leave it out or give a value.",
                                                  field=self.blank[0]))
        return None


class _Reader:
    def __init__(self, args, default_per_page: int):
        self.args = args
        self.default_per_page = default_per_page
        self.problems: list[FilterProblem] = []
        self.blank: list[str] = []

    def problem(self, param: str, message: str) -> None:
        self.problems.append(FilterProblem(param, message))

    def single(self, name: str, strip: bool = False) -> str | None:
        """The one value of ``name``; empty means absent (forms send empty fields)."""
        values = self.args.getlist(name)
        if len(values) > 1:
            self.problem(name, _("%(field)s may be given only once.", field=name))
            return None
        value = values[0] if values else ""
        value = value.strip() if strip else value
        if values and not value and not strip:
            self.blank.append(name)
        return value or None

    def number(self, name: str, low: int, high: int) -> int | None:
        raw = self.single(name)
        if raw is None:
            return None
        # No spaces in a query parameter: "7", "007"; not " 2", "-1", "1.0", "١" (shop.inputs.whole_number).
        value = whole_number(raw, low, high) if raw == raw.strip() else None
        if value is None:
            if low == 1 and high >= MAX_PAGE:
                message = _("%(field)s must be a positive integer (at most %(high)d).", field=name, high=high)
            else:
                message = _("%(field)s must be an integer from %(low)d to %(high)d.", field=name, low=low,
                            high=high)
            self.problem(name, message)
            return None
        return value

    def text(self, name: str, max_length: int) -> str | None:
        raw = self.single(name, strip=True)
        if raw is None:
            return None
        if len(raw) > max_length:
            self.problem(name, _("%(field)s must be at most %(n)d characters.", field=name, n=max_length))
            return None
        if _CONTROL.search(raw):
            self.problem(name, _("%(field)s must not contain control characters.", field=name))
            return None
        return raw

    def ref(self, name: str, max_length: int) -> Ref | None:
        value = self.text(name, max_length)
        if value is None or not (value.isascii() and value.isdigit()):
            return value
        return whole_number(value, 1, MAX_ID) or 0  # an id no row can have: matches nothing

    def query(self) -> str:
        values = self.args.getlist("q")
        if len(values) > 1:
            self.problem("q", _("%(field)s may be given only once.", field="q"))
        raw = values[0] if values else ""
        if len(raw) > MAX_QUERY_LENGTH:
            self.problem("q", _("%(field)s must be at most %(n)d characters.", field="q", n=MAX_QUERY_LENGTH))
        elif _CONTROL.search(raw):
            self.problem("q", _("%(field)s must not contain control characters.", field="q"))
        # What is kept of a long or dirty search: its start, without control characters.
        return strip_controls(raw[:MAX_QUERY_LENGTH]).strip()

    def stars(self) -> list[int]:
        stars, bad = set(), False
        for raw in self.args.getlist("stars"):
            if not raw:
                self.blank.append("stars")
            for part in raw.split(","):
                part = part.strip()
                if part in ("3", "4", "5"):
                    stars.add(whole_number(part, 3, 5))
                elif part or raw.strip():
                    bad = True
        if bad:
            self.problem("stars", _("stars must be 3, 4 or 5 (repeat the parameter or separate with commas)."))
        return sorted(stars)

    def flag(self, name: str) -> bool:
        raw = self.single(name)
        if raw is None or raw.lower() in FALSE_VALUES:
            return False
        if raw.lower() in TRUE_VALUES:
            return True
        self.problem(name, _("%(field)s must be 1 or 0 (true or false).", field=name))
        return False


def read_filters(args, default_per_page: int = DEFAULT_PER_PAGE) -> FilterReading:
    """Read the catalogue's query parameters (a werkzeug ``MultiDict``) into ``CatalogFilters``.

    Parameters (all optional; an empty value means absent):
    ``q`` search text (≤ 100 characters; longer is cut there), ``stars`` 3/4/5 (repeat or commas),
    ``group``/``producer``/``locality`` a slug or numeric id, ``min_price``/``max_price`` whole đồng
    0–1,000,000,000 (min ≤ max), ``in_stock`` 1/0/true/false/on/off/yes/no, ``sort`` one of
    ``SORTS`` (default ``relevance`` with a search, else ``stars``), ``page`` 1–10,000, ``per_page``
    1–100 (default ``default_per_page``).

    Never raises: malformed values are left out of the filters and listed in ``problems``;
    parameters not in ``PARAMETERS`` or ``GLOBAL_PARAMETERS`` are listed in ``unknown``; empty
    numbers, choices and flags (an empty form field: no filter) are listed in ``blank``.
    """
    read = _Reader(args, default_per_page)
    q = read.query()
    sort = read.single("sort")
    if sort is not None and sort not in SORTS:
        read.problem("sort", _("%(field)s must be one of: %(choices)s.", field="sort", choices=", ".join(SORTS)))
        sort = None
    min_price = read.number("min_price", 0, MAX_PRICE)
    max_price = read.number("max_price", 0, MAX_PRICE)
    if min_price is not None and max_price is not None and min_price > max_price:
        read.problem("max_price", _("max_price must not be less than min_price."))
        max_price = None
    filters = CatalogFilters(
        q=q,
        stars=read.stars(),
        group=read.ref("group", MAX_REF_LENGTH),
        producer=read.ref("producer", MAX_REF_LENGTH),
        locality=read.ref("locality", MAX_LOCALITY_REF_LENGTH),
        min_price=min_price,
        max_price=max_price,
        in_stock=read.flag("in_stock"),
        sort=sort or ("relevance" if q else "stars"),
        page=read.number("page", 1, MAX_PAGE) or 1,
        per_page=read.number("per_page", 1, MAX_PER_PAGE) or default_per_page,
    )
    known = set(PARAMETERS) | set(GLOBAL_PARAMETERS)
    unknown = [name for name in args.keys() if name not in known]
    return FilterReading(filters=filters, problems=read.problems, unknown=unknown, blank=read.blank)


def parse_filters(args, default_per_page: int = DEFAULT_PER_PAGE) -> CatalogFilters:
    """The forgiving reading the pages use: ``read_filters(args).filters``."""
    return read_filters(args, default_per_page).filters
