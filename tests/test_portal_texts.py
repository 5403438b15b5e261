"""The producer's story and product descriptions in Markdown, with a preview through the same
sanitiser as the public pages: no script or hostile markup reaches a visitor (issue 15)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from shop.admin.enums import AuditObject
from shop.admin.models import AuditEntry
from shop.extensions import db

from accounts_helpers import make_user, sign_in

HOSTILE = [
    '<script>alert("x")</script>Chào',
    '<img src=x onerror="alert(1)">',
    '[bấm vào đây](javascript:alert(1))',
    '<a href="javascript:alert(1)" onclick="alert(2)">link</a>',
    '<iframe src="https://evil.example"></iframe><style>body{display:none}</style>',
    '<div onmouseover="alert(1)">raw html</div><svg onload="alert(1)"></svg>',
    '[x](JaVaScRiPt:alert(1)) [y](data:text/html;base64,PHNjcmlwdD4=)',
]
# In the sanitised fragment none of these may appear; on a whole page (which has its own pictures
# and icons), none of the attack's own pieces.
FORBIDDEN = ("<script", "onerror", "onclick", "onmouseover", "onload", "javascript:", "<iframe", "<style", "<svg",
             "<img", "data:text")
ON_PAGE = ("<script>alert", "onerror", "onclick", "onmouseover", "onload=", "javascript:", "<iframe", "<style>body",
           "data:text", "evil.example", "raw html</div>")


def _clean(html: str, forbidden=FORBIDDEN) -> bool:
    lowered = html.lower()
    return not any(bad in lowered for bad in forbidden)


@pytest.fixture
def producer_x(client, make_product, make_producer):
    producer = make_producer(name="HTX Tài Hoan", story="Câu chuyện cũ", text_edits_publish=True)
    product = make_product("Miến dong Tài Hoan", producer=producer, description="Mô tả cũ")
    other = make_producer(name="HTX Bản Cháo")
    other_product = make_product("Chè Shan tuyết", producer=other)
    db.session.commit()
    user = make_user("producer", producer=producer.slug, name="Anh Tài")
    assert sign_in(client, user.email).status_code == 302
    return {"producer": producer, "product": product, "other": other, "other_product": other_product, "user": user}


def test_the_story_is_published_with_an_audit_entry_naming_the_producer_user(client, producer_x):
    producer = producer_x["producer"]
    response = client.post(f"/portal/{producer.slug}/story", data={
        "story": "## Xưa\n\nHTX **Tài Hoan** làm miến dong từ 1990.", "story_en": "Since *1990*.", "action": "save"})
    assert response.status_code == 302
    db.session.refresh(producer)
    assert producer.story.startswith("## Xưa") and producer.story_en == "Since *1990*."
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == AuditObject.PRODUCER))
    assert entry.user_id == producer_x["user"].id and entry.actor == "Anh Tài"
    assert entry.before["story"] == "Câu chuyện cũ" and "Tài Hoan" in entry.after["story"]
    public = client.get(f"/producers/{producer.slug}").get_data(as_text=True)
    assert "<strong>Tài Hoan</strong>" in public


def test_the_preview_button_works_without_javascript_and_saves_nothing(client, producer_x):
    producer = producer_x["producer"]
    page = client.post(f"/portal/{producer.slug}/story", data={
        "story": "**mới**", "story_en": "", "action": "preview"}).get_data(as_text=True)
    assert "<strong>mới</strong>" in page
    db.session.refresh(producer)
    assert producer.story == "Câu chuyện cũ"


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markup_is_neutralised_in_the_preview_and_on_the_public_pages(client, producer_x, text):
    preview = client.post("/portal/preview", data={"text": text})
    assert preview.status_code == 200 and preview.content_type.startswith("text/html")
    assert _clean(preview.get_data(as_text=True))
    producer, product = producer_x["producer"], producer_x["product"]
    assert client.post(f"/portal/{producer.slug}/story", data={"story": text, "story_en": text,
                                                               "action": "save"}).status_code == 302
    assert client.post(f"/portal/{producer.slug}/products/{product.slug}", data={
        "description": text, "description_en": text, "action": "save"}).status_code == 302
    for url in (f"/producers/{producer.slug}", f"/products/{product.slug}", f"/producers/{producer.slug}?lang=en"):
        page = client.get(url).get_data(as_text=True)
        assert _clean(page, ON_PAGE), url


def test_a_description_is_published_and_shown_on_the_product_page(client, producer_x):
    producer, product = producer_x["producer"], producer_x["product"]
    response = client.post(f"/portal/{producer.slug}/products/{product.slug}", data={
        "description": "- dai\n- ngon", "description_en": "- chewy", "action": "save"})
    assert response.status_code == 302
    db.session.refresh(product)
    assert product.description == "- dai\n- ngon"
    assert "<li>dai</li>" in client.get(f"/products/{product.slug}").get_data(as_text=True)


def test_a_text_too_long_is_refused_in_the_pages_language_and_nothing_changes(client, producer_x):
    producer = producer_x["producer"]
    long_text = "a" * 20_001
    page = client.post(f"/portal/{producer.slug}/story", data={"story": long_text, "story_en": "",
                                                               "action": "save"})
    assert page.status_code == 400 and "Tối đa 20000 ký tự" in page.get_data(as_text=True)
    page = client.post(f"/portal/{producer.slug}/story?lang=en", data={"story": long_text, "story_en": "",
                                                                       "action": "save"})
    assert "At most 20000 characters" in page.get_data(as_text=True)
    db.session.refresh(producer)
    assert producer.story == "Câu chuyện cũ"
    assert client.post("/portal/preview", data={"text": long_text}).status_code == 400


def test_another_producers_story_and_products_are_a_404(client, producer_x):
    other, other_product = producer_x["other"], producer_x["other_product"]
    mine = producer_x["producer"]
    assert client.get(f"/portal/{other.slug}/story").status_code == 404
    assert client.post(f"/portal/{other.slug}/story", data={"story": "x", "action": "save"}).status_code == 404
    assert client.get(f"/portal/{other.slug}/products/{other_product.slug}").status_code == 404
    # Their product under my slug: still a 404, and nothing written.
    assert client.post(f"/portal/{mine.slug}/products/{other_product.slug}", data={
        "description": "hijack", "action": "save"}).status_code == 404
    db.session.refresh(other_product)
    assert other_product.description != "hijack"


def test_the_editor_page_has_no_inline_script_and_loads_the_preview_script(client, producer_x):
    page = client.get(f"/portal/{producer_x['producer'].slug}/story").get_data(as_text=True)
    assert 'data-preview-url="/portal/preview"' in page and "markdown-preview.js" in page
    assert "<script>" not in page and " onclick=" not in page


def test_the_preview_needs_the_csrf_token(app, producer_x):
    from conftest import IsolatedClient

    app.test_client_class = IsolatedClient
    client = app.test_client()
    sign_in(client, producer_x["user"].email)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post("/portal/preview", data={"text": "**x**"}).status_code == 400
        assert client.post(f"/portal/{producer_x['producer'].slug}/story",
                           data={"story": "x", "action": "save"}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
