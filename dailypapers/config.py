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
    check_time_zone,
)

__all__ = ["SETTINGS", "Config", "ConfigError", "Setting", "category_list", "load_config", "settings_markdown"]
MIN_SECRET_LENGTH = 16


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str

    @property
    def env(self) -> str:
        return "DAILYPAPERS_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "data", "Folder holding the SQLite database, the vector index and the outbox."),
    Setting(
        "database_url",
        "",
        "Database to use. Empty: SQLite in the data folder. `postgresql://user:pass@host/db` switches to PostgreSQL.",
    ),
    Setting("host", "127.0.0.1", "Address `dailypapers serve` listens on."),
    Setting("port", 8000, "Port `dailypapers serve` listens on."),
    Setting("workers", 1, "Number of web worker processes for `dailypapers serve`."),
    Setting(
        "public_url",
        "",
        "Public base URL of the site (`https://papers.example.org`), used where a link must be absolute (the"
        " `Link: rel=next` header of `/api/daily_papers`, links in `/papers/{id}.md`). Empty: relative links, or"
        " the request's host only when it is the address the server itself listens on (a `Host` header is never"
        " trusted otherwise).",
    ),
    Setting(
        "secret_key",
        "",
        "Key that signs voter cookies and CSRF tokens (at least 16 characters). Empty: one is generated on first "
        "use and kept in the database, so every worker and machine shares it.",
    ),
    Setting(
        "vote_rate_limit",
        60,
        "Votes one voter may cast per minute (0: no limit), counted in the database: shared by every worker.",
    ),
    Setting(
        "signup",
        "invite",
        "Who may sign up: `open` (anyone), `invite` (with an admin's invite link) or `closed` (admins create"
        " accounts with `dailypapers users create`). With no user yet, the first sign-up creates the admin.",
    ),
    Setting("session_days", 30, "Days a log-in session lasts without use (each use extends it)."),
    Setting("invite_days", 14, "Days an invite link stays valid."),
    Setting(
        "anonymous_votes",
        False,
        "Let visitors without an account upvote (one vote per browser cookie, which a script can renew at will)."
        " Off: upvoting needs a signed-in user.",
    ),
    Setting("login_rate_limit", "10/minute", "Log-in attempts per client address and per account (`limits` syntax)."),
    Setting("signup_rate_limit", "5/hour", "Sign-ups per client address (`limits` syntax; `0`: no limit)."),
    Setting(
        "comment_rate_limit",
        "10/minute",
        "Comments (and edits) per user and per client address (`limits` syntax; `0`: no limit).",
    ),
    Setting(
        "submit_rate_limit",
        "20/hour",
        "Paper submissions per user and per client address (`limits` syntax; `0`: no limit).",
    ),
    Setting(
        "subscribe_rate_limit",
        "10/hour",
        "Email subscription requests (`/subscribe`, `POST /api/subscriptions`) per client address (`limits` syntax;"
        " `0`: no limit). Each address also gets at most one confirmation email an hour, whoever asks.",
    ),
    Setting(
        "submission_window_days",
        14,
        "Days after its first arXiv version that a paper may still be submitted (Hugging Face uses 14; `0`: any age).",
    ),
    Setting(
        "max_body_bytes",
        1048576,
        "Largest request body accepted, in bytes (413 beyond it, before the body is read).",
    ),
    Setting(
        "demo_corpus",
        "",
        "JSONL file imported by `dailypapers init --demo` (and `make run`) when the database is empty, spread over the"
        " last 10 weekdays. Empty: the demo corpus that ships with the package (298 machine-learning papers).",
    ),
    Setting(
        "embed_precision",
        "auto",
        "Embedding precision: `bf16` (autocast, ~3x faster on AMX CPUs), `fp32`, or `auto` (bf16 when supported).",
    ),
    Setting("embed_batch", 64, "Abstracts per embedding batch."),
    Setting(
        "warm_up",
        True,
        "`dailypapers serve` loads the embedding model and the vector index in the background as it starts, so the"
        " first search is as fast as the others. Off: the first search loads them (seconds), and a server that is"
        " never asked to search never does (tests, a worker behind an admin-only port).",
    ),
    Setting(
        "embed_model",
        "minilm",
        "Embedding model: `minilm` (all-MiniLM-L6-v2, the best search) or `static` (a model2vec model distilled"
        " offline from it: ~25x faster, for bulk backfills and small machines). Changing it re-embeds every paper"
        " (`dailypapers index`); the two are never mixed in one index.",
    ),
    Setting(
        "embed_device",
        "auto",
        "Device of the `minilm` model: `auto` (CUDA when present, else CPU), `cuda` or `cpu`.",
    ),
    Setting(
        "arxiv_api_url", "https://export.arxiv.org/api/query", "Base URL of the arXiv API (tests use a local server)."
    ),
    Setting("arxiv_delay", 3.0, "Seconds between two arXiv API requests (arXiv asks for at least 3)."),
    Setting("arxiv_retries", 5, "Retries of an arXiv API request after HTTP 429/503 or 'Rate exceeded.'."),
    Setting(
        "arxiv_feed_url",
        "https://rss.arxiv.org",
        "Base URL of arXiv's announcement feeds (`/atom/<cats>`; tests use a local server).",
    ),
    Setting("http_timeout", 60.0, "Seconds before an outgoing HTTP request (arXiv, HF) gives up."),
    Setting(
        "categories",
        "",
        "arXiv categories this instance follows, separated by spaces or commas (`cs.LG cs.CL stat.ML`): the"
        " `ingest.announcements` job reads their feeds, `ingest.oai` harvests their archives. Empty: none.",
    ),
    Setting(
        "schedule",
        "",
        "When jobs run by themselves: `job=cron` pairs separated by `;` (five-field cron in `DAILYPAPERS_TIME_ZONE`,"
        " e.g. `ingest.announcements=30 0 * * 1-5; index.embed=*/10 * * * *`), or `default` for the recommended"
        " schedule (docs/jobs.md). Empty: no job runs unless started by hand.",
    ),
    Setting(
        "serve_worker",
        True,
        "`dailypapers serve` also runs the schedule in-process (the one-machine case). Turn off where a separate"
        " `dailypapers worker` runs it; either way one job runs once, however many processes schedule it.",
    ),
    Setting("job_retries", 3, "Retries of a failed scheduled job before it waits for its next scheduled time."),
    Setting(
        "job_backoff",
        60.0,
        "Seconds before the first retry of a failed job; each further retry waits twice as long.",
    ),
    Setting(
        "oai_url",
        "https://oaipmh.arxiv.org/oai",
        "Base URL of arXiv's OAI-PMH interface for bulk harvests (tests use a local server).",
    ),
    Setting("oai_delay", 3.0, "Seconds between two OAI-PMH requests (arXiv asks for at least 3)."),
    Setting(
        "oai_sets",
        "",
        "OAI-PMH sets `ingest.oai` harvests (`cs`, `math`, `physics:hep-th`), separated by spaces or commas. Empty:"
        " the archives of `DAILYPAPERS_CATEGORIES` (`cs.LG` → `cs`).",
    ),
    Setting(
        "oai_from",
        "",
        "Metadata datestamp (YYYY-MM-DD) the first `ingest.oai` harvest starts from; later runs continue where the"
        " last one ended. Empty: yesterday. A datestamp is when arXiv last changed a record, not a submission date.",
    ),
    Setting(
        "ingest_query",
        "",
        "arXiv API query the `ingest.arxiv` job imports (e.g. `cat:cs.LG`). Empty: the job does nothing.",
    ),
    Setting("ingest_max_results", 200, "Newest papers fetched by each `ingest.arxiv` run."),
    Setting(
        "max_query_length",
        10000,
        "Longest search query accepted, in characters: room for a pasted abstract (1,000-2,000) and more. A GET URL"
        " past 8 KB is refused by common reverse proxies; the search form and `POST /api/search` send long text in the"
        " body.",
    ),
    Setting("page_size", 20, "Results per page in search and on daily pages."),
    Setting(
        "time_zone",
        "UTC",
        "Time zone of the daily list (an IANA name such as `Europe/Berlin`): a day's list is final once the next day"
        " has started there (its Atom feed says so).",
    ),
    Setting("rrf_k", 60, "Reciprocal-rank-fusion constant for hybrid search (larger flattens rank differences)."),
    Setting("candidates", 100, "Candidates taken from each of the keyword and vector rankings before fusion."),
    Setting(
        "keyword_budget",
        10000,
        "Most matching rows a keyword search scores: rarer query words are kept first, common ones dropped beyond"
        " it, and a query of common words only is scored over the newest 2 x this many papers (docs/search.md).",
    ),
    Setting(
        "mailer",
        "console",
        "How email leaves: `smtp` (the server below), `console` (printed to standard output, for development) or"
        " `none` (kept in the outbox, never sent).",
    ),
    Setting("mail_from", "dailypapers <dailypapers@localhost>", "Sender of every email (`Name <address>`)."),
    Setting("smtp_host", "localhost", "SMTP server that sends email (`DAILYPAPERS_MAILER=smtp`)."),
    Setting("smtp_port", 587, "Port of the SMTP server: 587 for STARTTLS, 465 for implicit TLS, 25 without TLS."),
    Setting(
        "smtp_security",
        "starttls",
        "`starttls` (upgrade the connection, RFC 3207), `tls` (TLS from the first byte, RFC 8314) or `none`"
        " (plain text: only for a relay on the same machine).",
    ),
    Setting("smtp_username", "", "SMTP user name. Empty: no authentication."),
    Setting("smtp_password", "", "SMTP password (keep it in the environment or a file only the service reads)."),
    Setting("smtp_timeout", 30.0, "Seconds before an SMTP connection or command gives up."),
    Setting(
        "mail_retries",
        5,
        "Attempts of an email after temporary failures (SMTP 4xx, connection errors) before it is marked failed.",
    ),
    Setting(
        "mail_backoff",
        300.0,
        "Seconds before the first retry of an email after a temporary failure; each further retry waits twice as long.",
    ),
    Setting(
        "mail_max_failures",
        3,
        "Permanent failures (SMTP 5xx) in a row after which a subscription is disabled.",
    ),
    Setting("confirm_hours", 48, "Hours a subscription's confirmation link stays valid."),
    Setting("digest_papers", 10, "Most papers in each section of a digest (trending, picks, saved searches)."),
    Setting(
        "digest_weekends",
        False,
        "Default for new subscriptions: send daily digests on Saturday and Sunday too (arXiv announces nothing"
        " then). Each subscriber can change it.",
    ),
    Setting("recommend_days", 14, "How recent (days since added) a paper must be to be recommended."),
    Setting("log_level", "INFO", "Logging level (DEBUG, INFO, WARNING, ERROR)."),
)


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
    return Config(**values)


def settings_markdown() -> str:
    """The settings table for docs/configuration.md."""
    lines = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    for s in SETTINGS:
        lines.append(f"| `{s.env}` | `{s.default}` | {s.help} |")
    return "\n".join(lines) + "\n"
