"""The digest service (``lib.digests``): which subscriptions are due, for which period, what each digest covers;
recording every due digest in the outbox, then delivering; and previews.

**Periods.** A daily digest's period is the subscriber's local date (``2026-11-20``), a weekly one's the ISO week
of it (``2026-W47``). A daily subscription is due at or after its local ``send_hour`` on a weekday, and on
Saturday and Sunday too when it asked for ``weekends`` (arXiv announces nothing on those days). A weekly one is
due from Monday's ``send_hour`` on. A digest goes out once per period: the outbox's unique key (subscription,
``digest``, period) admits one row, however many workers run the batch, and whatever was killed where.

**Late, never twice, never a backlog.** The ``digest.send`` job runs every hour. A worker that was down sends the
*current* period's digest when it comes back (later that day; a weekly one later that week), never the periods it
missed: yesterday's digest is not worth sending today, and its papers are in today's window anyway.

**What a digest covers: every paper stored since the previous one, once.** A subscription's first digest shows
the papers listed under the newest day with papers up to the subscriber's local today (the morning's list; at most
:data:`DAILY_LOOKBACK_DAYS` old), a weekly one those of the 7 days up to today. Each recorded digest keeps the key
of the newest stored paper when it was composed (``meta``, key ``digest:<subscription id>``, written in the same
transaction as the outbox row: the two never disagree), and every later digest covers the papers stored after that
key, whatever day they are listed under — a paper imported into a day whose digest had gone out, a submission
after the send hour — as long as that day is at most :data:`LATE_DAYS` before the digest's day (older days are an
archive import, not news). A digest with nothing new is not recorded (reported as ``empty``) and is tried again at
the next run: papers stored later still go out. A preview of a subscriber shows what its next digest would bring,
from the same key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from dailypapers.db.meta import Meta
from dailypapers.errors import BadInput, NotFound
from dailypapers.mail.addresses import check_address
from dailypapers.mail.digest import Digest, MatchesFn, PicksFn, Sources, Subscriber, Window, compose, key_of, newest_key
from dailypapers.mail.links import Links
from dailypapers.mail.render import FooterLinks, render_digest
from dailypapers.mail.subscriptions import DEFAULT_SECTIONS, Subscription
from dailypapers.papers.periods import parse_day, parse_week
from dailypapers.papers.service import Papers

KIND = "digest"
DAILY_LOOKBACK_DAYS = 7  # a first daily digest never shows a "newest day" older than this (a stale instance: none)
WEEK_DAYS = 7
LATE_DAYS = 14  # a paper stored since the previous digest goes out if listed at most this many days before its day
STATE_KEY = "digest:{}"  # meta key of a subscription's last digest: {"period": …, "pk": 1234, "paper": "2611.01234"}

log = logging.getLogger(__name__)


class SubscriptionsLike(Protocol):
    def active(self) -> list[Subscription]: ...


class OutboxLike(Protocol):
    """What the digest needs of :class:`dailypapers.mail.outbox.Outbox`."""

    def record(
        self, message: EmailMessage, *, kind: str, period: str, subscription_id: str | None = None,
        now: datetime | None = None, state: tuple[str, str] | None = None,
    ) -> object | None: ...  # fmt: skip

    def deliver(self, mailer: Any, *, now: datetime | None = None) -> Any: ...


@dataclass
class DigestReport:
    """What one batch did: per active subscription, due or not, and what became of the due ones."""

    subscriptions: int = 0  # active subscriptions looked at
    due: int = 0  # due now, for a period without a digest yet
    recorded: int = 0  # digests recorded in the outbox by this run
    already: int = 0  # digests an earlier run (or another worker) recorded for this period
    empty: int = 0  # due, but nothing new: nothing recorded, tried again at the next run
    failed: int = 0  # composing failed (logged with the subscription's id); the others went on
    periods: list[str] = field(default_factory=list)  # the periods of the digests recorded
    delivery: Any = None  # the outbox's DeliveryReport of the sending that followed

    def counts(self) -> dict[str, Any]:
        """A JSON-friendly dict, for the job's run record and the CLI."""
        out = {k: v for k, v in asdict(self).items() if k not in ("delivery", "periods")}
        out["periods"] = sorted(set(self.periods))
        d = self.delivery
        out["delivery"] = asdict(d) if is_dataclass(d) and not isinstance(d, type) else d
        return out


