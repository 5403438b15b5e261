"""One vocabulary: coded values are spelled only in their area's enum module (issue 9).

The scan reads every Python file under shop/ and every template under templates/, and fails on a
quoted literal (``"paid"``, ``'cod'``) equal to a value of one of the enums below, outside the enum
modules (``shop/<area>/enums.py``). A line may carry the marker ``vocabulary:`` with the name of
the *other* vocabulary it spells (an address field called ``province``, a JSON key ``count``):
those are not ours, and the marker makes each one visible in review. Comments are not read, nor
names that cannot hold a stored value: table names (``__tablename__ = "shop"``), SQL labels and
aliases (``.label("held")``), command-line command names (``.command("receive")``) and path
segments (``ROOT / "shop"``).
"""
import inspect
import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

import shop.catalog.enums as catalog_enums
import shop.inventory.enums as inventory_enums
import shop.orders.enums as order_enums
import shop.outbox.enums as outbox_enums
import shop.payments.enums as payment_enums
import shop.places.enums as place_enums
import shop.producers.enums as producer_enums
import shop.shops.enums as shop_enums
from shop.enums import LabelledEnum
from shop.extensions import db
from shop.catalog.models import Certificate, Product, ProductGroup
from shop.inventory import services as inventory
from shop.inventory.models import Reservation, StockMovement
from shop.orders.models import Order, OrderLine
from shop.places.models import Locality
from shop.producers.models import Producer
from shop.shops.models import Shop
from shop.payments.models import Payment, Refund, WebhookEvent

ROOT = Path(__file__).resolve().parent.parent
ENUM_MODULES = (order_enums, payment_enums, inventory_enums, catalog_enums, producer_enums, shop_enums, place_enums,
                outbox_enums)
ENUMS = [obj for module in ENUM_MODULES for _name, obj in inspect.getmembers(module, inspect.isclass)
         if obj.__module__ == module.__name__ and issubclass(obj, str) and hasattr(obj, "__members__")]
VALUES = {member.value: enum.__name__ for enum in ENUMS for member in enum}
MARKER = "vocabulary:"
# Names, not values: what precedes a literal that is a table name, an SQL label, a CLI command or a
# path segment.
NAME_CONTEXTS = re.compile(r"""(__tablename__\s*=\s*|\.(label|subquery|alias|cte|command|group)\(|/\s*)$""")


def _code_part(line: str) -> str:
    """The line without a trailing ``# comment`` (a ``#`` outside quotes)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:index]
    return line


def literals(text: str, values=VALUES) -> list[tuple[int, str]]:
    """(line number, value) of every quoted literal in ``text`` that is a coded value."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if MARKER in line:
            continue
        code = _code_part(line)
        # A message id (``_("refunded")``) is English text for translators, not a code.
        for match in re.finditer(r"""(?<!_\()(?<!_l\()(["'])([a-z_]+)\1""", code):
            if match.group(2) in values and not NAME_CONTEXTS.search(code[:match.start()]):
                found.append((number, match.group(2)))
    return found


def scanned_files():
    for path in sorted((ROOT / "shop").rglob("*.py")):
        if path.name != "enums.py":
            yield path
    yield from sorted((ROOT / "templates").rglob("*.html"))


def test_the_scan_finds_a_literal_and_respects_the_marker():
    assert literals('if order.status == "paid":\n    x = \'cod\'') == [(1, "paid"), (2, "cod")]
    assert literals('state = "expired"  # vocabulary: certificate') == []
    assert literals("{% if s == 'confirming' %}") == [(1, "confirming")]
    assert literals('"paid_later" "Paid" paid _("refunded")\n# a "paid" comment') == []
    assert literals('x = "cod"  # not "paid"\ny = "#" + \'held\'') == [(1, "cod"), (2, "held")]
    assert literals('__tablename__ = "shop"\nfunc.sum(q).label("held")\n@group.command("receive")\nROOT / "shop"') == []
    assert literals('Shop.kind == "shop"\nreason.label == "sale"') == [(1, "shop"), (2, "sale")]


def test_enums_are_found():
    names = {enum.__name__ for enum in ENUMS}
    assert {"OrderStatus", "FulfilmentType", "PaymentMethod", "PaymentRecordStatus", "RefundStatus",
            "PaymentProvider", "CheckoutState", "MovementReason", "ReservationState", "LotState", "NotOnSaleReason",
            "CertificateKind", "CertificateLevel", "CertificateStatus", "CertificatePublicStatus", "ProducerKind",
            "ShopKind", "PlaceKind"} <= names
    assert len(VALUES) > 70


def test_no_coded_value_is_spelled_outside_its_enum_module():
    offenders = []
    for path in scanned_files():
        for number, value in literals(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(ROOT)}:{number}: {value!r} ({VALUES[value]})")
    assert offenders == [], "use the enum member instead:\n" + "\n".join(offenders)


