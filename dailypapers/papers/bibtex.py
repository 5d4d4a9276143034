"""BibTeX for papers (``/papers/{id}.bib``, a search page's ``/search.bib``), written with pybtex.

Each paper is one ``@misc`` entry in the form arXiv itself exports: ``title``, ``author``, ``year``, and for an
arXiv paper ``eprint`` (the id, without version), ``archivePrefix = {arXiv}`` and ``primaryClass``; ``doi``,
``note`` (the journal reference) and ``url`` when known. Keys are ``<first author's surname><year><first title
word>`` in ASCII (``hu2021lora``), made unique within one file by a suffix (``hu2021lorab``).

Text is escaped for LaTeX by :func:`latex_text`: ``& % # _`` get a backslash and ``~`` becomes
``\\textasciitilde{}``, outside math. ``$…$`` math and backslash commands are kept, since arXiv writes titles and
abstracts in LaTeX. A brace that is not balanced is written as ``\\textbraceleft{}`` / ``\\textbraceright{}``:
BibTeX counts braces even after a backslash, and a stray one would end the field early, which a hostile title
could otherwise use to inject fields.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pybtex.database import BibliographyData, Entry, Person
from pybtex.database.output.bibtex import Writer

from dailypapers.papers.models import Paper

_TEXT_SPECIALS = re.compile(r"(?<!\\)([&%#_])")
_STOP_WORDS = frozenset({"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "is", "are", "towards"})


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += (char == "{") - (char == "}")
        if depth < 0:
            return False
    return depth == 0


def _escape_text(text: str) -> str:
    return _TEXT_SPECIALS.sub(r"\\\1", text).replace("~", r"\textasciitilde{}")


def latex_text(text: str) -> str:
    """``text`` safe inside a braced BibTeX field and for LaTeX (see the module docstring)."""
    if not _balanced(text):
        text = "".join({"{": r"\textbraceleft", "}": r"\textbraceright"}.get(c, c) for c in text)
        text = text.replace(r"\textbraceleft", r"\textbraceleft{}").replace(r"\textbraceright", r"\textbraceright{}")
    parts = re.split(r"(?<!\\)\$", text)
    if len(parts) % 2 == 0:  # an odd number of dollars: no math, every dollar is a dollar
        return _escape_text(text).replace("$", r"\$").replace(r"\\$", r"\$")
    return "$".join(part if i % 2 else _escape_text(part) for i, part in enumerate(parts))


def _ascii_word(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower())


def citation_key(paper: Paper) -> str:
    """``hu2021lora``: first author's surname, year, first significant word of the title (ASCII only)."""
    surname = _ascii_word(Person(paper.authors[0]).last_names[-1]) if paper.authors else ""
    day = paper.published or paper.added_at
    words = [w for w in (_ascii_word(word) for word in re.split(r"[\s\-:]+", paper.title)) if w]
    word = next((w for w in words if w not in _STOP_WORDS), words[0] if words else "")
    return (surname or "paper") + (str(day.year) if day else "") + word


def entry(paper: Paper) -> Entry:
    """The ``@misc`` entry of one paper."""
    fields = {"title": "{" + latex_text(paper.title) + "}"}  # inner braces: keep the title's capitals as written
    day = paper.published or paper.added_at
    if day:
        fields["year"] = str(day.year)
    if paper.is_arxiv:
        fields.update(eprint=paper.id, archivePrefix="arXiv")
        if paper.primary_category or paper.categories:
            fields["primaryClass"] = latex_text(paper.primary_category or paper.categories[0])
    for name, value in (("doi", paper.doi), ("note", paper.journal_ref), ("url", paper.abs_url)):
        if value:
            verbatim = name in ("doi", "url") and _balanced(value)  # read verbatim by biblatex and the url package
            fields[name] = value if verbatim else latex_text(value)
    # " and " separates BibTeX names: a name holding one is braced whole, as BibTeX writes a corporate author.
    names = [latex_text(n) if not re.search(r"\sand\s", n) else "{" + latex_text(n) + "}" for n in paper.authors]
    persons = {"author": [Person(name) for name in names]} if names else {}
    return Entry("misc", fields=fields, persons=persons)


class _Writer(Writer):  # type: ignore[misc]
    """pybtex's BibTeX writer without its own LaTeX encoding (latexcodec's, which escapes inside math too, and would
    escape :func:`latex_text`'s output a second time)."""

    def _encode(self, text: str) -> str:
        return text


def to_bibtex(papers: Iterable[Paper]) -> str:
    """One BibTeX file of ``papers``, in order, with unique keys."""
    entries: dict[str, Entry] = {}
    for paper in papers:
        key = base = citation_key(paper)
        suffix = ord("b")
        while key in entries:
            key = base + (chr(suffix) if suffix <= ord("z") else str(suffix))
            suffix += 1
        entries[key] = entry(paper)
    return _Writer().to_string(BibliographyData(entries)) if entries else ""