def due_period(sub: Subscription, now: datetime) -> tuple[str, date] | None:
    """``(period key, local day)`` when ``sub`` is due at ``now``, else None (not its day, or before its hour)."""
    local = now.astimezone(ZoneInfo(sub.time_zone))
    day = local.date()
    if sub.frequency == "weekly":
        if day.weekday() == 0 and local.hour < sub.send_hour:
            return None  # Monday before the hour; Tuesday to Sunday: the week's digest, late
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}", day
    if day.weekday() >= 5 and not sub.weekends:
        return None
    if local.hour < sub.send_hour:
        return None
    return day.isoformat(), day


def window_for(papers: Papers, frequency: str, period: str, day: date, state: dict[str, Any]) -> Window | None:
    """What a digest for ``day`` covers, given the subscription's ``state`` (its previous digest's); None when
    nothing was stored since (or, for a first daily digest, no day with papers is recent enough)."""
    through, newest_id = newest_key(papers)
    after = state.get("pk")
    if isinstance(after, int):
        if isinstance(state.get("paper"), str):  # its key in this database (another one after ``db copy``)
            found = key_of(papers, state["paper"])
            # Gone (a half-done submission is deleted again): SQLite may give its key to the next paper, a new one.
            after = found if found is not None else after - 1
        if through <= after:
            return None
        return Window(period, frequency, day - timedelta(days=LATE_DAYS), None, day, after, through, newest_id)
    if isinstance(state.get("through"), str):  # a state written before keys were kept: the days after that day
        start = max(date.fromisoformat(state["through"]) + timedelta(days=1), day - timedelta(days=LATE_DAYS))
        return Window(period, frequency, start, None, day, None, through, newest_id)
    if frequency == "weekly":  # open-ended (``end`` None): a list dated ahead of the subscriber's zone is stored
        return Window(period, frequency, day - timedelta(days=WEEK_DAYS - 1), None, day, None, through, newest_id)
    newest = papers.neighbour_days(day + timedelta(days=1))[0]  # the newest day with papers up to today
    if newest is None or newest <= day - timedelta(days=DAILY_LOOKBACK_DAYS):
        return None
    return Window(period, frequency, newest, None, day, None, through, newest_id)


def subscriber(sub: Subscription) -> Subscriber:
    return Subscriber(sub.id, sub.email, sub.user_id, sub.frequency, tuple(sub.sections), tuple(sub.categories))


@dataclass(frozen=True)
class _Draft:
    """A made-up subscription for a preview to an address nobody subscribed (its links open nothing)."""

    id: str = "preview"
    nonce: str = "preview"


