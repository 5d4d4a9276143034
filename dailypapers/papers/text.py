"""The text rules for what people name and write: one place, below accounts and community, so that usernames,
account emails, comments, collection and saved-search names are cleaned alike (issue 21 #16).

* :func:`strip_invisible` removes the characters that change how text reads without being seen: the zero-width
  space U+200B, the left-to-right and right-to-left marks U+200E/F, the bidi embeddings and overrides
  U+202A–202E, the isolates U+2066–2069, the word joiner U+2060, the Arabic letter mark U+061C and the BOM U+FEFF.
  A right-to-left override turns ``txt.exe`` into ``exe.txt`` on screen; a zero-width space makes ``alice`` and
  ``ali\\u200bce`` two names that look the same. The zero-width joiner and non-joiner (U+200C/D) are kept in free
  text: Persian spelling and emoji sequences need them.
* :func:`identity` is what an identifier (a username, an email address, a collection's name) is stored as: NFKC
  (full-width ``ａｌｉｃｅ`` is ``alice``, the ligature ``ﬁ`` is ``fi``), then every invisible format character
  removed (Unicode category Cf, the joiners included: a name needs none).
* :func:`name_text` is for the names people give things (collections, saved searches): NFKC and the invisible
  characters above removed (the joiners stay: an emoji sequence in a name keeps its shape).
* :func:`free_text` is for what people write at length (comments, descriptions): NFC, not NFKC, so that
  ``O(n²)`` keeps its superscript, and the invisible characters above removed.
* :func:`scripts` names the writing systems of a text's letters (from their Unicode names: ``LATIN``,
  ``CYRILLIC``, ``GREEK`` …), for refusing names that mix them (a Cyrillic ``а`` among Latin letters).
"""

from __future__ import annotations

import unicodedata

# What free text loses (see the module's docstring); identifiers lose every Cf character besides.
INVISIBLE = frozenset(
    ["\u200b", "\u200e", "\u200f", "\u2060", "\u061c", "\ufeff", *map(chr, range(0x202A, 0x202F)),
     *map(chr, range(0x2066, 0x206A))]
)  # fmt: skip
_DROP = dict.fromkeys(map(ord, INVISIBLE))


def strip_invisible(text: str) -> str:
    """``text`` without the invisible and direction-changing characters of :data:`INVISIBLE`."""
    return text.translate(_DROP)


def identity(text: str) -> str:
    """An identifier as stored: NFKC, without any invisible format character (Unicode category Cf)."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


def name_text(text: str) -> str:
    """A name as stored: NFKC, without the characters of :data:`INVISIBLE`."""
    return strip_invisible(unicodedata.normalize("NFKC", text))


def free_text(text: str) -> str:
    """Written text as stored: NFC, without the characters of :data:`INVISIBLE`."""
    return unicodedata.normalize("NFC", strip_invisible(text))


def script(ch: str) -> str | None:
    """The writing system of a letter (the first word of its Unicode name: ``LATIN``, ``CYRILLIC``, ``CJK`` …),
    None for anything that is not a letter (digits and punctuation belong to every script)."""
    if not unicodedata.category(ch).startswith("L"):
        return None
    return unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]


def scripts(text: str) -> list[str]:
    """The scripts of ``text``'s letters, in order of first appearance."""
    return list(dict.fromkeys(s for s in map(script, text) if s))
