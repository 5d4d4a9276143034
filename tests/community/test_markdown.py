"""Comment Markdown (``dailypapers.community.markdown``): the supported subset renders, and nothing executable
survives — a battery of known XSS payloads, then a property test over arbitrary text and HTML-ish fragments.

"Executable" is judged on the output parsed as HTML (:class:`html.parser.HTMLParser`): every tag must be on the
allow-list, every attribute must be ``href`` (on ``a``, with an http, https or mailto URL), ``rel`` or ``start``.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dailypapers.community.markdown import ALLOWED_TAGS, LINK_REL, render_markdown

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](java\tscript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml,<svg onload=alert(1)>)",
    "![x](javascript:alert(1))",
    '[x](https://ok.example "title" onmouseover="alert(1)")',
    '[x](https://ok.example" onmouseover="alert(1))',
    '<https://ok.example/" onmouseover="alert(1)>',
    "<javascript:alert(1)>",
    "<svg/onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<div style=\"background:url('javascript:alert(1)')\">x</div>",
    '<a href="https://ok.example" onclick="alert(1)">x</a>',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<!--<script>alert(1)</script>-->",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "```html onload=alert(1)\nx\n```",
    "> <img src=x onerror=alert(1)>",
    "* <b onmouseover=alert(1)>x</b>",
    "[x](//evil.example/steal)",
    "[x](/relative/path)",
    "<form action=https://evil.example><input name=q></form>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    "\x00<script>alert(1)</script>",
    "[a]: javascript:alert(1)\n\n[x][a]",
]


class Inspector(HTMLParser):
    """Collects every tag and attribute of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, name, value or "") for name, value in attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_inert(out: str) -> Inspector:
    """``out`` has allowed tags only, and no attribute that runs anything or links anywhere but http(s)/mailto."""
    seen = Inspector()
    seen.feed(out)
    seen.close()
    assert set(seen.tags) <= ALLOWED_TAGS, out
    for tag, name, value in seen.attrs:
        assert (tag, name) in {("a", "href"), ("a", "rel"), ("ol", "start")}, out
        if name == "href":
            assert value.lower().startswith(("http://", "https://", "mailto:")), out
        if name == "rel":
            assert value == LINK_REL, out
        if name == "start":
            assert value.isdigit(), out
    lowered = out.lower()
    assert "<script" not in lowered and "javascript:" not in "".join(v for _, _, v in seen.attrs).lower()
    return seen


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_payload_survives(payload: str) -> None:
    assert_inert(render_markdown(payload))


def test_the_subset_renders() -> None:
    out = render_markdown("Hello *you* and **all**, see `x < y` and [LoRA](https://arxiv.org/abs/2106.09685).")
    assert out == (
        "<p>Hello <em>you</em> and <strong>all</strong>, see <code>x &lt; y</code> and "
        f'<a href="https://arxiv.org/abs/2106.09685" rel="{LINK_REL}">LoRA</a>.</p>'
    )
    assert render_markdown("line one\nline two\n\nnext") == "<p>line one<br>\nline two</p>\n<p>next</p>"
    assert render_markdown("```\nx = 1 < 2\n```") == "<pre><code>x = 1 &lt; 2\n</code></pre>"
    assert render_markdown("- a\n- b") == "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"
    assert render_markdown("3. c") == '<ol start="3">\n<li>c</li>\n</ol>'
    assert render_markdown("> quoted") == "<blockquote>\n<p>quoted</p>\n</blockquote>"
    assert 'href="mailto:ann@example.org"' in render_markdown("[mail](mailto:ann@example.org)")


def test_what_is_not_in_the_subset_stays_text() -> None:
    assert render_markdown("# not a heading") == "<p># not a heading</p>"
    assert render_markdown("<b>bold</b>") == "<p>&lt;b&gt;bold&lt;/b&gt;</p>"  # typed HTML is shown, not run
    assert "<img" not in render_markdown("![alt](https://ok.example/a.png)")  # no images: no tracking pixels
    relative = assert_inert(render_markdown("[x](/papers/1)"))
    assert "x" in "".join(relative.text) and not any(n == "href" for _, n, _ in relative.attrs)
    assert html.unescape(render_markdown("a & b")) == "<p>a & b</p>"


_HOSTILE = st.sampled_from(
    ["<", ">", "&", '"', "'", "`", "*", "_", "[", "]", "(", ")", "!", "\n", " ", "javascript:", "data:", "on",
     "script", "img", "=", "alert(1)", "&#", ";", "x", "http://a.b", "<a href=", "\\", "```", "> ", "- ", "1. "]
)  # fmt: skip


@settings(max_examples=300, deadline=None, database=None)  # no .hypothesis folder in the tree
@given(st.lists(st.one_of(_HOSTILE, st.text(max_size=5)), max_size=40).map("".join))
def test_nothing_executable_survives_any_input(text: str) -> None:
    assert_inert(render_markdown(text))
