"""Accounts (issue 12): users, sign-in and sign-out, sessions that end, the CLI, the policy, e-mail
links, two-step sign-in, a customer's orders, addresses, cart and closing the account."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from shop.accounts import policy
from shop.accounts import services as accounts
from shop.accounts.models import User
from shop.accounts.policy import Action
from shop.errors import InvalidFields, InvalidInput, NotFound
from shop.extensions import db
from shop.inventory import services as inventory
from shop.orders import services as orders
from shop.orders.models import Order

from accounts_helpers import PASSWORD, make_user, sign_in
from test_orders import CUSTOMER, DELIVERY, cart_with


@pytest.fixture
def outbox(monkeypatch) -> list[str]:
    """The account e-mails sent during the test: "To: <address>" and the body."""
    sent: list[str] = []
    monkeypatch.setattr("shop.accounts.mails.send_mail",
                        lambda to, subject, body: sent.append(f"To: {to}\n{body}"))
    return sent


@pytest.fixture(autouse=True)
def _isolated_clients(app):
    """Every test client of these tests gives each request a fresh ``g`` (the signed-in user is
    remembered there for one request), as production does."""
    from conftest import IsolatedClient

    app.test_client_class = IsolatedClient


def mails(outbox) -> list[str]:
    return outbox


def link_in(text: str, path: str) -> str:
    match = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"[^\s]+)", text)
    assert match, f"no {path} link in {text!r}"
    return match.group(1)


# ---- users ------------------------------------------------------------------------------------


def test_email_is_unique_whatever_its_case_and_stored_lower_case():
    user = make_user(email="Lan@Example.VN")
    assert user.email == "lan@example.vn"
    with pytest.raises(InvalidFields) as exc:
        accounts.create_user("LAN@example.vn", "customer", password=PASSWORD)
    assert "email" in exc.value.errors


def test_passwords_are_argon2id_hashes_and_short_ones_are_refused():
    user = make_user()
    assert user.password_hash.startswith("$argon2id$")
    with pytest.raises(InvalidFields) as exc:
        accounts.create_user("x@example.vn", "customer", password="short")
    assert "password" in exc.value.errors


def test_memberships_must_fit_the_role(make_shop, make_producer):
    shop, producer = make_shop(), make_producer()
    db.session.commit()
    with pytest.raises(InvalidInput):
        accounts.create_user("a@example.vn", "staff", password=PASSWORD)  # no shop
    db.session.rollback()
    with pytest.raises(InvalidInput):
        accounts.create_user("b@example.vn", "customer", password=PASSWORD, shops=[shop.slug])
    db.session.rollback()
    with pytest.raises(InvalidInput):
        accounts.create_user("c@example.vn", "producer", password=PASSWORD)  # no producer
    db.session.rollback()
    clerk = make_user("staff", shops=[shop.slug], shop_role="clerk")
    maker = make_user("producer", producer=producer.slug)
    assert [m.shop_id for m in clerk.memberships] == [shop.id]
    assert maker.producer_membership.producer_id == producer.id


# ---- signing in and out -------------------------------------------------------------------------


def test_sign_in_and_out(client):
    user = make_user(email="lan@example.vn")
    response = sign_in(client, "LAN@example.vn")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/")
    page = client.get("/account/")
    assert page.status_code == 200 and "lan@example.vn" in page.get_data(as_text=True)
    assert "private" in page.headers["Cache-Control"] or "no-store" in page.headers["Cache-Control"]
    home = client.get("/")
    assert "private" in home.headers["Cache-Control"] and "Cookie" in home.headers["Vary"]
    client.post("/account/sign-out")
    assert client.get("/account/").status_code == 302
    db.session.refresh(user)
    assert user.session_version == 2


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(client):
    make_user(email="lan@example.vn")
    wrong = sign_in(client, "lan@example.vn", "not the password")
    unknown = sign_in(client, "nobody@example.vn", "not the password")
    assert wrong.status_code == unknown.status_code == 400

    def strip(response) -> str:  # the address typed and the CSRF token (it carries a time) differ
        text = response.get_data(as_text=True).replace("nobody@example.vn", "").replace("lan@example.vn", "")
        return re.sub(r'name="csrf_token" value="[^"]*"', "", text)

    assert strip(wrong) == strip(unknown)


def test_an_unknown_address_costs_a_password_check_too(client, app, monkeypatch):
    from shop.accounts import passwords

    calls = []
    real = passwords.PasswordHasher.verify
    monkeypatch.setattr(passwords.PasswordHasher, "verify", lambda self, h, p: calls.append(h) or real(self, h, p))
    sign_in(client, "nobody@example.vn", "whatever it is")
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


def test_guests_are_sent_to_sign_in_and_come_back(client):
    make_user("admin", email="boss@example.vn")
    response = client.get("/backoffice/users")
    assert response.status_code == 302 and "/account/sign-in?next=%2Fbackoffice%2Fusers" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert 'value="/backoffice/users"' in page.get_data(as_text=True)
    done = client.post("/account/sign-in", data={"email": "boss@example.vn", "password": PASSWORD,
                                                 "next": "/backoffice/users"})
    assert done.headers["Location"].endswith("/backoffice/users")


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_next_never_leaves_the_site(client, target):
    make_user(email="lan@example.vn")
    done = client.post("/account/sign-in", data={"email": "lan@example.vn", "password": PASSWORD, "next": target})
    assert done.headers["Location"].endswith("/account/")


def test_a_password_change_ends_the_other_sessions(app):
    user = make_user(email="lan@example.vn")
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, "lan@example.vn")
    sign_in(laptop, "lan@example.vn", remember=True)
    assert laptop.get("/account/").status_code == 200
    changed = phone.post("/account/password", data={"current_password": PASSWORD, "new_password": "a brand new secret"})
    assert changed.status_code == 302
    assert phone.get("/account/").status_code == 200  # the session that changed it goes on
    assert laptop.get("/account/").status_code == 302  # session and remember cookie are void
    db.session.refresh(user)
    assert accounts.authenticate("lan@example.vn", "a brand new secret") is not None


def test_remember_me_keeps_the_user_after_the_browser_session_and_sign_out_ends_it(app):
    make_user(email="lan@example.vn")
    browser = app.test_client()
    sign_in(browser, "lan@example.vn", remember=True)
    remember = browser.get_cookie("remember_token")
    assert remember is not None and remember.http_only
    browser.delete_cookie("session")  # the browser was closed
    assert browser.get("/account/").status_code == 200
    other = app.test_client()
    other.set_cookie("remember_token", remember.value)
    browser.post("/account/sign-out")
    assert other.get("/account/").status_code == 302  # a copied cookie died with the sign-out


def test_a_disabled_user_is_signed_out_at_once(client, runner):
    make_user(email="lan@example.vn")
    sign_in(client, "lan@example.vn")
    assert runner.invoke(args=["users", "disable", "lan@example.vn"]).exit_code == 0
    assert client.get("/account/").status_code == 302
    assert sign_in(client, "lan@example.vn").status_code == 400


def test_production_cookies_are_secure(monkeypatch):
    import importlib

    import config

    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    fresh = importlib.reload(config)
    try:
        assert fresh.ProductionConfig.SESSION_COOKIE_SECURE is True
        assert fresh.ProductionConfig.REMEMBER_COOKIE_SECURE is True
        assert fresh.ProductionConfig.TOTP_REQUIRED_FOR_ADMINS is True
        assert fresh.Config.REMEMBER_COOKIE_HTTPONLY is True
    finally:
        importlib.reload(config)


def test_sign_in_needs_the_csrf_token(app):
    from config import TestingConfig
    from shop import create_app

    guarded = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        make_user(email="lan@example.vn")
        client = guarded.test_client()
        assert client.post("/account/sign-in", data={"email": "lan@example.vn", "password": PASSWORD}).status_code == 400
        page = client.get("/account/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        done = client.post("/account/sign-in", data={"email": "lan@example.vn", "password": PASSWORD,
                                                     "csrf_token": token})
        assert done.status_code == 302
        assert client.post("/account/sign-out").status_code == 400  # no token: nothing happens
        db.session.remove()


def test_files_keep_their_own_caching_for_signed_in_people(client):
    make_user(email="lan@example.vn")
    sign_in(client, "lan@example.vn")
    favicon = client.get("/favicon.ico")
    assert "private" not in favicon.headers.get("Cache-Control", "")


def test_the_header_says_who_is_signed_in_and_a_kept_guest_page_is_never_theirs(client):
    make_user(email="lan@example.vn", name="Lan")
    anonymous = client.get("/")
    assert "/account/sign-in" in anonymous.get_data(as_text=True)
    client.get("/")  # kept by the page cache for guests
    sign_in(client, "lan@example.vn")
    page = client.get("/")  # never the guests' copy
    assert 'class="account-link" href="/account/"' in page.get_data(as_text=True)
    assert "/account/sign-in" not in page.get_data(as_text=True)
    assert "/account/sign-out" in client.get("/account/").get_data(as_text=True)
    assert page.headers["Cache-Control"].startswith("private") and "Cookie" in page.headers["Vary"]
    guest = client.application.test_client().get("/")
    assert "/account/sign-in" in guest.get_data(as_text=True)  # and the guests' copy names nobody


# ---- rate limits and lockout --------------------------------------------------------------------


@pytest.fixture
def limited_app(app):
    """The app with rate limits on (memory storage), put back afterwards."""
    from config import TestingConfig
    from shop import create_app
    from shop.extensions import limiter

    was_enabled = limiter.enabled
    limited = create_app(TestingConfig, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                         SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         SIGN_IN_LIMIT_PER_ACCOUNT="3 per 15 minutes", SIGN_IN_LIMIT_PER_ADDRESS="100 per minute",
                         FORGOT_LIMIT_PER_ACCOUNT="2 per hour")
    try:
        with limited.app_context():
            yield limited
            db.session.remove()
    finally:
        limiter.reset()
        limiter.enabled = was_enabled


def test_failed_sign_ins_lock_the_account_for_a_while_but_not_the_mailbox(limited_app, outbox):
    make_user(email="lan@example.vn")
    attacker, owner = limited_app.test_client(), limited_app.test_client()
    for _ in range(3):
        assert sign_in(attacker, "lan@example.vn", "guess guess guess").status_code == 400
    locked = sign_in(owner, "lan@example.vn")
    assert locked.status_code == 429 and "/account/forgot-password" in locked.get_data(as_text=True)
    assert sign_in(owner, "other@example.vn", "x").status_code == 400  # other accounts are not locked
    # The owner gets in through the mailbox: the reset link is not locked.
    owner.post("/account/forgot-password", data={"email": "lan@example.vn"})
    link = link_in(mails(outbox)[-1], "/account/reset/")
    assert owner.post(link, data={"password": "a brand new secret"}).status_code == 302
    assert owner.get("/account/").status_code == 200


def test_reset_links_are_not_sent_to_one_address_without_end(limited_app, outbox):
    make_user(email="lan@example.vn")
    client = limited_app.test_client()
    assert [client.post("/account/forgot-password", data={"email": "lan@example.vn"}).status_code
            for _ in range(3)] == [200, 200, 429]
    assert len(mails(outbox)) == 2
    assert client.post("/account/forgot-password", data={"email": "other@example.vn"}).status_code == 200


def test_successful_sign_ins_do_not_count_towards_the_lockout(limited_app):
    make_user(email="lan@example.vn")
    client = limited_app.test_client()
    for _ in range(5):
        assert sign_in(client, "lan@example.vn").status_code == 302
        client.post("/account/sign-out")


@pytest.fixture
def nat_app(app):
    """Rate limits on with the shipped per-address sign-in limit (30 per 10 minutes)."""
    from config import TestingConfig
    from shop import create_app
    from shop.extensions import limiter

    was_enabled = limiter.enabled
    limited = create_app(TestingConfig, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                         SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         SIGN_IN_LIMIT_PER_ACCOUNT="5 per 15 minutes", SIGN_IN_LIMIT_PER_ADDRESS="30 per 10 minutes")
    try:
        with limited.app_context():
            yield limited
            db.session.remove()
    finally:
        limiter.reset()
        limiter.enabled = was_enabled


def test_successful_sign_ins_from_one_address_do_not_lock_it_but_failures_do(nat_app):
    """Several clerks behind one shop's NAT: correct sign-ins never count towards the per-address
    limit; failed ones still do (a guesser trying many accounts from one address)."""
    clerks = [make_user(email=f"clerk{n}@example.vn") for n in range(4)]
    client = nat_app.test_client()
    for n in range(40):
        assert sign_in(client, clerks[n % 4].email).status_code == 302
        client.post("/account/sign-out")
    assert sign_in(client, clerks[0].email).status_code == 302
    client.post("/account/sign-out")
    # 30 failures on 30 different accounts (none reaches its own lockout): the address is limited.
    assert all(sign_in(client, f"guess{n}@example.vn", "wrong wrong wrong").status_code == 400 for n in range(30))
    assert sign_in(client, "guess99@example.vn", "wrong wrong wrong").status_code == 429
    assert sign_in(client, clerks[1].email).status_code == 429


# ---- password reset and e-mail verification -------------------------------------------------------


def test_password_reset_link_works_once_and_the_page_says_the_same_for_unknown_addresses(client, outbox):
    make_user(email="lan@example.vn")
    known = client.post("/account/forgot-password", data={"email": "lan@example.vn"})
    unknown = client.post("/account/forgot-password", data={"email": "nobody@example.vn"})
    assert known.status_code == unknown.status_code == 200
    assert len(mails(outbox)) == 1
    link = link_in(mails(outbox)[0], "/account/reset/")
    assert client.get(link).status_code == 200
    assert client.post(link, data={"password": "short"}).status_code == 400
    assert client.post(link, data={"password": "a brand new secret"}).status_code == 302
    assert client.get(link).status_code == 404  # used
    assert accounts.authenticate("lan@example.vn", "a brand new secret") is not None


def test_password_reset_link_expires(client, app, outbox, monkeypatch):
    user = make_user(email="lan@example.vn")
    token = accounts.reset_token(user)
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", -1)
    assert accounts.user_for_reset(token) is None
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", 3600)
    assert accounts.user_for_reset(token) is user
    assert accounts.user_for_reset(token + "x") is None
    assert client.get("/account/reset/" + "x" * 2000).status_code == 404


def test_registration_verification_and_no_enumeration(client, outbox):
    make_user(email="taken@example.vn")
    new = client.post("/account/register", data={"name": "Lan", "email": "Lan@Example.vn", "password": PASSWORD})
    again = client.post("/account/register", data={"name": "Lan", "email": "taken@example.vn", "password": PASSWORD})
    assert new.status_code == again.status_code == 200
    sent = mails(outbox)
    assert len(sent) == 2 and "/account/forgot-password" in sent[1]
    user = accounts.find_by_email("lan@example.vn")
    assert user.role == "customer" and not user.email_verified
    link = link_in(sent[0], "/account/verify/")
    assert client.get(link).status_code == 200  # a button: mail scanners open links
    assert not db.session.get(User, user.id).email_verified
    client.post(link)
    db.session.refresh(user)
    assert user.email_verified


def test_registration_reports_every_field_error(client):
    page = client.post("/account/register", data={"name": "", "email": "not-an-address", "password": "short"})
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert text.count('class="field__error"') == 3


# ---- two-step sign-in ---------------------------------------------------------------------------


def turn_on_two_step(client, user) -> tuple[str, list[str]]:
    page = client.get("/account/two-step").get_data(as_text=True)
    assert "<svg" in page and "https://" not in page.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org", "")
    secret = re.search(r"<code>([A-Z2-7]{32})</code>", page).group(1)
    done = client.post("/account/two-step", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def test_two_step_sign_in_with_a_code_and_with_a_recovery_code(app):
    admin = make_user("admin", email="boss@example.vn")
    browser = app.test_client()
    sign_in(browser, "boss@example.vn")
    secret, codes = turn_on_two_step(browser, admin)
    db.session.refresh(admin)
    assert admin.two_step_enabled and all(len(c.code_hash) == 64 for c in admin.recovery_codes)
    assert browser.get("/backoffice/").status_code == 200  # this session goes on; others ended

    other = app.test_client()
    first = sign_in(other, "boss@example.vn")
    assert first.headers["Location"].endswith("/account/sign-in/two-step")
    assert other.get("/backoffice/").status_code == 302  # the password alone signs nobody in
    assert other.post("/account/sign-in/two-step", data={"code": "000000"}).status_code == 400
    admin.totp_last_step = None
    db.session.commit()
    done = other.post("/account/sign-in/two-step", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302 and other.get("/backoffice/").status_code == 200

    # A code is accepted once.
    third = app.test_client()
    sign_in(third, "boss@example.vn")
    assert third.post("/account/sign-in/two-step", data={"code": pyotp.TOTP(secret).now()}).status_code == 400
    # A recovery code works once.
    assert third.post("/account/sign-in/two-step", data={"code": codes[0]}).status_code == 302
    fourth = app.test_client()
    sign_in(fourth, "boss@example.vn")
    assert fourth.post("/account/sign-in/two-step", data={"code": codes[0]}).status_code == 400
    assert fourth.post("/account/sign-in/two-step", data={"code": codes[1].upper()}).status_code == 302


def test_administrators_must_set_up_two_step_where_required(client, app, monkeypatch):
    make_user("admin", email="boss@example.vn")
    monkeypatch.setitem(app.config, "TOTP_REQUIRED_FOR_ADMINS", True)
    done = sign_in(client, "boss@example.vn")
    assert done.headers["Location"].endswith("/account/two-step")
    assert client.get("/backoffice/users").headers["Location"].endswith("/account/two-step")


def test_customers_have_no_two_step_page(client):
    make_user(email="lan@example.vn")
    sign_in(client, "lan@example.vn")
    assert client.get("/account/two-step").status_code == 403


def test_the_pending_two_step_state_expires(app, monkeypatch):
    from shop.accounts import views

    admin = make_user("admin", email="boss@example.vn")
    accounts.enable_two_step(admin, secret := accounts.new_totp_secret(), pyotp.TOTP(secret).now())
    admin.totp_last_step = None
    db.session.commit()
    browser = app.test_client()
    sign_in(browser, "boss@example.vn")
    monkeypatch.setattr(views, "PENDING_SECONDS", -1)
    late = browser.post("/account/sign-in/two-step", data={"code": pyotp.TOTP(secret).now()})
    assert late.status_code == 302 and late.headers["Location"].endswith("/account/sign-in")


# ---- the CLI ----------------------------------------------------------------------------------------


def test_cli_creates_the_first_administrator_and_staff(runner, make_shop, make_producer):
    shop, producer = make_shop(slug="ba-be"), make_producer()
    result = runner.invoke(args=["users", "create", "Boss@Example.vn", "--role", "admin", "--name", "Chị Hà",
                                 "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert accounts.authenticate("boss@example.vn", PASSWORD).role == "admin"
    result = runner.invoke(args=["users", "create", "clerk@example.vn", "--role", "staff", "--shop", "ba-be",
                                 "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "create", "maker@example.vn", "--role", "producer", "--producer",
                                 producer.slug, "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    bad = runner.invoke(args=["users", "create", "x@example.vn", "--role", "staff", "--shop", "nowhere",
                              "--password-stdin"], input=PASSWORD + "\n")
    assert bad.exit_code != 0 and "nowhere" in bad.output
    short = runner.invoke(args=["users", "create", "y@example.vn", "--role", "customer", "--password-stdin"],
                          input="short\n")
    assert short.exit_code != 0 and "password" in short.output
    prompt = runner.invoke(args=["users", "create", "z@example.vn", "--role", "customer"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompt.exit_code == 0 and PASSWORD not in prompt.output
    listing = runner.invoke(args=["users", "list"]).output
    assert "clerk@example.vn\tstaff\tba-be:clerk" in listing and f"producer:{producer.slug}" in listing
    assert runner.invoke(args=["users", "set-role", "clerk@example.vn", "--role", "staff", "--shop", "ba-be",
                               "--shop-role", "manager"]).exit_code == 0
    assert "ba-be:manager" in runner.invoke(args=["users", "list", "--role", "staff"]).output
    assert runner.invoke(args=["users", "disable", "nobody@example.vn"]).exit_code != 0


# ---- the policy ---------------------------------------------------------------------------------------


def test_the_policy_says_403_for_a_missing_action_and_404_out_of_scope(make_shop, make_producer):
    from werkzeug.exceptions import Forbidden
    from werkzeug.exceptions import NotFound as NotFound404

    a, b = make_shop(slug="a"), make_shop(slug="b")
    x, y = make_producer(), make_producer()
    clerk = make_user("staff", shops=["a"], shop_role="clerk")
    manager = make_user("staff", shops=["a"], shop_role="manager")
    maker = make_user("producer", producer=x.slug)
    admin = make_user("admin")
    assert policy.can(clerk, Action.VIEW_SHOP, a) and not policy.can(clerk, Action.VIEW_SHOP, b)
    with pytest.raises(NotFound404):
        policy.authorize(clerk, Action.VIEW_SHOP, b)
    with pytest.raises(Forbidden):
        policy.authorize(clerk, Action.MANAGE_SHOP, a)
    policy.authorize(manager, Action.MANAGE_SHOP, a)
    with pytest.raises(NotFound404):
        policy.authorize(manager, Action.MANAGE_SHOP, b)
    with pytest.raises(Forbidden):
        policy.authorize(maker, Action.VIEW_SHOP, a)
    policy.authorize(maker, Action.VIEW_PRODUCER, x)
    with pytest.raises(NotFound404):
        policy.authorize(maker, Action.VIEW_PRODUCER, y)
    assert all(policy.can(admin, action, obj) for action, obj in
               [(Action.VIEW_SHOP, b), (Action.MANAGE_SHOP, a), (Action.VIEW_PRODUCER, y), (Action.MANAGE_USERS, None)])
    assert [s.slug for s in db.session.scalars(policy.shops_for(clerk))] == ["a"]
    assert db.session.scalars(policy.shops_for(maker)).all() == []
    assert len(db.session.scalars(policy.shops_for(admin)).all()) == 2
    admin.disabled = True
    assert not policy.can(admin, Action.VIEW_SHOP, a)


# ---- who did it ---------------------------------------------------------------------------------------


def test_changes_made_by_a_signed_in_person_name_them(app, make_product, make_shop):
    from flask_login import login_user

    from shop.inventory.models import StockMovement

    shop, product = make_shop(), make_product()
    clerk = make_user("staff", shops=[shop.slug], name="Chị Hoa")
    with app.test_request_context("/"):
        login_user(clerk)
        inventory.receive(shop.id, product.id, 5)
        db.session.commit()
    movement = db.session.scalars(select(StockMovement)).one()
    assert movement.user_id == clerk.id
    inventory.receive(shop.id, product.id, 1)  # no request: a job or the CLI
    db.session.commit()
    assert db.session.scalars(select(StockMovement.user_id).order_by(StockMovement.id.desc())).first() is None


# ---- customers: orders, reorder, addresses, cart ---------------------------------------------------------


@pytest.fixture
def stocked(make_product, make_shop):
    rice = make_product("Gạo Nếp Tài", stars=4, price=200_000)
    tea = make_product("Chè Shan tuyết", stars=4, price=150_000)
    shop = make_shop(ships_online=True)
    inventory.receive(shop.id, rice.id, 40)
    inventory.receive(shop.id, tea.id, 40)
    db.session.commit()
    return {"rice": rice, "tea": tea, "shop": shop}


def test_history_shows_own_orders_and_guest_orders_with_the_verified_address(client, stocked):
    guest_order = orders.place_order(cart_with((stocked["rice"], 1)), CUSTOMER, DELIVERY, "cod")
    other = orders.place_order(cart_with((stocked["tea"], 1)),
                               orders.Customer(name="Trần Văn Bình", phone="0912345679", email="other@example.vn"), DELIVERY, "cod")
    db.session.commit()
    user = make_user(email="lan@example.vn")
    user.email_verified_at = None
    db.session.commit()
    sign_in(client, "lan@example.vn")
    assert guest_order.number not in client.get("/account/").get_data(as_text=True)  # not verified yet
    user.email_verified_at = guest_order.created_at
    db.session.commit()
    page = client.get("/account/").get_data(as_text=True)
    assert guest_order.number in page and other.number not in page
    assert client.get(f"/backoffice/orders/{other.number}").status_code == 404


def test_a_signed_in_customer_orders_and_finds_the_order_in_the_history(client, stocked):
    make_user(email="minh@example.vn", name="Minh")
    sign_in(client, "minh@example.vn")
    client.post("/cart/add", data={"product_id": stocked["rice"].id, "quantity": 2})
    form = client.get("/orders/checkout").get_data(as_text=True)
    assert 'value="Minh"' in form and 'value="minh@example.vn"' in form
    placed = client.post("/orders/checkout", data={
        "name": "Minh", "phone": "0912345678", "email": "minh@example.vn", "fulfilment": "delivery",
        "street": "12 Trường Chinh", "ward": "Đức Xuân", "province": "Thái Nguyên", "payment_method": "cod"})
    assert placed.status_code == 302
    order = db.session.scalars(select(Order)).one()
    assert order.user_id is not None
    assert order.number in client.get("/account/").get_data(as_text=True)
    event = order.events[0]
    assert event.actor_user_id == order.user_id


def test_reorder_puts_the_lines_back_in_the_cart_and_says_what_could_not_be(client, stocked):
    user = make_user(email="lan@example.vn")
    order = orders.place_order(cart_with((stocked["rice"], 2), (stocked["tea"], 1)), CUSTOMER, DELIVERY, "cod",
                               user_id=user.id)
    db.session.commit()
    stocked["tea"].listed = False
    db.session.commit()
    sign_in(client, "lan@example.vn")
    done = client.post(f"/account/orders/{order.number}/reorder", follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "Gạo Nếp Tài" in text and "Chè Shan tuyết" in text  # added, and the one not on sale said so
    from shop.cart.models import Cart

    cart = db.session.scalars(select(Cart).where(Cart.user_id == user.id, Cart.order_id.is_(None))).one()
    assert [(i.product_id, i.quantity) for i in cart.items] == [(stocked["rice"].id, 2)]
    assert client.post("/account/orders/OC-0000-999999/reorder").status_code == 404


def test_a_guest_cart_survives_sign_in_merged_and_capped(app, stocked):
    from shop.cart.models import Cart

    user = make_user(email="lan@example.vn")
    laptop = app.test_client()
    sign_in(laptop, "lan@example.vn")
    laptop.post("/cart/add", data={"product_id": stocked["rice"].id, "quantity": 40})
    laptop.post("/account/sign-out")  # the cart stays the account's
    phone = app.test_client()
    phone.post("/cart/add", data={"product_id": stocked["rice"].id, "quantity": 30})
    phone.post("/cart/add", data={"product_id": stocked["tea"].id, "quantity": 3})
    stocked["tea"].listed = False  # became unsellable while in the guest cart
    db.session.commit()
    sign_in(phone, "lan@example.vn")
    carts = db.session.scalars(select(Cart).where(Cart.user_id == user.id, Cart.order_id.is_(None))).all()
    assert len(carts) == 1
    lines = {i.product_id: i.quantity for i in carts[0].items}
    assert lines == {stocked["rice"].id: 50, stocked["tea"].id: 3}  # 40 + 30 capped at MAX_LINE_QUANTITY
    page = phone.get("/cart").get_data(as_text=True)
    assert "Chè Shan tuyết" in page
    assert db.session.scalar(select(Cart).where(Cart.user_id.is_(None), Cart.order_id.is_(None))) is None


def test_addresses_are_kept_checked_and_deleted(client):
    user = make_user(email="lan@example.vn")
    sign_in(client, "lan@example.vn")
    bad = client.post("/account/addresses", data={"recipient": "", "phone": "12", "street": "", "ward": "x",
                                                  "province": "y"})
    assert bad.status_code == 400 and bad.get_data(as_text=True).count('class="field__error"') == 3
    ok = client.post("/account/addresses", data={"recipient": "Lan", "phone": "0912 345 678", "street": "12 Trường Chinh",
                                                 "ward": "Đức Xuân", "province": "Thái Nguyên"})
    assert ok.status_code == 302
    db.session.refresh(user)
    assert user.addresses[0].phone == "+84912345678"
    other = make_user(email="b@example.vn")
    theirs = accounts.add_address(other, "B", "0912345679", "1 A", "B", "C")
    db.session.commit()
    assert client.post(f"/account/addresses/{theirs.id}/delete").status_code == 404
    assert client.post(f"/account/addresses/{user.addresses[0].id}/delete").status_code == 302
    db.session.refresh(user)
    assert user.addresses == []


def test_changing_the_email_takes_a_link_to_the_new_address(client, outbox):
    make_user(email="lan@example.vn")
    sign_in(client, "lan@example.vn")
    wrong = client.post("/account/email", data={"new_email": "lan.new@example.vn", "password": "nope nope nope"})
    assert wrong.status_code == 400
    client.post("/account/email", data={"new_email": "Lan.New@example.vn", "password": PASSWORD})
    link = link_in(mails(outbox)[-1], "/account/email/confirm/")
    assert accounts.find_by_email("lan@example.vn") is not None
    client.post(link)
    assert accounts.find_by_email("lan.new@example.vn").email_verified
    assert client.post(link).status_code == 404  # the old address in the link no longer matches


def test_closing_the_account_keeps_orders_and_removes_personal_data(client, stocked):
    user = make_user(email="lan@example.vn", name="Lan")
    accounts.add_address(user, "Lan", "0912345678", "12 Trường Chinh", "Đức Xuân", "Thái Nguyên")
    order = orders.place_order(cart_with((stocked["rice"], 1)), CUSTOMER, DELIVERY, "cod", user_id=user.id)
    db.session.commit()
    sign_in(client, "lan@example.vn")
    assert client.post("/account/delete", data={"password": "wrong wrong wrong"}).status_code == 400
    assert client.post("/account/delete", data={"password": PASSWORD}).status_code == 302
    db.session.refresh(user)
    assert user.deleted_at and user.name == "" and user.password_hash is None and user.addresses == []
    assert "lan" not in user.email and user.display_name == f"#{user.id}"
    db.session.refresh(order)
    assert order.user_id is None and order.email == "lan@example.vn"  # the accounting record stays
    assert client.get("/account/").status_code == 302
    assert accounts.find_by_email("lan@example.vn") is None
    make_user(email="lan@example.vn")  # the address is free again


def test_staff_cannot_close_their_own_account_from_the_web(client, make_shop):
    shop = make_shop()
    make_user("staff", email="hoa@example.vn", shops=[shop.slug])
    sign_in(client, "hoa@example.vn")
    assert client.get("/account/delete").status_code == 403


def test_account_mails_go_through_the_outbox_with_their_change(client):
    """Not the stand-in outbox above: the real one, committed with the account it belongs to."""
    from shop.outbox.models import OutboxMessage

    client.post("/account/register", data={"name": "Lan", "email": "lan@example.vn", "password": PASSWORD})
    client.post("/account/forgot-password", data={"email": "lan@example.vn"})
    client.post("/account/forgot-password", data={"email": "nobody@example.vn"})
    db.session.rollback()
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [r.to_address for r in rows] == ["lan@example.vn", "lan@example.vn"]
    assert "/account/verify/" in rows[0].body and "/account/reset/" in rows[1].body
    assert accounts.find_by_email("lan@example.vn") is not None


def test_asking_who_is_signed_in_leaves_a_guests_session_alone(client, stocked):
    """A guest's session holds its CSRF token; nothing about sign-in may be written into it, or
    every later page of that guest would count as personal and never be kept (shop/pagecache.py)."""
    client.get(f"/products/{stocked['rice'].slug}")  # a form: the CSRF token goes in the session
    client.post("/cart/add", data={"product_id": stocked["rice"].id, "quantity": 1})
    client.get("/orders/checkout")
    client.get("/")
    with client.session_transaction() as session:
        assert not {"_fresh", "_user_id", "_id", "_remember"} & set(session.keys())


def test_an_administrator_creates_a_clerk_from_the_web_who_chooses_a_password_by_mail(client, outbox, make_shop):
    shop = make_shop(slug="ba-be")
    db.session.commit()
    make_user("admin", email="boss@example.vn")
    sign_in(client, "boss@example.vn")
    bad = client.post("/backoffice/users", data={"email": "nope", "role": "staff", "shop_role": "clerk"})
    assert bad.status_code == 400 and 'class="field__error"' in bad.get_data(as_text=True)
    done = client.post("/backoffice/users", data={"email": "Hoa@Example.vn", "name": "Chị Hoa", "role": "staff",
                                                  "shop": [shop.slug], "shop_role": "clerk", "producer": ""})
    assert done.status_code == 302
    hoa = accounts.find_by_email("hoa@example.vn")
    assert hoa.password_hash is None and [m.shop_id for m in hoa.memberships] == [shop.id]
    link = link_in(mails(outbox)[-1], "/account/reset/")
    newcomer = client.application.test_client()
    assert newcomer.post(link, data={"password": "her own secret"}).status_code == 302
    assert newcomer.get(f"/backoffice/shops/{shop.slug}").status_code == 200
