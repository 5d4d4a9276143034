"""Every setting of dailypapers, in one place: its environment variable, its default and a help line.

Settings are read from ``DAILYPAPERS_*`` environment variables, then from an optional TOML file named by
``DAILYPAPERS_CONFIG`` (keys are the setting names in lower case, e.g. ``data_dir = "/srv/papers"``).
The environment wins over the file. ``docs/configuration.md`` lists them all; a test keeps it complete.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dailypapers.config_checks import (
    ConfigError,
    category_list,
    check_accounts,
    check_jobs,
    check_mail,
    check_ops,
    check_time_zone,
)
from dailypapers.config_settings import SETTINGS, Setting

__all__ = ["SETTINGS", "Config", "ConfigError", "Setting", "category_list", "load_config", "settings_markdown"]
MIN_SECRET_LENGTH = 16


@dataclass(frozen=True)
class Config:
    """Resolved settings. Build with :func:`load_config`; tests build it directly."""

    data_dir: Path = Path("data")
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    public_url: str = ""
    secret_key: str = field(default="", repr=False)  # never in a log line
    vote_rate_limit: int = 60
    signup: str = "invite"
    session_days: int = 30
    invite_days: int = 14
    anonymous_votes: bool = False
    login_rate_limit: str = "10/minute"
    signup_rate_limit: str = "5/hour"
    comment_rate_limit: str = "10/minute"
    submit_rate_limit: str = "20/hour"
    subscribe_rate_limit: str = "10/hour"
    submission_window_days: int = 14
    max_body_bytes: int = 1048576
    demo_corpus: str = ""  # a str, not a Path: Path("") would be "." (empty means the packaged demo)
    embed_precision: str = "auto"
    embed_batch: int = 64
    warm_up: bool = True
    embed_model: str = "minilm"
    embed_device: str = "auto"
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_delay: float = 3.0
    arxiv_retries: int = 5
    arxiv_feed_url: str = "https://rss.arxiv.org"
    http_timeout: float = 60.0
    categories: str = ""
    schedule: str = ""
    serve_worker: bool = True
    job_retries: int = 3
    job_backoff: float = 60.0
    oai_url: str = "https://oaipmh.arxiv.org/oai"
    oai_delay: float = 3.0
    oai_sets: str = ""
    oai_from: str = ""
    ingest_query: str = ""
    ingest_max_results: int = 200
    max_query_length: int = 10000
    page_size: int = 20
    time_zone: str = "UTC"
    rrf_k: int = 60
    candidates: int = 100
    keyword_budget: int = 10000
    mailer: str = "console"
    mail_from: str = "dailypapers <dailypapers@localhost>"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)  # never in a log line
    smtp_timeout: float = 30.0
    mail_retries: int = 5
    mail_backoff: float = 300.0
    mail_max_failures: int = 3
    confirm_hours: int = 48
    digest_papers: int = 10
    digest_weekends: bool = False
    recommend_days: int = 14
    log_level: str = "INFO"
    # Accounts and mail (issue 21) — fields below this line.
    login_pair_limit: str = "5/minute;20/hour"
    login_stranger_limit: str = "10/minute;50/hour;200/day"
    reset_minutes: int = 60
    verify_hours: int = 48
    password_hash: str = "rfc9106-low-memory"
    # Operations (issue 22) — fields below this line.
    metrics: str = "local"
    metrics_token: str = field(default="", repr=False)  # never in a log line
    log_format: str = "text"
    pg_bin_dir: str = ""
    # Keyword engine and vectors (issue 23) — fields below this line.
    # Topics and the map (issue 24) — fields below this line.

    @property
    def backend(self) -> str:
        return "postgres" if self.database_url.startswith(("postgres://", "postgresql://")) else "sqlite"

    @property
    def sqlite_path(self) -> Path:
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return self.data_dir / "dailypapers.db"

    @property
    def vector_dir(self) -> Path:
        return self.data_dir / "vectors"


def _coerce(setting: Setting, raw: Any, target: type) -> Any:
    try:
        if target is Path:
            return Path(str(raw)).expanduser()
        if target is bool:
            return str(raw).lower() in ("1", "true", "yes", "on")
        return target(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{setting.env} must be a {target.__name__}, got {raw!r}") from exc


def load_config(environ: dict[str, str] | None = None, **overrides: Any) -> Config:
    """Resolve settings from (in rising priority) defaults, the TOML file, the environment and ``overrides``."""
    env = dict(os.environ if environ is None else environ)
    file_values: dict[str, Any] = {}
    if path := env.get("DAILYPAPERS_CONFIG"):
        try:
            file_values = tomllib.loads(Path(path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"DAILYPAPERS_CONFIG={path}: {exc}") from exc
        unknown = set(file_values) - {s.name for s in SETTINGS}
        if unknown:
            raise ConfigError(f"unknown setting(s) in {path}: {', '.join(sorted(unknown))}")
    types = {f.name: f.type for f in fields(Config)}
    values: dict[str, Any] = {}
    for s in SETTINGS:
        raw = overrides.get(s.name, env.get(s.env, file_values.get(s.name, s.default)))
        target = {"Path": Path, "int": int, "float": float, "str": str, "bool": bool}[str(types[s.name])]
        values[s.name] = _coerce(s, raw, target)
    if values["embed_precision"] not in ("auto", "bf16", "fp32"):
        raise ConfigError("DAILYPAPERS_EMBED_PRECISION must be auto, bf16 or fp32")
    values["public_url"] = values["public_url"].strip().rstrip("/")
    if values["public_url"] and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", values["public_url"]):
        raise ConfigError(
            "DAILYPAPERS_PUBLIC_URL must be an http(s) URL without query, e.g. https://papers.example.org"
        )
    if 0 < len(values["secret_key"]) < MIN_SECRET_LENGTH:
        raise ConfigError(f"DAILYPAPERS_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters (or empty)")
    check_accounts(values)
    check_time_zone(values["time_zone"])
    if values["vote_rate_limit"] < 0:
        raise ConfigError("DAILYPAPERS_VOTE_RATE_LIMIT must be 0 (no limit) or a positive number of votes a minute")
    if values["submission_window_days"] < 0:
        raise ConfigError("DAILYPAPERS_SUBMISSION_WINDOW_DAYS must be 0 (any age) or a positive number of days")
    if values["keyword_budget"] < 1:
        raise ConfigError("DAILYPAPERS_KEYWORD_BUDGET must be a positive number of rows")
    check_jobs(values)
    check_mail(values)
    check_ops(values)
    return Config(**values)


def settings_markdown() -> str:
    """The settings table for docs/configuration.md."""
    lines = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    for s in SETTINGS:
        lines.append(f"| `{s.env}` | `{s.default}` | {s.help} |")
    return "\n".join(lines) + "\n"
