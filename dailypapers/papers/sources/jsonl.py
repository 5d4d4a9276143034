"""Import papers from a JSON Lines file: one JSON object per line (the demo corpus uses this format).

Each object needs ``title`` and ``abstract``. Optional fields: ``id`` (an arXiv id or arXiv URL, or the ``dp-`` id
dailypapers derives from the title; anything else rejects the line), ``authors`` (a list of names or one string
separated by commas or " and "), ``categories`` (a list or a space-separated string; the first is the primary
category), ``published`` and ``updated`` (ISO date or datetime), ``comment``, ``journal_ref``, ``doi``. Blank lines
are skipped; a line that is not valid JSON, not an object, or lacks a title or abstract is rejected with its line
number and the rest of the file is imported. A broken line's reason names the 1-based column (in characters) of the
problem within that line; a number or date out of range rejects only its line (see
:func:`dailypapers.papers.models.make_paper`).

The small parsing helpers here (author lists, dates, optional strings) are shared by the other sources.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dailypapers.papers.models import InvalidRecord, Paper, make_paper, normalize_space, utc_field
from dailypapers.papers.sources.base import Record, Rejected, SourceError

_AUTHOR_SPLIT = re.compile(r"\s*[,;]\s*|\s+and\s+", re.IGNORECASE)


def split_authors(value: Any, field: str = "authors") -> list[str]:
    """Author names from a list of strings or from one string separated by commas, semicolons or " and "."""
    if value is None:
        return []
    if isinstance(value, str):
        return [name for name in (normalize_space(p) for p in _AUTHOR_SPLIT.split(value)) if name]
    if isinstance(value, list) and all(isinstance(a, str) for a in value):
        return [name for name in (normalize_space(a) for a in value) if name]
    raise InvalidRecord(f"{field} must be a list of strings or a string")


def split_categories(value: Any, field: str = "categories") -> list[str]:
    """Category codes from a list of strings or a space-separated string, in order, without duplicates."""
    if value is None:
        return []
    if isinstance(value, str):
        items = value.split()
    elif isinstance(value, list) and all(isinstance(c, str) for c in value):
        items = [c.strip() for c in value]
    else:
        raise InvalidRecord(f"{field} must be a list of strings or a space-separated string")
    return list(dict.fromkeys(c for c in items if c))


def parse_iso_datetime(value: Any, field: str) -> datetime | None:
    """An ISO 8601 date or datetime (``Z`` allowed) as an aware UTC datetime; a bare date means midnight UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidRecord(f"{field} must be an ISO date string")
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidRecord(f"{field} is not an ISO date: {value!r}") from None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else utc_field(dt, field)


def optional_str(obj: dict[str, Any], key: str) -> str | None:
    """``obj[key]`` with whitespace normalised, or ``None`` when absent or empty; a non-string is invalid."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRecord(f"{key} must be a string")
    return normalize_space(value) or None


def required_text(obj: dict[str, Any], key: str) -> str:
    """``obj[key]`` as a non-empty string; raises :class:`InvalidRecord` naming the field otherwise."""
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidRecord(f"missing {key}")
    if not isinstance(value, str):
        raise InvalidRecord(f"{key} must be a string")
    return value


def iter_lines(path: str | Path) -> Iterator[tuple[int, str | UnicodeDecodeError]]:
    """Stream ``(line number, text)`` for each non-blank line, or the decode error for a line that is not UTF-8.

    Reads one line at a time (files of many GB are fine). A missing or unreadable file raises :class:`SourceError`.
    """
    p = Path(path)
    try:
        fh = p.open("rb")
    except OSError as exc:
        raise SourceError(f"cannot open {p}: {exc.strerror or exc}") from exc
    with fh:
        try:
            for number, raw in enumerate(fh, 1):
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if not raw.strip():
                    continue
                try:
                    yield number, raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield number, exc
        except OSError as exc:
            raise SourceError(f"error reading {p}: {exc.strerror or exc}") from exc


def _decode_error_column(exc: UnicodeDecodeError) -> int:
    """The 1-based column, in characters, of the first byte that is not UTF-8 (``exc.start`` counts bytes)."""
    return len(bytes(exc.object[: exc.start]).decode("utf-8", "replace")) + 1


def load_json_object(text: str | UnicodeDecodeError) -> dict[str, Any]:
    """Parse one line as a JSON object; raises :class:`InvalidRecord` with a short reason otherwise."""
    if isinstance(text, UnicodeDecodeError):
        raise InvalidRecord(f"not valid UTF-8 at column {_decode_error_column(text)}")
    # Without its line break: json would count an error at the end of the line ("Expecting value") as column 1 of
    # a second line. On one line, the error's offset + 1 is its column.
    line = text.rstrip("\r\n")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        end = " (the end of the line)" if exc.pos >= len(line) else ""
        raise InvalidRecord(f"invalid JSON: {exc.msg.removesuffix(' at')} at column {exc.pos + 1}{end}") from None
    except RecursionError:
        raise InvalidRecord("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # a number of more than 4300 digits (Python's int conversion limit)
        raise InvalidRecord(f"invalid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidRecord(f"expected a JSON object, got {type(obj).__name__}")
    return obj


def paper_from_json(obj: dict[str, Any], source: str = "jsonl") -> Paper:
    """Build a paper from one JSONL object (see the module docstring for the fields)."""
    arxiv_id = obj.get("id")
    if arxiv_id is not None and not isinstance(arxiv_id, str):
        raise InvalidRecord(f"id must be a string, got {type(arxiv_id).__name__}")
    title = required_text(obj, "title")  # a `dp-` id must match it: make_paper checks
    categories = split_categories(obj.get("categories"))
    return make_paper(
        title=title,
        abstract=required_text(obj, "abstract"),
        arxiv_id=arxiv_id.strip() if arxiv_id else None,
        source=source,
        authors=split_authors(obj.get("authors")),
        categories=categories,
        primary_category=categories[0] if categories else None,
        published=parse_iso_datetime(obj.get("published"), "published"),
        updated=parse_iso_datetime(obj.get("updated"), "updated"),
        comment=optional_str(obj, "comment"),
        journal_ref=optional_str(obj, "journal_ref"),
        doi=optional_str(obj, "doi"),
    )


def read_jsonl(path: str | Path) -> Iterator[Record]:
    """Yield a :class:`Paper` for each good line of ``path`` and a :class:`Rejected` (``line N``) for each bad one."""
    for number, text in iter_lines(path):
        try:
            record: Record = paper_from_json(load_json_object(text))
        except InvalidRecord as exc:
            record = Rejected(f"line {number}", str(exc))
        yield record
