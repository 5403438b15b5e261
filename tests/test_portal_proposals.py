"""Producers propose, administrators decide (issue 15): price changes, product fields, new
products, text edits without the publish-at-once flag; how each proposal ends."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from shop.admin.enums import AuditAction, AuditObject
from shop.admin.models import AuditEntry
from shop.catalog.models import Product
from shop.extensions import db
from shop.portal.enums import ProposalKind, ProposalState
from shop.portal.models import Proposal

from accounts_helpers import make_user, sign_in


@pytest.fixture
def world(app, make_product, make_producer, make_group):
    from conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    x, y = make_producer(name="HTX Tài Hoan", story="Cũ"), make_producer(name="HTX Bản Cháo")
    group = make_group(code="I.2", name="Nông sản thô, sơ chế", name_en="Raw produce")
    mien = make_product("Miến dong Tài Hoan", producer=x, price=110_000, group=group, description="Mô tả cũ")
    che = make_product("Chè Shan tuyết", producer=y, price=90_000, group=group)
    db.session.commit()
    people = {"x": make_user("producer", producer=x.slug, name="Anh Tài"),
              "y": make_user("producer", producer=y.slug, name="Chị Cháo"),
              "admin": make_user("admin", name="Chị Hà")}
    clients = {}
    for role in ("x", "y", "admin"):
        clients[role] = app.test_client()
        assert sign_in(clients[role], people[role].email).status_code == 302
    return {"x": x, "y": y, "mien": mien, "che": che, "group": group, "people": people, "c": clients}


def _proposals(**by):
    return list(db.session.scalars(select(Proposal).filter_by(**by).order_by(Proposal.id)))


def test_a_price_proposal_is_approved_and_the_audit_names_both_people(world):
    x, mien, c = world["x"], world["mien"], world["c"]
    response = c["x"].post(f"/portal/{x.slug}/products/{mien.slug}/propose", data={
        "change-name": mien.name, "change-name_en": "", "change-unit": mien.unit, "change-unit_en": "",
        "change-price": "125.000"})
    assert response.status_code == 302
    (proposal,) = _proposals()
    assert proposal.kind is ProposalKind.PRICE and proposal.changes == {"price": 125_000}
    assert proposal.before == {"price": 110_000} and proposal.state is ProposalState.PENDING
    db.session.refresh(mien)
    assert mien.price == 110_000  # not before approval
    queue = c["admin"].get("/admin/proposals").get_data(as_text=True)
    assert "125.000" in queue and "Anh Tài" in queue
    assert c["admin"].post(f"/admin/proposals/{proposal.id}/approve", data={"note": "Đồng ý"}).status_code == 302
    db.session.refresh(mien)
    db.session.refresh(proposal)
    assert mien.price == 125_000 and proposal.state is ProposalState.APPROVED
    assert proposal.decided_by == world["people"]["admin"].id and proposal.proposed_by == world["people"]["x"].id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == AuditObject.PRODUCT,
                                                       AuditEntry.object_id == mien.id))
    assert entry.user_id == world["people"]["admin"].id
    assert entry.actor == f"Chị Hà (proposal #{proposal.id} by Anh Tài)"
    assert entry.before == {"price": 110_000} and entry.after == {"price": 125_000}
    page = c["x"].get(f"/portal/{x.slug}/proposals").get_data(as_text=True)
    assert "Đã duyệt" in page and "Đồng ý" in page
    assert "125.000" in c["x"].get(f"/products/{mien.slug}").get_data(as_text=True)


@pytest.mark.parametrize("price, message, english", [
    ("-5000", "không kèm dấu", "without a sign"), ("mười nghìn", "Nhập số tiền bằng đồng", "Enter an amount in đồng"),
    ("12,5", "không có phần thập phân", "without a decimal part"), ("999999999", "100.000.000", "100,000,000"),
    ("", "Nhập số tiền bằng đồng", "Enter an amount in đồng")])
def test_a_bad_price_is_refused_in_the_pages_language_and_nothing_is_proposed(world, price, message, english):
    x, mien, c = world["x"], world["mien"], world["c"]
    data = {"change-name": mien.name, "change-unit": mien.unit, "change-price": price}
    response = c["x"].post(f"/portal/{x.slug}/products/{mien.slug}/propose", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    answer = c["x"].post(f"/portal/{x.slug}/products/{mien.slug}/propose?lang=en", data=data)
    assert answer.status_code == 400 and english in answer.get_data(as_text=True)
    assert _proposals() == []


def test_stars_certificates_and_listing_are_never_proposed_or_changed(world):
    x, mien, c = world["x"], world["mien"], world["c"]
    stars_before = mien.current_stars
    c["x"].post(f"/portal/{x.slug}/products/{mien.slug}/propose", data={
        "change-name": mien.name, "change-unit": mien.unit, "change-price": "120000", "change-stars": "5",
        "change-current_stars": "5", "change-listed": "", "stars": "5", "listed": "", "certificate": "1"})
    (proposal,) = _proposals()
    assert set(proposal.changes) == {"price"}
    c["admin"].post(f"/admin/proposals/{proposal.id}/approve", data={})
    db.session.refresh(mien)
    assert mien.current_stars == stars_before and mien.listed is True and len(mien.certificates) == 1


def test_a_newer_proposal_for_the_same_field_supersedes_the_waiting_one(world):
    x, mien, c = world["x"], world["mien"], world["c"]
    url = f"/portal/{x.slug}/products/{mien.slug}/propose"
    base = {"change-name": mien.name, "change-unit": mien.unit}
    c["x"].post(url, data={**base, "change-price": "120000"})
    c["x"].post(url, data={**base, "change-price": "130000", "change-unit": "túi 1 kg"})
    first, second = _proposals()
    assert first.state is ProposalState.SUPERSEDED and first.superseded_by == second.id
    assert second.state is ProposalState.PENDING and second.changes == {"price": 130_000, "unit": "túi 1 kg"}
    assert c["admin"].post(f"/admin/proposals/{first.id}/approve", data={}).status_code == 409
    db.session.refresh(mien)
    assert mien.price == 110_000


def test_a_rejection_needs_a_note_and_the_producer_sees_it(world):
    x, mien, c = world["x"], world["mien"], world["c"]
    c["x"].post(f"/portal/{x.slug}/products/{mien.slug}/propose", data={
        "change-name": "Miến dong Tài Hoan loại 1", "change-unit": mien.unit, "change-price": "110000"})
    (proposal,) = _proposals()
    assert proposal.kind is ProposalKind.PRODUCT
    refused = c["admin"].post(f"/admin/proposals/{proposal.id}/reject", data={"note": ""})
    assert refused.status_code == 400 and "Hãy ghi lý do" in refused.get_data(as_text=True)
    db.session.refresh(proposal)
    assert proposal.state is ProposalState.PENDING
    c["admin"].post(f"/admin/proposals/{proposal.id}/reject", data={"note": "Tên phải như trên giấy chứng nhận."})
    db.session.refresh(proposal)
    db.session.refresh(mien)
    assert proposal.state is ProposalState.REJECTED and mien.name == "Miến dong Tài Hoan"
    page = c["x"].get(f"/portal/{x.slug}/proposals").get_data(as_text=True)
    assert "Bị từ chối" in page and "Tên phải như trên giấy chứng nhận." in page


def test_the_producer_withdraws_a_waiting_proposal_but_not_a_decided_one(world):
    x, mien, c = world["x"], world["mien"], world["c"]
    url = f"/portal/{x.slug}/products/{mien.slug}/propose"
    c["x"].post(url, data={"change-name": mien.name, "change-unit": mien.unit, "change-price": "99000"})
    (proposal,) = _proposals()
    assert c["x"].post(f"/portal/{x.slug}/proposals/{proposal.id}/withdraw").status_code == 302
    db.session.refresh(proposal)
    assert proposal.state is ProposalState.WITHDRAWN
    assert c["x"].post(f"/portal/{x.slug}/proposals/{proposal.id}/withdraw").status_code == 303
    assert c["admin"].post(f"/admin/proposals/{proposal.id}/approve", data={}).status_code == 409


def test_text_edits_wait_for_review_unless_the_administrator_allows_them(world):
    x, mien, c = world["x"], world["mien"], world["c"]
    c["x"].post(f"/portal/{x.slug}/story", data={"story": "Mới **hơn**", "story_en": "", "action": "save"})
    (story,) = _proposals()
    db.session.refresh(x)
    assert story.kind is ProposalKind.STORY and x.story == "Cũ"
    c["x"].post(f"/portal/{x.slug}/products/{mien.slug}", data={
        "description": "Dai, ngon", "description_en": "", "action": "save"})
    description = _proposals(kind=ProposalKind.DESCRIPTION)[0]
    c["admin"].post(f"/admin/proposals/{story.id}/approve", data={})
    c["admin"].post(f"/admin/proposals/{description.id}/approve", data={})
    db.session.refresh(x)
    db.session.refresh(mien)
    assert x.story == "Mới **hơn**" and mien.description == "Dai, ngon"
    story_entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == AuditObject.PRODUCER))
    assert story_entry.actor == f"Chị Hà (proposal #{story.id} by Anh Tài)"
    # The administrator lets this producer publish text edits at once.
    assert c["admin"].post(f"/admin/producers/{x.slug}/text-edits", data={"allowed": "1"}).status_code == 302
    db.session.refresh(x)
    assert x.text_edits_publish is True
    c["x"].post(f"/portal/{x.slug}/story", data={"story": "Ngay lập tức", "story_en": "", "action": "save"})
    db.session.refresh(x)
    assert x.story == "Ngay lập tức" and len(_proposals(kind=ProposalKind.STORY)) == 1
    # …but prices still wait.
    c["x"].post(f"/portal/{x.slug}/products/{mien.slug}/propose", data={
        "change-name": mien.name, "change-unit": mien.unit, "change-price": "1000"})
    db.session.refresh(mien)
    assert mien.price == 110_000
    # The flag is the administrator's: a producer posting to it gets a 403.
    assert c["x"].post(f"/admin/producers/{x.slug}/text-edits", data={"allowed": "1"}).status_code == 403


def test_a_new_product_is_created_unlisted_on_approval(world):
    x, c = world["x"], world["c"]
    response = c["x"].post(f"/portal/{x.slug}/proposals", data={
        "name": "Miến dong nguyên chất", "name_en": "Pure arrowroot noodles", "group": "I.2", "unit": "túi 500 g",
        "unit_en": "", "price": "85.000", "description": "Làm tay", "description_en": ""})
    assert response.status_code == 302
    (proposal,) = _proposals()
    assert proposal.kind is ProposalKind.NEW_PRODUCT and proposal.product_id is None
    c["admin"].post(f"/admin/proposals/{proposal.id}/approve", data={})
    db.session.refresh(proposal)
    product = db.session.get(Product, proposal.product_id)
    assert product.producer_id == x.id and product.price == 85_000 and product.listed is False
    assert product.certificates == [] and product.name_en == "Pure arrowroot noodles"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == AuditAction.CREATE))
    assert entry.object_id == product.id and "by Anh Tài" in entry.actor


def test_a_new_product_needs_a_name_a_known_group_and_a_price(world):
    x, c = world["x"], world["c"]
    response = c["x"].post(f"/portal/{x.slug}/proposals", data={"name": "", "group": "VII.9", "price": "-1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Vui lòng điền" in page and "nhóm OCOP" in page
    assert _proposals() == []


def test_another_producers_proposals_are_a_404_even_by_guessed_ids(world):
    x, y, che, c = world["x"], world["y"], world["che"], world["c"]
    c["y"].post(f"/portal/{y.slug}/products/{che.slug}/propose", data={
        "change-name": che.name, "change-unit": che.unit, "change-price": "95000"})
    (theirs,) = _proposals()
    assert c["x"].get(f"/portal/{y.slug}/proposals").status_code == 404
    assert c["x"].post(f"/portal/{y.slug}/proposals/{theirs.id}/withdraw").status_code == 404
    assert c["x"].post(f"/portal/{x.slug}/proposals/{theirs.id}/withdraw").status_code == 404
    assert c["x"].post(f"/portal/{x.slug}/products/{che.slug}/propose", data={"change-price": "1"}).status_code == 404
    assert c["x"].post(f"/portal/{x.slug}/proposals/2147483647/withdraw").status_code == 404
    assert f'id="proposal-{theirs.id}"' not in c["x"].get(f"/portal/{x.slug}/proposals").get_data(as_text=True)
    db.session.refresh(theirs)
    assert theirs.state is ProposalState.PENDING


def test_only_administrators_decide(world, app, make_shop):
    from conftest import IsolatedClient

    make_shop(slug="shop-a")
    db.session.commit()
    x, mien, c = world["x"], world["mien"], world["c"]
    c["x"].post(f"/portal/{x.slug}/products/{mien.slug}/propose", data={
        "change-name": mien.name, "change-unit": mien.unit, "change-price": "99000"})
    (proposal,) = _proposals()
    app.test_client_class = IsolatedClient
    manager = app.test_client()
    sign_in(manager, make_user("staff", shops=["shop-a"], shop_role="manager").email)
    for client in (c["x"], manager):
        assert client.get("/admin/proposals").status_code == 403
        assert client.post(f"/admin/proposals/{proposal.id}/approve", data={}).status_code == 403
    db.session.refresh(proposal)
    assert proposal.state is ProposalState.PENDING


def test_an_empty_unit_is_refused_and_empty_english_fields_mean_no_change(world):
    x, mien, c = world["x"], world["mien"], world["c"]
    mien.name_en, mien.unit_en = "Arrowroot noodles", "500 g bag"
    db.session.commit()
    url = f"/portal/{x.slug}/products/{mien.slug}/propose"
    refused = c["x"].post(url, data={"change-name": mien.name, "change-name_en": "", "change-unit": " ",
                                     "change-unit_en": "", "change-price": "110000"})
    assert refused.status_code == 400 and "Vui lòng điền" in refused.get_data(as_text=True)
    assert _proposals() == []
    nothing = c["x"].post(url, data={"change-name": mien.name, "change-name_en": "", "change-unit": mien.unit,
                                     "change-unit_en": "", "change-price": "110000"})
    assert nothing.status_code == 400 and _proposals() == []  # nothing to propose: empty is not an erase
    assert c["x"].post(url, data={"change-name": mien.name, "change-name_en": "", "change-unit": mien.unit,
                                  "change-unit_en": "", "change-price": "120000"}).status_code == 302
    (proposal,) = _proposals()
    assert proposal.changes == {"price": 120_000}
    assert c["admin"].post(f"/admin/proposals/{proposal.id}/approve", data={}).status_code == 302
    db.session.refresh(mien)
    assert (mien.name_en, mien.unit, mien.unit_en, mien.price) == ("Arrowroot noodles", "túi 500 g", "500 g bag",
                                                                   120_000)


def test_a_new_product_needs_a_unit(world):
    x, c = world["x"], world["c"]
    response = c["x"].post(f"/portal/{x.slug}/proposals", data={
        "name": "Miến dong nguyên chất", "group": "I.2", "unit": "", "price": "85.000"})
    assert response.status_code == 400 and "Vui lòng điền" in response.get_data(as_text=True)
    assert _proposals() == []


def test_the_queue_shows_an_erase_unmistakably_and_approval_never_empties_the_unit(world, app):
    x, mien, c = world["x"], world["mien"], world["c"]
    mien.name_en = "Arrowroot noodles"
    # Proposals written before the rule (or a description erase): the queue says "(removed)".
    old = Proposal(producer_id=x.id, product_id=mien.id, kind=ProposalKind.PRODUCT,
                   changes={"unit": "", "name_en": ""}, before={"unit": mien.unit, "name_en": "Arrowroot noodles"},
                   proposed_by=world["people"]["x"].id)
    db.session.add(old)
    db.session.commit()
    queue = c["admin"].get("/admin/proposals").get_data(as_text=True)
    assert queue.count("(xóa)") == 2
    refused = c["admin"].post(f"/admin/proposals/{old.id}/approve", data={})
    assert refused.status_code == 400 and "hãy từ chối" in refused.get_data(as_text=True)
    db.session.refresh(mien)
    db.session.refresh(old)
    assert mien.unit == "túi 500 g" and mien.name_en == "Arrowroot noodles" and old.state is ProposalState.PENDING
