"""Markdown for producer stories and product descriptions, sanitised with nh3."""
from __future__ import annotations

import html
from functools import lru_cache

import markdown as md
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "h3", "h4", "a"}


# Rendering is a pure function of the text, so results are kept (per process, least recently used
# dropped first): a story is converted once, not on every page view. An edited story is new text.
CACHED_TEXTS = 512


def render_markdown(text: str | None) -> Markup:
    if not text:
        return Markup("")
    return Markup(_render(text))


@lru_cache(maxsize=CACHED_TEXTS)
def _render(text: str) -> str:
    html = md.markdown(text, extensions=["sane_lists"])
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}}, link_rel="nofollow noopener")


def excerpt(text: str | None, length: int = 220) -> str:
    """Plain-text start of a Markdown text, cut at a word boundary."""
    if not text:
        return ""
    return _excerpt(text, length)


@lru_cache(maxsize=CACHED_TEXTS)
def _excerpt(text: str, length: int) -> str:
    # nh3 returns HTML-escaped text; unescape it, Jinja escapes it again when rendering.
    plain = html.unescape(nh3.clean(md.markdown(text), tags=set())).replace("\n", " ").strip()
    if len(plain) <= length:
        return plain
    return plain[:length].rsplit(" ", 1)[0] + "…"
