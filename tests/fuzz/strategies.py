"""Hypothesis strategies for the parser fuzz tests: hostile field values, valid-looking JSON records and XML
documents built around them, and the one check every parser's outcome must pass.

A parser may answer a document with records (:class:`Paper`), per-record errors (:class:`Rejected`), or, for a
document it cannot read at all (not XML, not JSON, hostile XML, an OAI-PMH error), a :class:`SourceError` with a
sentence. Anything else escaping it is a bug.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from dailypapers.papers.models import Paper
from dailypapers.papers.sources.base import Rejected, SourceError

# max_examples comes from the loaded profile (100 by default, tests/fuzz/profiles.py's "long" for more);
# no deadline: a shared 2-core machine makes per-example timings noisy.
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

TRICKY = [
    "", " ", "\t\n", "0", "-1", "1e309", "NaN", "null", "true", "v0", "v", "v-1", "v99999999999999999999",
    "2401.00001", "2401.00001v2", "hep-th/9901001", "cs/0101001v1", "arXiv:2401.00001", "http://arxiv.org/abs/x",
    "oai:arXiv.org:2412.01001v1", "0000-00-00", "2024-02-30", "9999-12-31T23:59:59", "Mon, 2 Apr 2007 19:18:42 GMT",
    "Mon, 32 Foo 99999 99:99:99 XYZ", "2024-13-01T00:00:00Z", "+999999-01-01", "<b>bold</b>", "<script>x</script>",
    "javascript:alert(1)", "data:text/html,x", "//evil.example",
    "a" * 5000, "é" * 300, "\u202etxt", "\u200b", "A and B and", "(", ")", "((a)", "a, , ,b", ";;", "\\", '"',
    "'; DROP TABLE papers; --", "%s%n", "cs.LG", "cs.", ".LG", "math.CO cs.CG", "a\u0000b", "\ud7ff", "\U0001f600",
    "¹", "٣", "１２", "v¹",  # digits to str.isdigit(), not all to int()
]  # fmt: skip

# Text an XML document can carry (no surrogates, no C0 controls but tab and newline).
xml_chars = st.characters(codec="utf-8", exclude_characters="\x0b\x0c", min_codepoint=9).filter(
    lambda c: c in "\t\n" or ord(c) >= 32
)
xml_texts = st.one_of(st.sampled_from(TRICKY).filter(lambda s: "\x00" not in s), st.text(xml_chars, max_size=80))
texts = st.one_of(st.sampled_from(TRICKY), st.text(max_size=80))
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False), texts,
)  # fmt: skip
json_values = st.recursive(
    json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)  # fmt: skip


words = st.from_regex(r"\A[A-Za-z][A-Za-z ,.()-]{0,40}\Z")


def likely(good: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Usually ``good``, sometimes hostile XML-safe text: most documents then hold records that pass, so the fuzzing
    reaches the code past each record's validation, not only its rejections."""
    return _mostly(good, xml_texts)


def _mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any], share: int = 6) -> st.SearchStrategy[Any]:
    """``good`` ``share`` times in ``share + 1``, else ``bad`` (``st.one_of`` picks its branches about evenly)."""
    return st.sampled_from([True] * share + [False]).flatmap(lambda ok: good if ok else bad)


@st.composite
def wanted_elements(draw: st.DrawFn, tags: Iterable[str], good: st.SearchStrategy[str] = words) -> str:
    """Each of ``tags``, usually present with usually good text."""
    return "".join(element(t, escape(draw(likely(good)))) for t in tags if draw(st.integers(0, 9)))


arxiv_ids = st.builds(
    lambda y, m, n, v: f"{y:02d}{m:02d}.{n:05d}{v}",
    st.integers(15, 26), st.integers(1, 12), st.integers(1, 99999), st.sampled_from(["", "v1", "v2", "v13"]),
)  # fmt: skip


def field_values(*good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's value: mostly well-formed (``good``), else hostile text or any JSON at all."""
    return _mostly(st.one_of(*good), st.one_of(texts, json_values)) if good else st.one_of(texts, json_values)


def record(
    fields: dict[str, st.SearchStrategy[Any]], required: tuple[str, ...] = ("id", "title", "abstract")
) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object with the ``required`` fields (each left out now and then), any subset of the others, and
    now and then an unknown key."""
    always = {k: v for k, v in fields.items() if k in required}
    optional = {k: v for k, v in fields.items() if k not in required}
    dropped = _mostly(st.just(""), st.sampled_from(required or ("",)), 4)  # a required field left out
    objects = st.fixed_dictionaries(always, optional={**optional, "extra": json_values})
    return st.tuples(objects, dropped).map(lambda d: {k: v for k, v in d[0].items() if k != d[1]})


def element(tag: str, body: str = "", **attrs: str) -> str:
    attributes = "".join(f" {k.rstrip('_').replace('__', ':')}={quoteattr(v)}" for k, v in attrs.items())
    return f"<{tag}{attributes}>{body}</{tag}>"


@st.composite
def maybe_elements(draw: st.DrawFn, tags: Iterable[str]) -> str:
    """Some of ``tags``, each with hostile escaped text, in a random order, some repeated."""
    chosen = draw(st.lists(st.sampled_from(list(tags)), max_size=12))
    return "".join(element(t, escape(draw(xml_texts))) for t in chosen)


def raw_documents(valid: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """Bytes: random ones, a valid-looking document cut short, or one with bytes flipped."""
    return st.one_of(
        st.binary(max_size=400),
        st.tuples(valid, st.integers(min_value=0)).map(lambda d: d[0][: d[1] % (len(d[0]) + 1)]),
        st.tuples(valid, st.integers(min_value=0), st.binary(min_size=1, max_size=8)).map(
            lambda d: d[0][: d[1] % (len(d[0]) + 1)] + d[2] + d[0][d[1] % (len(d[0]) + 1) :]
        ),
    )


def check_records(produce: Callable[[], Iterable[Any]]) -> tuple[int, int]:
    """Run a parser; every item must be a sound :class:`Paper` or a :class:`Rejected` with a reason, and the only
    exception allowed is :class:`SourceError`. Returns (papers, rejected) (``(-1, -1)`` for a refused document)."""
    try:
        records = list(produce())
    except SourceError as exc:
        assert str(exc), "a SourceError needs a sentence"
        return -1, -1
    papers = rejected = 0
    for rec in records:
        paper = getattr(rec, "paper", rec)  # an announcement carries its paper
        if isinstance(rec, Rejected):
            assert rec.reason and rec.position
            rejected += 1
            continue
        assert isinstance(paper, Paper), type(rec)
        assert paper.id and paper.id.strip() == paper.id and paper.title, paper
        assert isinstance(paper.authors, list) and all(isinstance(a, str) and a for a in paper.authors)
        for url in (paper.abs_url, paper.pdf_url, paper.code_url, paper.project_url):
            assert url is None or url.lower().startswith(("https://", "http://")), f"unsafe link kept: {url!r}"
        strings = [v for v in vars(paper).values() if isinstance(v, str)] + paper.authors + paper.categories
        assert not any("\x00" in v for v in strings), "PostgreSQL refuses NUL in text"
        papers += 1
    return papers, rejected