class Digests:
    """Composes, records and delivers the digests of the configured database."""

    def __init__(
        self,
        papers: Papers,
        subscriptions: SubscriptionsLike,
        outbox: OutboxLike,
        mailer: Callable[[], Any],
        links: Links,
        meta: Meta,
        *,
        mail_from: str,
        per_section: int,
        time_zone: str = "UTC",
        picks: PicksFn | None = None,
        matches: MatchesFn | None = None,
    ) -> None:
        self.papers = papers
        self.subscriptions = subscriptions
        self.outbox = outbox
        self.mailer = mailer  # called at delivery: the mailer is built on first use
        self.links = links
        self.meta = meta
        self.mail_from = mail_from
        self.per_section = per_section
        self.time_zone = time_zone
        self.picks = picks
        self.matches = matches

    @property
    def site(self) -> str:
        return self.links.site_url

    def _sources(self) -> Sources:
        return Sources(self.papers, self.picks, self.matches)

    # -- the batch -----------------------------------------------------------------------------------------------
    def send_due(self, *, now: datetime | None = None) -> DigestReport:
        """Record the digest of every due subscription in the outbox, then deliver what the outbox holds."""
        now = now or datetime.now(UTC)
        report = DigestReport()
        sources = self._sources()  # one per batch: subscribers with the same window share its papers
        for sub in self.subscriptions.active():
            report.subscriptions += 1
            try:
                self._one(sub, now, sources, report)
            except Exception:  # one subscriber's failure (a bad time zone, a broken model) must not stop the rest
                log.exception("digest of subscription %s failed", sub.id)
                report.failed += 1
        report.delivery = self.outbox.deliver(self.mailer(), now=now)
        return report

    def _one(self, sub: Subscription, now: datetime, sources: Sources, report: DigestReport) -> None:
        due = due_period(sub, now)
        if due is None:
            return
        period, day = due
        state = self._state(sub.id)
        if state.get("period") == period:
            report.already += 1  # recorded by an earlier run: no need to compose it again
            return
        report.due += 1
        window = window_for(self.papers, sub.frequency, period, day, state)
        digest = self._compose(sources, subscriber(sub), window, now) if window is not None else None
        if window is None or digest is None or digest.empty:
            report.empty += 1
            return
        message = render_digest(digest, self._footer(sub), site=self.site, mail_from=self.mail_from, now=now)
        # The state goes in the outbox row's transaction: a digest is never recorded without the key it saw.
        state = {"period": period, "pk": window.through_pk, "paper": window.through_id}
        entry = self.outbox.record(
            message, kind=KIND, period=period, subscription_id=sub.id, now=now,
            state=(STATE_KEY.format(sub.id), json.dumps(state)),
        )  # fmt: skip
        if entry is None:  # another worker got there first (or a killed run recorded it): its state stands
            report.already += 1
        else:
            report.recorded += 1
            report.periods.append(period)

    def _state(self, subscription_id: str) -> dict[str, Any]:
        raw = self.meta.get(STATE_KEY.format(subscription_id))
        try:
            value = json.loads(raw) if raw else {}
        except ValueError:
            value = {}
        return value if isinstance(value, dict) else {}

    def _compose(self, sources: Sources, sub: Subscriber, window: Window, now: datetime) -> Digest:
        return compose(sources, sub, window, limit=self.per_section, site=self.site, now=now)

    def _footer(self, sub: Any) -> FooterLinks:
        return FooterLinks(self.links.manage_url(sub), self.links.unsubscribe_url(sub), self.links.one_click_url(sub))

    # -- previews -----------------------------------------------------------------------------------------------
    def preview(
        self, email: str, *, period: str | None = None, frequency: str = "daily", now: datetime | None = None
    ) -> EmailMessage:
        """The digest ``email`` would get for ``period`` (a ``YYYY-MM-DD`` day or ``YYYY-Www`` week; default: the
        current one of ``frequency``), rendered but not recorded: for its active subscription if it has one — the
        papers stored since its previous digest, as :meth:`send_due` would send them — else for a made-up
        subscription with the default sections. :class:`NotFound` when it would be empty."""
        address = check_address(email)
        now = now or datetime.now(UTC)
        sub = next((s for s in self.subscriptions.active() if s.email == address), None)
        if sub is not None:
            who, footer, zone = subscriber(sub), self._footer(sub), sub.time_zone
        else:
            who = Subscriber("preview", address, None, frequency, tuple(DEFAULT_SECTIONS))
            footer, zone = self._footer(_Draft()), self.time_zone
        frequency, key, day = _preview_period(period, frequency, now.astimezone(ZoneInfo(zone)).date())
        who = Subscriber(who.id, who.email, who.user_id, frequency, who.sections, who.categories)
        state = self._state(sub.id) if sub is not None else {}  # what its next digest would bring, as send_due
        window = window_for(self.papers, frequency, key, day, state)
        digest = self._compose(self._sources(), who, window, now) if window is not None else None
        if digest is None or digest.empty:
            raise NotFound(f"No new papers for the {frequency} digest of {key}: there is nothing to preview.")
        return render_digest(digest, footer, site=self.site, mail_from=self.mail_from, now=now, preview=True)


def _preview_period(period: str | None, frequency: str, today: date) -> tuple[str, str, date]:
    """``(frequency, period key, day)`` of a preview: a day, a week, or the current period of ``frequency``."""
    if frequency not in ("daily", "weekly"):
        raise BadInput("The frequency must be daily or weekly.")
    if period is None:
        if frequency == "weekly":
            year, week, _ = today.isocalendar()
            return frequency, f"{year:04d}-W{week:02d}", today
        return frequency, today.isoformat(), today
    try:
        if "W" in period:
            monday = parse_week(period)
            return "weekly", monday.key, monday.start
        return "daily", period, parse_day(period).start
    except ValueError as exc:
        raise BadInput(f"{exc}; a digest's period is a day (YYYY-MM-DD) or an ISO week (YYYY-Www).") from None
