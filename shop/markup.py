"""Markdown for producer stories and product descriptions, sanitised with nh3."""
from __future__ import annotations

import html

import markdown as md
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "h3", "h4", "a"}


def render_markdown(text: str | None) -> Markup:
    if not text:
        return Markup("")
    html = md.markdown(text, extensions=["sane_lists"])
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}}, link_rel="nofollow noopener")
    return Markup(clean)


def excerpt(text: str | None, length: int = 220) -> str:
    """Plain-text start of a Markdown text, cut at a word boundary."""
    if not text:
        return ""
    # nh3 returns HTML-escaped text; unescape it, Jinja escapes it again when rendering.
    plain = html.unescape(nh3.clean(md.markdown(text), tags=set())).replace("\n", " ").strip()
    if len(plain) <= length:
        return plain
    return plain[:length].rsplit(" ", 1)[0] + "…"
