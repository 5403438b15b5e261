"""Administration, OCOP certificates (issue 14): record, renew or upgrade, revoke, expiring soon.

Stories first (an administrator at the screens), then the service rules they rest on.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from shop.catalog import certificates, listing
from shop.catalog.enums import CertificateStatus
from shop.catalog.models import Certificate, Product
from shop.errors import InvalidFields, InvalidTransition
from shop.extensions import db
from shop.inventory import services as inventory
from shop.orders import services as orders
from shop.timeutil import today_vn

from accounts_helpers import make_user, sign_in
from test_orders import CUSTOMER, DELIVERY, cart_with


def _input(**over) -> certificates.CertificateInput:
    values = dict(stars=4, score=75, kind="new", decision_number="123/QĐ-UBND", issuing_body="UBND tỉnh Thái Nguyên",
                  level="province", legal_basis="148/QĐ-TTg", product_name_certified="Gạo Nếp Tài",
                  producer_name_certified="HTX Yến Dương", issued_on=today_vn() - timedelta(days=10), expires_on=None)
    values.update(over)
    return certificates.CertificateInput(**values)


def _form(**over) -> dict:
    data = {"kind": "new", "stars": "4", "score": "75", "decision_number": "123/QĐ-UBND",
            "issuing_body": "UBND tỉnh Thái Nguyên", "level": "province", "legal_basis": "148/QĐ-TTg",
            "product_name_certified": "Gạo Nếp Tài", "producer_name_certified": "HTX Yến Dương",
            "issued_on": (today_vn() - timedelta(days=10)).isoformat(), "expires_on": ""}
    data.update(over)
    return data


@pytest.fixture
def admin_client(client):
    make_user("admin", email="admin@example.vn")
    assert sign_in(client, "admin@example.vn").status_code == 302
    client.set_cookie("lang", "en")  # the messages asserted below are the English ones
    return client


def _count(model) -> int:
    return db.session.query(model).count()


# ---- stories at the screens ---------------------------------------------------------------------

def test_admin_records_a_first_certificate_and_the_product_goes_on_sale(admin_client, make_product):
    product = make_product("Gạo Nếp Tài", stars=None)
    db.session.commit()
    assert product.current_stars is None
    response = admin_client.post(f"/admin/products/{product.slug}/certificates", data=_form())
    assert response.status_code == 302
    db.session.expire_all()
    cert = db.session.get(Product, product.id).certificates[0]
    assert (cert.stars, cert.score, cert.status) == (4, 75, CertificateStatus.ACTIVE)
    assert cert.expires_on == certificates.add_months(cert.issued_on, 36) - timedelta(days=1)
    assert db.session.get(Product, product.id).current_stars == 4
    page = admin_client.get(f"/admin/products/{product.slug}/certificates").get_data(as_text=True)
    assert "123/QĐ-UBND" in page


@pytest.mark.parametrize("field, value, message", [
    ("score", "101", "from 0 to 100"),
    ("score", "abc", "whole number"),
    ("score", "60", "70–89"),
    ("stars", "6", "3, 4 or 5"),
    ("expires_on", "2000-01-01", "after the issue date"),
    ("issued_on", "not a date", "YYYY-MM-DD"),
    ("decision_number", "", "Required"),
])
def test_bad_input_is_a_form_error_and_changes_nothing(admin_client, make_product, field, value, message):
    product = make_product("Gạo Nếp Tài", stars=None)
    db.session.commit()
    before = _count(Certificate)
    response = admin_client.post(f"/admin/products/{product.slug}/certificates", data=_form(**{field: value}))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'role="alert"' in page
    assert _count(Certificate) == before


def test_admin_revokes_and_the_product_leaves_sale_and_its_open_order_is_flagged(admin_client, make_product,
                                                                                   make_shop):
    shop = make_shop(ships_online=True)
    product = make_product("Rượu men lá Thanh Tâm", stars=4)
    db.session.commit()
    inventory.receive(shop.id, product.id, 5)
    db.session.commit()
    order = orders.place_order(cart_with((product, 1)), CUSTOMER, DELIVERY, "cod")
    db.session.commit()
    cert = product.certificates[0]
    response = admin_client.post(f"/admin/certificates/{cert.id}/revoke", data={
        "revoke-revocation_decision": "99/QĐ-UBND", "revoke-revoked_on": today_vn().isoformat(),
        "revoke-revocation_reason": "Vi phạm an toàn thực phẩm"}, follow_redirects=True)
    assert response.status_code == 200
    assert order.number in response.get_data(as_text=True)
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert product.certificates[0].status is CertificateStatus.REVOKED
    assert product.current_stars is None and not product.sellable
    assert db.session.scalar(db.select(Product.id).where(listing.sellable_clause(), Product.id == product.id)) is None
    assert admin_client.get(f"/products/{product.slug}").status_code == 200  # the page stays, without an offer
    flagged = orders.get_by_number(order.number)
    assert flagged.needs_review and "revoked" in flagged.review_reason


def test_a_revocation_without_reason_or_in_the_future_changes_nothing(admin_client, make_product):
    product = make_product("Trà hoa vàng", stars=4)
    db.session.commit()
    cert = product.certificates[0]
    response = admin_client.post(f"/admin/certificates/{cert.id}/revoke", data={
        "revoke-revocation_decision": "99/QĐ-UBND", "revoke-revoked_on": (today_vn() + timedelta(days=3)).isoformat(),
        "revoke-revocation_reason": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "in the future" in page and "Required" in page
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).status is CertificateStatus.ACTIVE


def test_admin_upgrades_and_the_old_certificate_is_superseded(admin_client, make_product):
    product = make_product("Miến dong Tài Hoan", stars=4)
    db.session.commit()
    old = product.certificates[0]
    response = admin_client.post(f"/admin/certificates/{old.id}/renew",
                                 data=_form(kind="upgrade", stars="5", score="92", decision_number="2890/QĐ-BNN"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Certificate, old.id).status is CertificateStatus.SUPERSEDED
    assert db.session.get(Product, product.id).current_stars == 5


def test_the_expiring_list_shows_certificates_ending_within_60_days(admin_client, make_product, make_certificate):
    soon = make_product("Trà nụ vối", stars=None)
    make_certificate(soon, stars=3, issued_on=today_vn() - timedelta(days=1000), expires_on=today_vn() + timedelta(days=20))
    later = make_product("Trà Shan tuyết", stars=None)
    make_certificate(later, stars=3, issued_on=today_vn() - timedelta(days=100), expires_on=today_vn() + timedelta(days=90))
    db.session.commit()
    page = admin_client.get("/admin/certificates/expiring").get_data(as_text=True)
    assert "Trà nụ vối" in page and "Trà Shan tuyết" not in page


def test_only_administrators_reach_the_screens(client, make_product, make_shop):
    product = make_product()
    make_shop(slug="shop-a")
    db.session.commit()
    make_user("staff", email="clerk@example.vn", shops=["shop-a"])
    sign_in(client, "clerk@example.vn")
    assert client.get("/admin/").status_code == 403
    cert = product.certificates[0]
    assert client.post(f"/admin/certificates/{cert.id}/revoke", data={
        "revoke-revocation_decision": "1", "revoke-revoked_on": today_vn().isoformat(),
        "revoke-revocation_reason": "x"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).status is CertificateStatus.ACTIVE


def test_a_revocation_needs_the_csrf_token(app, make_product):
    from config import TestingConfig
    from shop import create_app

    guarded = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        product = make_product()
        cert_id = product.certificates[0].id
        make_user("admin", email="admin@example.vn")
        client = guarded.test_client()
        page = client.get("/account/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/account/sign-in", data={"email": "admin@example.vn", "password": "correct horse battery",
                                               "csrf_token": token})
        data = {"revoke-revocation_decision": "1", "revoke-revoked_on": today_vn().isoformat(),
                "revoke-revocation_reason": "x"}
        assert client.post(f"/admin/certificates/{cert_id}/revoke", data=data).status_code == 400
        db.session.expire_all()
        assert db.session.get(Certificate, cert_id).status is CertificateStatus.ACTIVE
        db.session.remove()


# ---- the service rules --------------------------------------------------------------------------

def test_default_expiry_is_36_months_less_a_day():
    assert certificates.default_expiry(date(2023, 6, 30)) == date(2026, 6, 29)
    assert certificates.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)


def test_score_bands_follow_148(make_product):
    product = make_product(stars=None)
    db.session.commit()
    for stars, score in ((3, 49), (3, 70), (4, 69), (4, 90), (5, 89)):
        with pytest.raises(InvalidFields) as exc:
            certificates.record(product.id, _input(stars=stars, score=score))
        assert "score" in exc.value.errors
    assert certificates.record(product.id, _input(stars=5, score=100)).stars == 5


def test_a_product_with_an_active_certificate_is_renewed_not_recorded_again(make_product):
    product = make_product(stars=4)
    db.session.commit()
    with pytest.raises(InvalidFields) as exc:
        certificates.record(product.id, _input())
    assert "kind" in exc.value.errors


def test_an_upgrade_needs_more_stars_and_a_superseded_one_cannot_be_renewed(make_product):
    product = make_product(stars=4)
    db.session.commit()
    old = product.certificates[0]
    with pytest.raises(InvalidFields):
        certificates.renew(old.id, _input(kind="upgrade", stars=4))
    new = certificates.renew(old.id, _input(kind="re_recognition", stars=4, decision_number="2/QĐ"))
    assert old.status is CertificateStatus.SUPERSEDED and new.status is CertificateStatus.ACTIVE
    with pytest.raises(InvalidTransition):
        certificates.renew(old.id, _input(kind="re_recognition", decision_number="3/QĐ"))


def test_status_transitions_follow_the_table(make_product):
    product = make_product(stars=4)
    db.session.commit()
    cert = product.certificates[0]
    certificates.revoke(cert.id, decision="1/QĐ", revoked_on=today_vn(), reason="production stopped")
    for status, allowed in certificates.TRANSITIONS.items():
        assert (status is CertificateStatus.ACTIVE) == bool(allowed)
    with pytest.raises(InvalidTransition):
        certificates.revoke(cert.id, decision="2/QĐ", revoked_on=today_vn(), reason="again")


def test_the_weekly_digest_goes_to_active_administrators(make_product, make_certificate, make_shop, monkeypatch):
    import shop.mail

    sent = []
    monkeypatch.setattr(shop.mail, "send_mail", lambda to, subject, body: sent.append((to, subject, body)))
    make_user("admin", email="a1@example.vn")
    off = make_user("admin", email="a2@example.vn")
    off.disabled = True
    make_shop(slug="shop-a")
    db.session.commit()
    make_user("staff", email="s@example.vn", shops=["shop-a"])
    db.session.commit()
    assert certificates.send_expiry_digest() == []  # nothing expires soon: no mail
    product = make_product("Trà nụ vối", stars=None)
    db.session.commit()
    make_certificate(product, stars=3, issued_on=today_vn() - timedelta(days=1000),
                     expires_on=today_vn() + timedelta(days=10))
    db.session.commit()
    assert certificates.send_expiry_digest() == ["a1@example.vn"]
    assert len(sent) == 1 and "Trà nụ vối" in sent[0][2]


def test_the_cli_lists_and_queues_the_mail_in_the_outbox(runner, make_product, make_certificate):
    from shop.outbox.models import OutboxMessage

    make_user("admin", email="a1@example.vn")
    product = make_product("Trà nụ vối", stars=None)
    db.session.commit()
    make_certificate(product, stars=3, issued_on=today_vn() - timedelta(days=1000),
                     expires_on=today_vn() + timedelta(days=10))
    db.session.commit()
    result = runner.invoke(args=["certificates", "expiring", "--mail"])
    assert result.exit_code == 0, result.output
    assert product.slug in result.output and "mailed to 1" in result.output
    queued = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.to_address == "a1@example.vn")).all()
    assert len(queued) == 1 and "Trà nụ vối" in queued[0].body
