"""One vocabulary: coded values are spelled only in their area's enum module (issue 9).

The scan reads every Python file under shop/ and every template under templates/, and fails on a
quoted literal (``"paid"``, ``'cod'``) equal to a value of one of the enums below, outside the enum
modules (``shop/<area>/enums.py``). A line may carry the marker ``vocabulary:`` with the name of
the *other* vocabulary it spells (a certificate status that happens to be ``expired``, Stripe's
actor name): those are not ours, and the marker makes each one visible in review.
"""
import inspect
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

import shop.orders.enums as order_enums
import shop.payments.enums as payment_enums
from shop.enums import LabelledEnum
from shop.extensions import db
from shop.orders.models import Order
from shop.payments.models import Payment, Refund, WebhookEvent

ROOT = Path(__file__).resolve().parent.parent
ENUM_MODULES = (order_enums, payment_enums)
ENUMS = [obj for module in ENUM_MODULES for _name, obj in inspect.getmembers(module, inspect.isclass)
         if obj.__module__ == module.__name__ and issubclass(obj, str) and hasattr(obj, "__members__")]
VALUES = {member.value: enum.__name__ for enum in ENUMS for member in enum}
MARKER = "vocabulary:"
# Words of vocabularies that are not (yet) enums of their own and happen to equal one of ours:
# {value: files where that word belongs to the other vocabulary}. Certificate statuses and lapse
# reasons (catalog area) share ``expired`` and ``pending`` with payments.
OTHER_VOCABULARIES = {
    "expired": {"shop/catalog/models.py", "shop/catalog/views.py", "shop/seed/demo.py", "shop/seed/loader.py",
                "templates/catalog/product.html", "templates/macros/_labels.html"},
    "pending": {"shop/catalog/models.py", "templates/macros/_labels.html"},
}


def literals(text: str, values=VALUES) -> list[tuple[int, str]]:
    """(line number, value) of every quoted literal in ``text`` that is a coded value."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if MARKER in line or line.lstrip().startswith("#"):
            continue
        # A message id (``_("refunded")``) is English text for translators, not a code.
        for match in re.finditer(r"""(?<!_\()(?<!_l\()(["'])([a-z_]+)\1""", line):
            if match.group(2) in values:
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


def test_enums_are_found():
    names = {enum.__name__ for enum in ENUMS}
    assert {"OrderStatus", "FulfilmentType", "PaymentMethod", "PaymentRecordStatus", "RefundStatus",
            "PaymentProvider", "CheckoutState"} <= names
    assert len(VALUES) > 30


def test_no_coded_value_is_spelled_outside_its_enum_module():
    offenders = []
    for path in scanned_files():
        relative = str(path.relative_to(ROOT))
        for number, value in literals(path.read_text(encoding="utf-8")):
            if relative in OTHER_VOCABULARIES.get(value, ()):
                continue
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
