"""Markdown for producer stories and product descriptions, sanitised with nh3.

Headings are shifted under the page's own: the page has its h1 (and h2 sections), so a text's
``#`` and ``##`` become h3, ``###`` and deeper h4 (``HEADING_LEVELS``) — a story cannot add a
second top heading, and no heading loses its tag. The shift is done on Markdown's element tree,
before nh3 cleans the HTML (raw HTML headings typed in the text are not shifted: nh3 drops them,
keeping their text)."""
from __future__ import annotations

import html
from functools import lru_cache

import markdown as md
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "h3", "h4", "a"}
# Markdown's heading tag → the one kept: every level lands on an allowed tag.
HEADING_LEVELS = {"h1": "h3", "h2": "h3", "h3": "h4", "h4": "h4", "h5": "h4", "h6": "h4"}


class _ShiftHeadings(Treeprocessor):
    def run(self, root):
        for element in root.iter():
            if element.tag in HEADING_LEVELS:
                element.tag = HEADING_LEVELS[element.tag]


class ShiftHeadings(Extension):
    """Markdown extension: headings renamed by ``HEADING_LEVELS``."""

    def extendMarkdown(self, md_instance):  # noqa: N802 (Markdown's API)
        md_instance.treeprocessors.register(_ShiftHeadings(md_instance), "shift_headings", 5)


# Rendering is a pure function of the text, so results are kept (per process, least recently used
# dropped first): a story is converted once, not on every page view. An edited story is new text.
CACHED_TEXTS = 512


def render_markdown(text: str | None) -> Markup:
    if not text:
        return Markup("")
    return Markup(_render(text))


@lru_cache(maxsize=CACHED_TEXTS)
def _render(text: str) -> str:
    html = md.markdown(text, extensions=["sane_lists", ShiftHeadings()])
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
