"""Log lines an admin can ship and search: plain text (the default) or one JSON object a line, secrets redacted.

``DAILYPAPERS_LOG_FORMAT=json`` makes every log line a JSON object (python-json-logger's formatter on the standard
``logging`` module, so every existing ``log.info(...)`` — ours, uvicorn's, the job scheduler's — comes out as JSON
with no change at its call site): ``time``, ``level``, ``logger``, ``message``, the record's ``extra`` fields
(``request_id``, ``route``, ``status``, ``duration_ms``, ``user_id`` of a request; ``job``, ``event`` of a job), and
a traceback as one string field, ``traceback``, never as continuation lines.

The access log is our own (:mod:`dailypapers.web.access` writes one line per request to ``dailypapers.access``);
``serve`` turns uvicorn's off, and :func:`install_uvicorn_access_filter` redacts uvicorn's for a server started by
hand. Secrets never reach a line: :func:`redact_target` masks the tokens of signed email links (``?token=``),
invite links, private feed addresses (``/feeds/for-you/<token>.atom``) and every query parameter named like a
secret, and cuts a long query (a pasted abstract) to :data:`MAX_QUERY_CHARS` characters.
"""

from __future__ import annotations

import logging
import logging.config
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from pythonjsonlogger.json import JsonFormatter

REDACTED = "[redacted]"
MAX_QUERY_CHARS = 200  # a pasted abstract is 1-2k characters: its start is enough to recognise it in a log
ACCESS_LOGGER = "dailypapers.access"
# Query parameters whose value is a secret (or may be): signed email links (token), invites, API keys, a reset code.
_SECRET_PARAMS = re.compile(r"token|key|secret|password|passwd|invite|code|signature|sig|auth|session|reset", re.I)
# Path segments that carry a secret: what follows these prefixes, up to the next "/" (a suffix like .atom is kept).
_SECRET_PATHS = re.compile(
    r"(?P<prefix>/(?:feeds/for-you|subscribe/confirm|subscription/manage|unsubscribe(?:/one-click)?|confirm|manage"
    r"|reset|invite|invites)/)(?!one-click(?:[/?]|$))(?P<secret>[^/?]+?)(?P<suffix>\.(?:atom|json|xml|rss))?(?=[/?]|$)",
    re.I,
)
_API_TOKEN = re.compile(r"dp_[A-Za-z0-9_\-]{8,}")  # an API token pasted into an address, wherever it is
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def redact_path(path: str) -> str:
    """``path`` with the secret segments masked."""
    path = _SECRET_PATHS.sub(lambda m: m["prefix"] + REDACTED + (m["suffix"] or ""), path)
    return _API_TOKEN.sub(REDACTED, path)


def redact_query(query: str) -> str:
    """A query string with secret parameters masked and every value cut to :data:`MAX_QUERY_CHARS` characters."""
    if not query:
        return ""
    pairs = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        if _SECRET_PARAMS.search(name):
            value = REDACTED
        elif len(value) > MAX_QUERY_CHARS:
            value = value[:MAX_QUERY_CHARS] + f"...(+{len(value) - MAX_QUERY_CHARS})"
        pairs.append((name, _API_TOKEN.sub(REDACTED, value)))
    return urlencode(pairs, quote_via=quote, safe="[]+()")


def redact_target(path: str, query: str = "") -> str:
    """The request target (path and query) as a log line may show it."""
    shown = redact_query(query)
    return redact_path(path) + (f"?{shown}" if shown else "")


class JsonLogFormatter(JsonFormatter):
    """One JSON object a line: ``time``, ``level``, ``logger``, ``message``, extras, ``traceback`` (one string)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("datefmt", "%Y-%m-%dT%H:%M:%S%z")
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        # A traceback is one field whatever the formatter's version calls it; the record's stack too.
        for name in ("exc_info", "stack_info"):
            if name in log_data:
                log_data["traceback"] = log_data.pop(name)
        for name in ("color_message",):  # uvicorn's copy of the message with terminal colours
            log_data.pop(name, None)


class UvicornAccessRedactor(logging.Filter):
    """Redacts the request target of uvicorn's own access log line (``args[2]`` of ``uvicorn.access``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, _, query = args[2].partition("?")
            record.args = (*args[:2], redact_target(path, query), *args[3:])
        return True


def install_uvicorn_access_filter() -> None:
    """Redact uvicorn's access log (when it is on: a server started with ``uvicorn`` rather than ``serve``)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, UvicornAccessRedactor) for f in access.filters):
        access.addFilter(UvicornAccessRedactor())


def logging_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` for ``text`` or ``json`` lines on standard error: the root logger, and
    uvicorn's loggers passed on to it (uvicorn applies this in each worker process: ``uvicorn.run(log_config=…)``)."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonLogFormatter"} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "filters": {"redact": {"()": f"{__name__}.UvicornAccessRedactor"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "main", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            # The access log is a record of requests, not a level of chatter: on whatever DAILYPAPERS_LOG_LEVEL says
            # (as a web server's access log is apart from its error log).
            ACCESS_LOGGER: {"level": "INFO", "propagate": True},
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": True, "filters": ["redact"]},
        },
    }


def configure_logging(log_format: str, level: str = "INFO") -> None:
    """Apply :func:`logging_config` to this process."""
    logging.config.dictConfig(logging_config(log_format, level))