@pytest.mark.parametrize("enum", [e for e in ENUMS if issubclass(e, LabelledEnum)], ids=lambda e: e.__name__)
def test_every_label_has_a_vietnamese_translation(enum):
    with open(ROOT / "shop/translations/vi/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    for member in enum:
        msgid = member.lazy_label._args[0] if hasattr(member.lazy_label, "_args") else None
        if msgid is None:
            continue  # no label of its own (a state the templates word themselves)
        message = catalog.get(msgid)
        assert message is not None and message.string, f"{enum.__name__}.{member.name}: {msgid!r} not translated"


COLUMNS = [
    (Producer, "kind", producer_enums.ProducerKind),
    (Shop, "kind", shop_enums.ShopKind),
    (Locality, "kind", place_enums.PlaceKind),
    (Certificate, "kind", catalog_enums.CertificateKind),
    (Certificate, "level", catalog_enums.CertificateLevel),
    (Certificate, "status", catalog_enums.CertificateStatus),
    (StockMovement, "reason", inventory_enums.MovementReason),
    (Reservation, "state", inventory_enums.ReservationState),
    (Order, "status", order_enums.OrderStatus.stored()),
    (Order, "fulfilment", order_enums.FulfilmentType),
    (Order, "payment_method", order_enums.PaymentMethod),
    (Payment, "status", payment_enums.PaymentRecordStatus),
    (Payment, "provider", payment_enums.PaymentProvider),
    (Refund, "status", payment_enums.RefundStatus),
    (WebhookEvent, "provider", payment_enums.PaymentProvider),
]


def _one_row_each() -> None:
    order = Order(access_token="vocabulary-test", status=order_enums.OrderStatus.PLACED, customer_name="Lan",
                  email="lan@example.vn", phone="+84912345678", fulfilment=order_enums.FulfilmentType.DELIVERY,
                  payment_method=order_enums.PaymentMethod.COD, subtotal=0, shipping_fee=0, total=0)
    db.session.add(order)
    db.session.flush()
    payment = Payment(order_id=order.id, idempotency_key="vocabulary-test", amount=0)
    db.session.add(payment)
    db.session.flush()
    db.session.add(Refund(payment_id=payment.id, amount=1))
    db.session.add(WebhookEvent(provider=payment_enums.PaymentProvider.STRIPE, event_id="evt_1", type="x"))
    # The catalogue, a place, an outlet, a ledger row and a hold.
    place = Locality(slug="bac-kan", name="Bắc Kạn", kind=place_enums.PlaceKind.PROVINCE)
    group = ProductGroup(code="I", slug="thuc-pham", name="Thực phẩm")
    producer = Producer(slug="htx", name="HTX", kind=producer_enums.ProducerKind.COOPERATIVE, locality=place)
    product = Product(slug="mien", name="Miến", price=1, producer=producer, group=group)
    shop = Shop(slug="kho", name="Kho", kind=shop_enums.ShopKind.WAREHOUSE, locality=place)
    db.session.add_all([place, group, producer, product, shop,
                        Certificate(product=product, stars=4, decision_number="1/QĐ", issuing_body="UBND",
                                    level=catalog_enums.CertificateLevel.PROVINCE, issued_on=date(2026, 1, 1),
                                    expires_on=date(2029, 1, 1))])
    db.session.flush()
    inventory.receive(shop.id, product.id, 2)
    line = OrderLine(order_id=order.id, product_id=product.id, product_name="Miến", unit_price=1, stars=4,
                     quantity=1, line_total=1)
    db.session.add(line)
    db.session.flush()
    db.session.add(Reservation(order_line_id=line.id, shop_id=shop.id, product_id=product.id, quantity=1))
    db.session.commit()


@pytest.mark.parametrize("model, column, enum", COLUMNS, ids=lambda x: getattr(x, "__name__", str(x)))
def test_the_database_refuses_a_value_outside_the_enum(model, column, enum):
    checks = [c for c in model.__table__.constraints
              if isinstance(c, sa.CheckConstraint) and str(c.sqltext).startswith(f"{column} IN")]
    assert len(checks) == 1
    allowed = set(re.findall(r"'([a-z_]+)'", str(checks[0].sqltext)))
    assert allowed == {str(v) for v in enum}
    _one_row_each()
    table = model.__table__.name
    with pytest.raises(sa.exc.IntegrityError) as refused:
        db.session.execute(sa.text(f'UPDATE "{table}" SET {column} = \'not_a_code\''))
    db.session.rollback()
    assert f"ck_{table}_{column}_known" in str(refused.value)
    with pytest.raises((ValueError, sa.exc.StatementError)):  # the ORM refuses it before the database sees it
        setattr(db.session.scalars(sa.select(model)).first(), column, "not_a_code")
        db.session.flush()
    db.session.rollback()
