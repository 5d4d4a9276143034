"""The checks of :func:`dailypapers.config.load_config`: each refuses a value that cannot work, with a message that
names its environment variable (kept apart from the table of settings so that both stay short)."""

from __future__ import annotations

import re
from typing import Any


class ConfigError(ValueError):
    """A setting with a value that cannot be used; the message names the variable."""


def check_jobs(values: dict[str, Any]) -> None:
    """The settings of the embedding tier, the scheduled jobs and the OAI-PMH harvest."""
    if values["embed_model"] not in ("minilm", "static"):
        raise ConfigError("DAILYPAPERS_EMBED_MODEL must be minilm or static")
    if values["embed_device"] not in ("auto", "cuda", "cpu"):
        raise ConfigError("DAILYPAPERS_EMBED_DEVICE must be auto, cuda or cpu")
    if values["job_retries"] < 0 or values["job_backoff"] < 0:
        raise ConfigError("DAILYPAPERS_JOB_RETRIES and DAILYPAPERS_JOB_BACKOFF must be 0 or positive")
    if values["oai_delay"] < 0:
        raise ConfigError("DAILYPAPERS_OAI_DELAY must be 0 or a positive number of seconds")
    if values["oai_from"] and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", values["oai_from"]):
        raise ConfigError(f"DAILYPAPERS_OAI_FROM must be a date such as 2026-11-30, got {values['oai_from']!r}")


def category_list(raw: str) -> list[str]:
    """The categories (or sets) of a space- or comma-separated setting, in order, without repeats."""
    return list(dict.fromkeys(part for part in re.split(r"[\s,]+", raw) if part))


def check_time_zone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"DAILYPAPERS_TIME_ZONE must be an IANA time zone such as UTC or Europe/Berlin, got {name!r}"
        ) from None


# The names of accounts.passwords.PROFILES (config is below accounts, so it names them; a test keeps them equal).
PASSWORD_HASH_PROFILES = ("rfc9106-low-memory", "rfc9106-high-memory", "cheapest")


def check_accounts(values: dict[str, Any]) -> None:
    """The settings of accounts and the security layer, each with a message naming its variable."""
    from limits import parse

    if values["signup"] not in ("open", "invite", "closed"):
        raise ConfigError("DAILYPAPERS_SIGNUP must be open, invite or closed")
    if values["password_hash"] not in PASSWORD_HASH_PROFILES:
        raise ConfigError(f"DAILYPAPERS_PASSWORD_HASH must be one of {', '.join(PASSWORD_HASH_PROFILES)}")
    for name in ("session_days", "invite_days", "max_body_bytes"):
        if values[name] < 1:
            raise ConfigError(f"DAILYPAPERS_{name.upper()} must be a positive number")
    rates = ("login_rate_limit", "signup_rate_limit", "comment_rate_limit", "submit_rate_limit", "subscribe_rate_limit")
    for name in rates:
        if values[name] != "0":
            try:
                parse(values[name])
            except ValueError:
                raise ConfigError(
                    f"DAILYPAPERS_{name.upper()} must be a rate such as '10/minute' or '5/hour' (0: no limit)"
                ) from None


def check_mail(values: dict[str, Any]) -> None:
    """The settings of email: the mailer, the SMTP connection, retries, and digests."""
    if values["mailer"] not in ("smtp", "console", "none"):
        raise ConfigError("DAILYPAPERS_MAILER must be smtp, console or none")
    if values["smtp_security"] not in ("starttls", "tls", "none"):
        raise ConfigError("DAILYPAPERS_SMTP_SECURITY must be starttls, tls or none")
    if not 0 < values["smtp_port"] < 65536:
        raise ConfigError("DAILYPAPERS_SMTP_PORT must be a port number (1-65535)")
    if values["smtp_timeout"] <= 0 or values["mail_backoff"] < 0:
        raise ConfigError("DAILYPAPERS_SMTP_TIMEOUT must be positive, DAILYPAPERS_MAIL_BACKOFF 0 or positive")
    for name in ("mail_retries", "mail_max_failures", "confirm_hours", "digest_papers", "recommend_days"):
        if values[name] < 1:
            raise ConfigError(f"DAILYPAPERS_{name.upper()} must be a positive number")
    if any(c in values["mail_from"] for c in "\r\n"):
        raise ConfigError("DAILYPAPERS_MAIL_FROM must be one line")


def check_ops(values: dict[str, Any]) -> None:
    """The operations settings (issue 22): who reads ``/metrics``, and the log format."""
    if values["metrics"] not in ("off", "local", "token"):
        raise ConfigError("DAILYPAPERS_METRICS must be off, local or token")
    if values["metrics"] == "token" and len(values["metrics_token"]) < 16:
        raise ConfigError("DAILYPAPERS_METRICS=token needs DAILYPAPERS_METRICS_TOKEN of at least 16 characters")
    if values["log_format"] not in ("text", "json"):
        raise ConfigError("DAILYPAPERS_LOG_FORMAT must be text or json")
