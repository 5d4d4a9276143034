"""The outbox: every email is recorded here before it is sent, and sent at most once per (subscriber, kind, period).

**Never twice.** :meth:`Outbox.record` stores the whole message under a key derived from
``(subscription_id, kind, period)`` — a digest's day or ISO week, a confirmation's nonce — and stores nothing when
that key exists: a digest run that is repeated, or two workers building the same digest, record it once. The row
id *is* the key (a hash of it), so the rule also holds where ``subscription_id`` is NULL, which the table's unique
index cannot see (NULLs never collide in SQL).

**Delivery.** :meth:`Outbox.deliver` runs under the job lock ``mail`` (one sender per database, across processes
and, on PostgreSQL, machines). It first puts rows a dead sender left ``sending`` back to ``pending`` — holding the
lock, we know nobody else is sending — and then, for each due pending row: commits ``sending`` with
``attempts + 1``, sends, and commits ``sent`` the moment the server has answered 250. A temporary failure (4xx,
no connection) makes the row pending again after ``backoff × 2^(attempts-1)`` seconds (300, 600, 1200 … by
default), or ``failed`` after ``retries`` attempts; a permanent one (5xx) makes it ``failed`` at once and counts a
failure against its subscription, which is disabled after ``max_failures`` in a row. Any delivered mail resets
that count to 0.

**At most one repeat per crash, honestly.** The ``sent`` mark is committed from the mailer's ``accepted``
callback, the moment the server has answered 250 — before QUIT, one message at a time, never after a batch. A
sender killed before that commit leaves the row ``sending`` and the next run sends it again: rightly when the
server had accepted nothing, a repeat when it had stored the message but its 250 had not arrived (SMTP gives a
client no way to tell the two apart). A crash repeats at most the one message in flight, with the same
``Message-ID`` (stored with it), on which receivers deduplicate. ``docs/mail.md`` tells the story.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Collection, Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_string, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from typing import Any

from sqlalchemy import and_, case, func, select, update

from dailypapers.db.engine import Database
from dailypapers.db.schema import meta, outbox, subscriptions
from dailypapers.errors import BadInput
from dailypapers.mail.addresses import check_address
from dailypapers.mail.mailer import Mailer, MailError, PermanentFailure

MAIL_LOCK = "mail"  # the job lock every delivery holds (Store.job_lock)
STATUSES = ("pending", "sending", "sent", "failed")
BATCH = 100  # due rows read per query: a morning of digests is delivered in a few reads, never held in memory
MAX_RECENT = 1000
ERR = 2000  # characters of an error kept: an SMTP reply is one line, a stack of them stays readable
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxEntry:
    """One recorded email and where its delivery stands."""

    id: str
    subscription_id: str | None
    kind: str
    period: str
    recipient: str
    message_id: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    sent_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}


@dataclass
class DeliveryReport:
    """What one :meth:`Outbox.deliver` did. ``held``: due mail left pending because the mailer sends nothing
    (``DAILYPAPERS_MAILER=none``); ``recovered``: rows a dead sender had left ``sending``; ``cancelled``: digests
    whose subscriber unsubscribed (or was disabled) after they were recorded, marked failed unsent."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped_locked: bool = False
    held: int = 0
    recovered: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)  # "recipient: error" of each retry and failure

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def entry_key(subscription_id: str | None, kind: str, period: str) -> str:
    """The row id of ``(subscription_id, kind, period)``: the never-twice key, NULL subscriptions included."""
    raw = json.dumps([subscription_id, kind, period])  # unambiguous: None is not "", no separator to forge
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


