"""Comment text to safe HTML: a small Markdown subset rendered by markdown-it-py, then sanitised by nh3.

Two layers, so that neither alone has to be perfect. The parser runs in markdown-it's ``zero`` preset with only
paragraphs, line breaks, emphasis, inline code, code blocks, lists, block quotes, links and backslash escapes
turned on, and raw HTML off: ``<script>`` typed into a comment comes out as text. The sanitiser then keeps only
the tags and attributes of :data:`ALLOWED_TAGS` / :data:`ALLOWED_ATTRIBUTES`, lets a link point only to an
``http``, ``https`` or ``mailto`` URL (a relative, ``javascript:`` or ``data:`` link loses its ``href``), and gives
every link ``rel="nofollow noopener ugc"``: comment links are the commenter's, not the site's.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset({"a", "em", "strong", "code", "pre", "p", "br", "ul", "ol", "li", "blockquote"})
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener ugc"
_RULES = ["paragraph", "newline", "emphasis", "backticks", "fence", "code", "list", "blockquote", "link", "escape"]


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "zero" enables nothing but plain text; "breaks": a single newline in a comment is a line break, as people
    # who type comments expect (they are not writing documents).
    return MarkdownIt("zero", {"html": False, "breaks": True, "linkify": False}).enable(_RULES)


@lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """``text`` (a comment's Markdown source) as sanitised HTML, safe to put into a page as it is."""
    return str(_cleaner().clean(_parser().render(text))).strip()
