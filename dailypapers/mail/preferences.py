"""The preferences of an email subscription and their checks: each field a subscriber (or a hostile form) sends
is checked here, with a sentence for the person who sent it (:class:`~dailypapers.errors.BadInput`).

* frequency: ``daily`` or ``weekly``;
* time zone: an IANA name from the tz database (``Europe/Berlin``), never a path or a POSIX TZ string;
* send hour: 0 to 23, local time;
* weekends: a boolean (daily digests on Saturday and Sunday too);
* sections: a non-empty subset of :data:`SECTIONS`, kept in the digest's order;
* categories: at most :data:`MAX_CATEGORIES` arXiv category names (``cs.CL``, ``hep-th``, ``astro-ph.CO``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from dailypapers.errors import BadInput

SECTIONS = ("trending", "picks", "saved", "categories")
FREQUENCIES = ("daily", "weekly")
DEFAULT_SECTIONS = ("trending", "picks", "saved")
MAX_CATEGORIES = 20
MAX_TIME_ZONE = 64  # the longest IANA name is 32 characters (America/Argentina/ComodRivadavia)
PREFERENCES = ("frequency", "time_zone", "send_hour", "weekends", "sections", "categories")
# arXiv category names: an archive, optionally a dot and a subject class (cs.CL, hep-th, astro-ph.CO, math.AG).
_CATEGORY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-.")


def clean_frequency(value: object) -> str:
    if value not in FREQUENCIES:
        raise BadInput("The frequency must be daily or weekly.")
    return str(value)


@cache
def _zones() -> frozenset[str]:
    from zoneinfo import available_timezones

    return frozenset(available_timezones())


def clean_time_zone(value: object) -> str:
    """An IANA time zone name from the tz database (``Europe/Berlin``); anything else (a path, a POSIX TZ string)
    is :class:`BadInput`."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_TIME_ZONE or value not in _zones():
        shown = str(value)[:MAX_TIME_ZONE].encode("unicode_escape").decode()
        raise BadInput(f"'{shown}' is not a time zone; use an IANA name such as UTC or Europe/Berlin.")
    return value


def clean_send_hour(value: object) -> int:
    """An hour of the day, 0 to 23 (an int, or its decimal digits)."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value) <= 4:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 23:
        raise BadInput("The send hour must be a whole number from 0 to 23.")
    return value


def _names(value: object, what: str) -> list[str]:
    """Names from text (separated by spaces or commas) or from a list of texts."""
    if isinstance(value, str):
        return value.replace(",", " ").split()
    if isinstance(value, Iterable) and all(isinstance(v, str) for v in value):
        return [name for v in value for name in v.replace(",", " ").split()]
    raise BadInput(f"The {what} must be a list of names.")


def clean_sections(value: object) -> tuple[str, ...]:
    names = _names(value, "sections")
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise BadInput(f"'{unknown[0][:40]}' is not a section; choose from {', '.join(SECTIONS)}.")
    if not names:
        raise BadInput(f"Choose at least one section ({', '.join(SECTIONS)}).")
    return tuple(s for s in SECTIONS if s in names)  # in the digest's order, once each


def clean_categories(value: object) -> tuple[str, ...]:
    names = list(dict.fromkeys(_names(value, "categories")))
    for name in names:
        archive, _, subject = name.partition(".")
        ok = len(name) <= 40 and set(name) <= _CATEGORY_CHARS and archive[:1].islower() and "." not in subject
        if not ok or (subject == "" and name.endswith(".")):
            raise BadInput(f"'{name[:40]}' is not an arXiv category (such as cs.CL or hep-th).")
    if len(names) > MAX_CATEGORIES:
        raise BadInput(f"Choose at most {MAX_CATEGORIES} categories (these are {len(names)}).")
    return tuple(names)


def _weekends(value: object) -> bool:
    if not isinstance(value, bool):
        raise BadInput("'weekends' must be true or false.")
    return value


def clean_preferences(values: dict[str, Any]) -> dict[str, Any]:
    """The checked form of the preferences in ``values`` (a subset of :data:`PREFERENCES`)."""
    unknown = sorted(set(values) - set(PREFERENCES))
    if unknown:
        raise BadInput(f"'{unknown[0][:40]}' is not a subscription setting; use {', '.join(PREFERENCES)}.")
    checks: dict[str, Callable[[object], Any]] = {
        "frequency": clean_frequency,
        "time_zone": clean_time_zone,
        "send_hour": clean_send_hour,
        "weekends": _weekends,
        "sections": clean_sections,
        "categories": clean_categories,
    }
    return {name: checks[name](value) for name, value in values.items()}