class Outbox:
    """The outbox table and its delivery. ``lock`` is ``Store.job_lock`` (a non-blocking named lock)."""

    def __init__(
        self,
        db: Database,
        lock: Callable[[str], AbstractContextManager[bool]],
        *,
        retries: int,
        backoff: float,
        max_failures: int,
        sender: str,
    ) -> None:
        self.db = db
        self._lock = lock
        self.retries = retries
        self.backoff = backoff
        self.max_failures = max_failures
        self.sender = sender
        sender_address = (getaddresses([sender]) or [("", "")])[0][1]
        self._domain = sender_address.rpartition("@")[2] or "localhost"  # Message-IDs: no DNS lookup of our name

    # -- recording ----------------------------------------------------------------------------------------------
    def record(
        self,
        message: EmailMessage,
        *,
        kind: str,
        period: str,
        subscription_id: str | None = None,
        now: datetime | None = None,
        state: tuple[str, str] | None = None,
    ) -> OutboxEntry | None:
        """Store ``message`` for delivery; None (nothing stored) when ``(subscription_id, kind, period)`` is taken.
        ``state``: a ``(key, value)`` of ``meta`` written in the same transaction when the message is stored (what
        a digest saw: the two are committed together or not at all).

        Sets ``From`` (the configured sender), ``Date`` and ``Message-ID`` where missing. The message must have
        exactly one recipient, in ``To`` (no Cc/Bcc); its address is checked and normalised
        (:func:`~dailypapers.mail.addresses.check_address`, :class:`BadInput` when refused)."""
        if not kind or not period or len(kind) > 40 or len(period) > 200:
            raise ValueError("an outbox entry needs a kind (at most 40 characters) and a period (at most 200)")
        now = _aware(now)
        recipient = self._recipient(message)
        if message["From"] is None:
            message["From"] = self.sender
        if message["Date"] is None:
            message["Date"] = format_datetime(now)
        if message["Message-ID"] is None:
            message["Message-ID"] = make_msgid("dailypapers", domain=self._domain)
        row = {
            "id": entry_key(subscription_id, kind, period), "subscription_id": subscription_id, "kind": kind,
            "period": period, "recipient": recipient, "message": message.as_string(),
            "message_id": str(message["Message-ID"]), "status": "pending", "attempts": 0, "next_attempt_at": now,
            "last_error": "", "created_at": now, "sent_at": None,
        }  # fmt: skip
        with self.db.write() as conn:
            stored = self.db.insert(outbox).values(**row).on_conflict_do_nothing().returning(outbox.c.id)
            if conn.execute(stored).scalar() is None:  # the key was taken: recorded before
                return None
            if state is not None:
                key, value = state
                noted = self.db.insert(meta).values(key=key, value=value)
                conn.execute(noted.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": value}))
        return _entry({k: v for k, v in row.items() if k != "message"})

    @staticmethod
    def _recipient(message: EmailMessage) -> str:
        """The one To address, normalised (and written back into ``To`` if normalising changed it)."""
        if message.get_all("Cc") or message.get_all("Bcc"):
            raise ValueError("an outbox message has one recipient, in To (no Cc or Bcc)")
        found = getaddresses([str(v) for v in message.get_all("To", [])])
        if len(found) != 1 or not found[0][1]:
            raise BadInput("An email needs exactly one recipient address.")
        name, raw = found[0]
        address = check_address(raw)
        if address != raw:
            local, _, domain = address.partition("@")
            del message["To"]
            message["To"] = Address(name, local, domain)
        return address

    # -- delivery -----------------------------------------------------------------------------------------------
    def deliver(
        self,
        mailer: Mailer,
        *,
        now: datetime | None = None,
        limit: int | None = None,
        ids: Collection[str] | None = None,
    ) -> DeliveryReport:
        """Send the due mail (``next_attempt_at <= now``), at most ``limit`` messages, only ``ids`` if given.

        Skips everything (``skipped_locked``) when another sender holds the lock ``mail``. ``now`` (default: the
        clock, read anew for each batch, so mail recorded during the run goes out with it) drives the tests."""
        report = DeliveryReport()
        with self._lock(MAIL_LOCK) as acquired:
            if not acquired:
                report.skipped_locked = True
                return report
            report.recovered = self._recover()
            if not getattr(mailer, "sends", True):
                report.held = len(self._due(_aware(now), MAX_RECENT, ids))
                return report
            done = 0
            while limit is None or done < limit:
                batch = self._due(_aware(now), BATCH if limit is None else min(BATCH, limit - done), ids)
                if not batch:
                    break
                for entry_id in batch:
                    done += self._deliver_one(mailer, entry_id, now, report)
        return report

    def _due(self, now: datetime, limit: int, ids: Collection[str] | None) -> list[str]:
        query = (
            select(outbox.c.id)
            .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
        )
        if ids is not None:
            query = query.where(outbox.c.id.in_(list(ids)))
        with self.db.read() as conn:
            return list(conn.execute(query).scalars())

    def _recover(self) -> int:
        """Rows left ``sending`` by a sender that died (we hold the lock: nobody is sending them now): pending
        again, or failed once they have had ``retries`` attempts (a message that kills its sender every time)."""
        note = "interrupted: the sender stopped while sending (it may have been delivered)"
        with self.db.write() as conn:
            stuck = outbox.c.status == "sending"
            spent = conn.execute(
                update(outbox).where(stuck, outbox.c.attempts >= self.retries).values(status="failed", last_error=note)
            ).rowcount
            again = conn.execute(update(outbox).where(stuck).values(status="pending", last_error=note)).rowcount
        if spent or again:
            log.warning("outbox: %d interrupted deliveries retried, %d given up", again, spent)
        return int(spent + again)

    def _deliver_one(self, mailer: Mailer, entry_id: str, now: datetime | None, report: DeliveryReport) -> int:
        """Claim, send and settle one row (each step committed); 1 if it was attempted."""
        with self.db.write() as conn:
            claimed = conn.execute(
                update(outbox)
                .where(outbox.c.id == entry_id, outbox.c.status == "pending")
                .values(status="sending", attempts=outbox.c.attempts + 1)
            ).rowcount
            row = conn.execute(select(outbox).where(outbox.c.id == entry_id)).mappings().one()
            stopped = claimed and self._stopped(conn, row)
            if stopped:  # recorded before an unsubscribe: an unsubscribe must stop the mail still waiting too
                conn.execute(update(outbox).where(outbox.c.id == entry_id).values(status="failed", last_error=stopped))
                report.cancelled += 1
        if not claimed or stopped:
            return 0
        accepted = False

        def mark_sent() -> None:  # the moment the server answered 250, before the mailer says QUIT
            nonlocal accepted
            self._sent(row, _aware(now))
            accepted = True

        try:
            mailer.send(_parse(row["message"]), mark_sent)
            if not accepted:  # a mailer that returns without calling back: it returns once the message is taken
                mark_sent()
        except Exception as exc:
            if accepted:  # failed after the 250 (a mailer's bug): the message is sent, nothing to retry
                log.exception("outbox: mailer %s failed after %s was accepted", mailer.name, entry_id)
                report.sent += 1
                return 1
            self._failure(mailer, row, exc, now, report)
        else:
            report.sent += 1
        return 1

    def _failure(self, mailer: Mailer, row: Any, exc: Exception, now: datetime | None, report: DeliveryReport) -> None:
        """Settle a message the mailer did not send: failed at once (5xx), retried later, or given up."""
        if isinstance(exc, PermanentFailure):
            self._failed(row, exc.message, _aware(now), permanent=True)
            report.failed += 1
            report.errors.append(f"{row['recipient']}: {exc.message}")
            return
        # TemporaryFailure, a plain MailError, or a bug in a mailer: try again later
        message = exc.message if isinstance(exc, MailError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, MailError):
            log.error("outbox: mailer %s failed on %s", mailer.name, row["id"], exc_info=exc)
        if row["attempts"] >= self.retries:
            self._failed(row, f"gave up after {row['attempts']} attempts: {message}", _aware(now), permanent=False)
            report.failed += 1
        else:
            self._retry(row, message, _aware(now))
            report.retried += 1
        report.errors.append(f"{row['recipient']}: {message}")

    @staticmethod
    def _stopped(conn: Any, row: Any) -> str:
        """Why a digest must not go out any more ("" when it may): its subscription is no longer active."""
        if row["kind"] != "digest" or not row["subscription_id"]:
            return ""
        status = conn.execute(
            select(subscriptions.c.status).where(subscriptions.c.id == row["subscription_id"])
        ).scalar_one_or_none()
        return "" if status == "active" else f"not sent: the subscription is {status or 'deleted'}"

    def _sent(self, row: Any, now: datetime) -> None:
        """Committed from the mailer's ``accepted`` callback, right after the server's 250 (see the docstring)."""
        with self.db.write() as conn:
            mark = update(outbox).where(outbox.c.id == row["id"])
            conn.execute(mark.values(status="sent", sent_at=now, last_error=""))
            if row["subscription_id"]:
                conn.execute(
                    update(subscriptions)
                    .where(subscriptions.c.id == row["subscription_id"], subscriptions.c.failures != 0)
                    .values(failures=0)
                )

    def _retry(self, row: Any, error: str, now: datetime) -> None:
        delay = self.backoff * 2 ** (row["attempts"] - 1)  # attempts >= 1 here: 1 × backoff, 2 ×, 4 × …
        with self.db.write() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == row["id"])
                .values(status="pending", next_attempt_at=now + timedelta(seconds=delay), last_error=error[:ERR])
            )

    def _failed(self, row: Any, error: str, now: datetime, *, permanent: bool) -> None:
        """``failed``; a permanent failure also counts against the subscription (disabled at ``max_failures``)."""
        with self.db.write() as conn:
            conn.execute(update(outbox).where(outbox.c.id == row["id"]).values(status="failed", last_error=error[:ERR]))
            if permanent and row["subscription_id"]:
                failures = subscriptions.c.failures + 1
                disable = and_(subscriptions.c.status.in_(("pending", "active")), failures >= self.max_failures)
                conn.execute(
                    update(subscriptions)
                    .where(subscriptions.c.id == row["subscription_id"])
                    .values(
                        failures=failures,
                        status=case((disable, "disabled"), else_=subscriptions.c.status),
                        updated_at=now,
                    )
                )

    def give_up(self, entry_id: str, reason: str) -> bool:
        """Mark a pending entry ``failed`` (``reason`` as its error) so that no later delivery sends it; False if
        it was not pending (a test message that failed once, say: its retry would arrive after the next test)."""
        with self.db.write() as conn:
            gone = conn.execute(
                update(outbox)
                .where(outbox.c.id == entry_id, outbox.c.status == "pending")
                .values(status="failed", last_error=reason[:ERR])
            ).rowcount
        return bool(gone)

    # -- reading ------------------------------------------------------------------------------------------------
    def get(self, entry_id: str) -> OutboxEntry | None:
        with self.db.read() as conn:
            row = conn.execute(select(*_ENTRY_COLUMNS).where(outbox.c.id == entry_id)).mappings().first()
        return _entry(row) if row else None

    def recent(self, limit: int = 50, status: str | None = None) -> list[OutboxEntry]:
        """The newest entries first, optionally only those of ``status``."""
        if status is not None and status not in STATUSES:
            raise BadInput(f"Unknown outbox status {status!r}: use one of {', '.join(STATUSES)}.")
        query = select(*_ENTRY_COLUMNS).order_by(outbox.c.created_at.desc(), outbox.c.id.desc())
        if status is not None:
            query = query.where(outbox.c.status == status)
        with self.db.read() as conn:
            rows = conn.execute(query.limit(max(1, min(int(limit), MAX_RECENT)))).mappings().all()
        return [_entry(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Entries per status (every status, zeros included)."""
        with self.db.read() as conn:
            rows = conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)).all()
        found = {str(s): int(n) for s, n in rows}
        return {s: found.get(s, 0) for s in STATUSES}

    def message(self, entry_id: str) -> EmailMessage | None:
        """The stored message of ``entry_id``, parsed back (exactly what is sent)."""
        with self.db.read() as conn:
            text = conn.execute(select(outbox.c.message).where(outbox.c.id == entry_id)).scalar()
        return _parse(text) if text is not None else None


_ENTRY_COLUMNS = [c for c in outbox.c if c.name != "message"]


def _entry(values: Mapping[Any, Any]) -> OutboxEntry:
    return OutboxEntry(**values)


def _parse(text: str) -> EmailMessage:
    parsed = message_from_string(text, policy=policy.default)
    assert isinstance(parsed, EmailMessage)  # policy.default builds EmailMessage objects
    return parsed


def _aware(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
