"""Follow-ups of the producer portal (issue 15): a retired producer's portal is read only and its
waiting proposals end with the retirement; decisions are e-mailed to the producer's people; live
previews are rate-limited per account; Markdown headings are shifted under the page's own."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from shop.admin import producers as producer_admin
from shop.admin.enums import AuditAction, AuditObject
from shop.admin.models import AuditEntry
from shop.extensions import db
from shop.outbox.models import OutboxMessage
from shop.portal import proposals as service
from shop.portal.enums import ProposalState
from shop.portal.models import Proposal

from accounts_helpers import make_user, sign_in


@pytest.fixture
def world(app, make_product, make_producer, make_group):
    from conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    x, y = make_producer(name="HTX Tài Hoan", story="Cũ"), make_producer(name="HTX Bản Cháo")
    group = make_group(code="I.2", name="Nông sản thô, sơ chế", name_en="Raw produce")
    mien = make_product("Miến dong Tài Hoan", producer=x, price=110_000, group=group, description="Mô tả cũ")
    make_product("Chè Shan tuyết", producer=y, price=90_000, group=group)
    db.session.commit()
    people = {"x": make_user("producer", producer=x.slug, name="Anh Tài", email="tai@example.vn"),
              "x2": make_user("producer", producer=x.slug, name="Chị Hoan", email="hoan@example.vn"),
              "gone": make_user("producer", producer=x.slug, name="Cũ", email="gone@example.vn"),
              "y": make_user("producer", producer=y.slug, name="Chị Cháo", email="chao@example.vn"),
              "admin": make_user("admin", name="Chị Hà", email="ha@example.vn")}
    people["gone"].disabled = True
    db.session.commit()
    clients = {}
    for role in ("x", "y", "admin"):
        clients[role] = app.test_client()
        assert sign_in(clients[role], people[role].email).status_code == 302
    return {"x": x, "y": y, "mien": mien, "people": people, "c": clients}


def _mail() -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _propose_price(world, price="125.000"):
    x, mien = world["x"], world["mien"]
    response = world["c"]["x"].post(f"/portal/{x.slug}/products/{mien.slug}/propose", data={
        "change-name": mien.name, "change-name_en": "", "change-unit": mien.unit, "change-unit_en": "",
        "change-price": price})
    assert response.status_code == 302
    return db.session.scalars(select(Proposal).order_by(Proposal.id.desc())).first()


def _retire(world):
    admin = world["people"]["admin"]
    producer_admin.retire(world["x"].id, actor=admin.display_name, user_id=admin.id)
    db.session.commit()


# ---- 1. a retired producer: read only; its waiting proposals rejected by the retirement ----------

def test_retiring_rejects_the_waiting_proposals_in_the_same_transaction_without_mail(world):
    waiting = _propose_price(world)
    story = service.propose_story(world["x"].id, story="Mới", story_en="", user_id=world["people"]["x"].id)
    db.session.commit()
    other = _propose_price(world, "130.000")  # supersedes the first price proposal
    before_mail = len(_mail())
    _retire(world)
    for proposal in (waiting, story, other):
        db.session.refresh(proposal)
    assert waiting.state is ProposalState.SUPERSEDED  # it had ended already: left as it was
    assert story.state is other.state is ProposalState.REJECTED
    assert story.note == other.note == service.RETIRED_NOTE
    assert other.decided_by == world["people"]["admin"].id and other.decided_at is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == AuditObject.PRODUCER,
                                                       AuditEntry.action == AuditAction.RETIRE))
    assert entry.after["proposals_rejected"] == [story.id, other.id]
    assert len(_mail()) == before_mail  # the retirement is not e-mailed proposal by proposal
    page = world["c"]["x"].get(f"/portal/{world['x'].slug}/proposals")
    assert page.status_code == 200 and "chủ thể đã ngừng hoạt động" in page.get_data(as_text=True)
    english = world["c"]["x"].get(f"/portal/{world['x'].slug}/proposals?lang=en").get_data(as_text=True)
    assert "producer retired" in english


def test_a_failed_retirement_rejects_nothing(world):
    proposal = _propose_price(world)
    _retire(world)
    from shop.errors import InvalidTransition

    with pytest.raises(InvalidTransition):
        producer_admin.retire(world["x"].id)
    db.session.rollback()
    db.session.refresh(proposal)
    assert proposal.state is ProposalState.REJECTED


def test_a_retired_producer_reads_its_portal_with_a_banner_but_the_forms_are_gone(world):
    _retire(world)
    x, mien, c = world["x"], world["mien"], world["c"]["x"]
    for path in ("", "/stock", "/sales", "/proposals", "/story", f"/products/{mien.slug}",
                 f"/products/{mien.slug}/photos"):
        response = c.get(f"/portal/{x.slug}{path}")
        page = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert "Chủ thể này đã ngừng hoạt động" in page and "Văn phòng OCOP tỉnh" in page, path
        assert 'method="post"' not in page.replace('action="/account/sign-out"', ""), path
    english = c.get(f"/portal/{x.slug}/story?lang=en").get_data(as_text=True)
    assert "This producer is retired" in english and "contact the provincial OCOP office" in english
    assert "Cũ" in c.get(f"/portal/{x.slug}/story").get_data(as_text=True)  # the story, read only


def _change_posts(world):
    x, mien = world["x"], world["mien"]
    jpeg = io.BytesIO(b"\xff\xd8\xff\xe0" + b"0" * 100)
    base = f"/portal/{x.slug}"
    return [
        (f"{base}/story", {"story": "Mới", "story_en": "", "action": "save"}),
        (f"{base}/story", {"story": "Mới", "story_en": "", "action": "preview"}),
        (f"{base}/products/{mien.slug}", {"description": "Mới", "description_en": "", "action": "save"}),
        (f"{base}/products/{mien.slug}/propose", {"change-name": mien.name, "change-unit": mien.unit,
                                                  "change-price": "125.000"}),
        (f"{base}/proposals", {"name": "Miến mới", "group": "I.2", "unit": "gói", "price": "50000"}),
        (f"{base}/products/{mien.slug}/photos", {"photo": (jpeg, "a.jpg")}),
        (f"{base}/cover", {"photo": (io.BytesIO(jpeg.getvalue()), "a.jpg")}),
        (f"{base}/products/{mien.slug}/photos/1/first", {}),
        (f"{base}/products/{mien.slug}/photos/1/remove", {}),
    ]


def test_every_change_of_a_retired_producer_is_a_409_in_the_pages_language_and_nothing_is_written(world):
    _retire(world)
    x, c = world["x"], world["c"]["x"]
    proposals_before = db.session.scalar(select(db.func.count()).select_from(Proposal))
    for url, data in _change_posts(world):
        response = c.post(url, data=data, content_type="multipart/form-data")
        assert response.status_code == 409, url
        assert "Không có gì thay đổi: chủ thể này đã ngừng hoạt động" in response.get_data(as_text=True), url
    for url, data in _change_posts(world):
        response = c.post(url + "?lang=en", data=data, content_type="multipart/form-data")
        assert response.status_code == 409 and "Nothing was changed: this producer is retired" in \
            response.get_data(as_text=True), url
    db.session.rollback()
    db.session.refresh(x)
    db.session.refresh(world["mien"])
    assert x.story == "Cũ" and x.cover_image in (None, "") and world["mien"].description == "Mô tả cũ"
    assert db.session.scalar(select(db.func.count()).select_from(Proposal)) == proposals_before


def test_a_retired_producers_user_still_withdraws_a_waiting_proposal_and_gets_404_elsewhere(world):
    _retire(world)
    x, y, c = world["x"], world["y"], world["c"]["x"]
    # A proposal left waiting (written by the service directly: the portal would refuse it now).
    proposal = service.propose_story(x.id, story="Mới", story_en="", user_id=world["people"]["x"].id)
    db.session.commit()
    assert c.post(f"/portal/{x.slug}/proposals/{proposal.id}/withdraw").status_code == 302
    db.session.refresh(proposal)
    assert proposal.state is ProposalState.WITHDRAWN
    # Another producer's page is still a 404, not a 409: the scope is checked first.
    assert c.post(f"/portal/{y.slug}/story", data={"story": "x", "action": "save"}).status_code == 404
    assert c.post("/portal/no-such-producer/story", data={"story": "x", "action": "save"}).status_code == 404


def test_an_administrator_still_acts_on_a_retired_producer(world):
    _retire(world)
    x, admin = world["x"], world["c"]["admin"]
    page = admin.get(f"/portal/{x.slug}/story").get_data(as_text=True)
    assert "Là quản trị viên, bạn vẫn thay đổi được" in page and 'name="story"' in page
    response = admin.post(f"/portal/{x.slug}/story", data={"story": "Câu chuyện mới", "story_en": "",
                                                           "action": "save"})
    assert response.status_code == 302
    (proposal,) = db.session.scalars(select(Proposal).where(Proposal.state == ProposalState.PENDING)).all()
    assert admin.post(f"/admin/proposals/{proposal.id}/approve", data={"note": ""}).status_code == 302
    db.session.refresh(x)
    assert x.story == "Câu chuyện mới"


# ---- 2. decisions are e-mailed to the producer's active users ------------------------------------

def test_an_approval_is_mailed_to_the_producers_active_users_in_vietnamese_with_note_and_link(world):
    proposal = _propose_price(world)
    before = len(_mail())
    admin = world["c"]["admin"]
    assert admin.post(f"/admin/proposals/{proposal.id}/approve?lang=en", data={"note": "Đồng ý, từ tháng 1"}
                      ).status_code == 302
    mails = _mail()[before:]
    assert sorted(m.to_address for m in mails) == ["hoan@example.vn", "tai@example.vn"]  # not disabled, not y
    for mail in mails:
        assert f"Đề xuất #{proposal.id} đã được duyệt" in mail.subject  # vi, whatever the admin's page language
        assert "đã duyệt đề xuất" in mail.body and "Đồng ý, từ tháng 1" in mail.body
        assert f"/portal/{world['x'].slug}/proposals#proposal-{proposal.id}" in mail.body
        assert "Miến dong Tài Hoan" in mail.body


def test_a_rejection_is_mailed_with_its_note_and_a_refused_decision_mails_nothing(world):
    proposal = _propose_price(world)
    admin = world["c"]["admin"]
    before = len(_mail())
    assert admin.post(f"/admin/proposals/{proposal.id}/reject", data={"note": ""}).status_code == 400
    assert len(_mail()) == before  # no note: nothing decided, nothing queued
    assert admin.post(f"/admin/proposals/{proposal.id}/reject", data={"note": "Giá cao quá"}).status_code == 302
    mails = _mail()[before:]
    assert len(mails) == 2
    assert all("bị từ chối" in m.subject and "Giá cao quá" in m.body and "từ chối đề xuất" in m.body
               for m in mails)
    assert admin.post(f"/admin/proposals/{proposal.id}/approve", data={"note": ""}).status_code == 409
    assert len(_mail()) == before + 2


def test_the_decision_mail_is_written_in_the_decisions_transaction(world, monkeypatch):
    proposal = _propose_price(world)
    before = len(_mail())
    admin = world["people"]["admin"]
    with world["c"]["admin"].application.test_request_context():
        service.decide(proposal.id, approve=False, note="Không", decider=admin)
        db.session.rollback()  # the decision is not committed: neither is its mail
    assert len(_mail()) == before
    db.session.refresh(proposal)
    assert proposal.state is ProposalState.PENDING


# ---- 3. live previews, rate-limited per account -------------------------------------------------

@pytest.fixture
def limited_app(app):
    from config import TestingConfig
    from shop import create_app
    from shop.extensions import limiter

    was_enabled = limiter.enabled
    limited = create_app(TestingConfig, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                         SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         PREVIEW_RATE_LIMIT="3 per minute")
    from conftest import IsolatedClient

    limited.test_client_class = IsolatedClient
    try:
        with limited.app_context():
            yield limited
            db.session.remove()
    finally:
        limiter.reset()
        limiter.enabled = was_enabled


def test_previews_are_limited_per_account_with_a_clear_429(limited_app, make_producer):
    producer = make_producer(name="HTX Tài Hoan")
    db.session.commit()
    one, two = (make_user("producer", producer=producer.slug) for _ in range(2))
    first, second = limited_app.test_client(), limited_app.test_client()
    assert sign_in(first, one.email).status_code == 302 and sign_in(second, two.email).status_code == 302
    codes = [first.post("/portal/preview", data={"text": "**a**"}).status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    refused = first.post("/portal/preview", data={"text": "**a**"})
    assert refused.status_code == 429 and "Xem trước quá nhiều lần" in refused.get_data(as_text=True)
    english = first.post("/portal/preview?lang=en", data={"text": "**a**"})
    assert english.status_code == 429 and "Too many previews" in english.get_data(as_text=True)
    assert second.post("/portal/preview", data={"text": "**a**"}).status_code == 200  # another account


def test_the_preview_limit_is_a_setting():
    from config import Config

    assert Config.PREVIEW_RATE_LIMIT == "60 per minute"


# ---- 4. Markdown headings under the page's own ------------------------------------------------

@pytest.mark.parametrize("text, tag", [("# Một", "h3"), ("## Hai", "h3"), ("### Ba", "h4"), ("#### Bốn", "h4"),
                                       ("###### Sáu", "h4"), ("Setext\n======", "h3"), ("Setext\n------", "h3")])
def test_headings_are_shifted_under_the_pages_own(app, text, tag):
    from shop.markup import render_markdown

    html = str(render_markdown(text))
    assert html.startswith(f"<{tag}>") and html.endswith(f"</{tag}>")
    assert "<h1" not in html and "<h2" not in html


def test_shifted_headings_are_still_sanitised(app):
    from shop.markup import render_markdown

    html = str(render_markdown('# Chào <script>alert(1)</script> [x](javascript:alert(1))\n\n<h1 onclick="x">raw</h1>'))
    assert html.startswith("<h3>") and "<script" not in html and "javascript:" not in html
    assert "<h1" not in html and "onclick" not in html and "raw" in html
