"""Email subscriptions: double opt-in, signed confirm / unsubscribe / manage links, and each subscriber's choices
(SQLAlchemy Core over ``subscriptions``, one set of queries for both backends).

The rules hold for every caller (pages, JSON API, CLI, the digest), so they live here:

* **Double opt-in.** :meth:`Subscriptions.subscribe` records a ``pending`` subscription and a confirmation email in
  the outbox (kind ``confirm``, a fresh period key per email), then asks for delivery. The link is signed over
  (id, nonce) and expires after ``confirm_hours``. Confirming sets ``active`` and a new nonce, so the link is spent:
  a replay says "already confirmed" and changes nothing.
* **Unsubscribe links** are signed over the current nonce and never expire (RFC 8058 wants them to work from an
  old email). Using one sets ``unsubscribed`` and a new nonce (a replay: "already unsubscribed"); subscribing again
  rotates the nonce once more, so the links of earlier emails are spent.
* **No enumeration, no mail bombing.** Whatever the address's state, the caller learns nothing new (the pages
  show one answer). An active address is never changed by the form: its owner gets at most one "you are already
  subscribed" email (with the manage link) an hour; a pending one gets at most one confirmation email an hour
  (:data:`RESEND_AFTER`). Two requests racing inside the same millisecond may each send one — bounded, and the
  web form is also rate limited per client address.
* Every field is checked (:func:`dailypapers.mail.preferences.clean_preferences`), with a sentence for the
  person who sent it; addresses go through :func:`dailypapers.mail.addresses.check_address` (header injection,
  length, unicode tricks).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import jinja2
from sqlalchemy import Connection, func, select, update

from dailypapers.db.engine import Database
from dailypapers.db.ids import sortable_id
from dailypapers.db.schema import outbox, subscriptions
from dailypapers.errors import BadInput, Conflict, NotFound
from dailypapers.mail.addresses import check_address, mailbox
from dailypapers.mail.links import PURPOSES, BadLink, Links, Purpose
from dailypapers.mail.preferences import (
    DEFAULT_SECTIONS,
    FREQUENCIES,
    PREFERENCES,
    SECTIONS,
    clean_preferences,
)

__all__ = ["DEFAULT_SECTIONS", "FREQUENCIES", "PREFERENCES", "SECTIONS", "AlreadyDone", "Subscription", "Subscriptions"]
STATUSES = ("pending", "active", "unsubscribed", "disabled")
RESEND_AFTER = timedelta(hours=1)  # at most one confirmation (or "already subscribed") email an hour per address
TEMPLATE_DIR = Path(__file__).parent / "templates"


class AlreadyDone(Conflict):
    """A spent link used again for what it already did ("already confirmed", "already unsubscribed"): 409."""


class OutboxLike(Protocol):
    """What subscriptions need of :class:`dailypapers.mail.outbox.Outbox`."""

    def record(
        self,
        message: EmailMessage,
        *,
        kind: str,
        period: str,
        subscription_id: str | None = None,
        now: datetime | None = None,
    ) -> object | None: ...


@dataclass(frozen=True)
class Subscription:
    """One subscription as stored; ``sections`` and ``categories`` are tuples of names."""

    id: str
    email: str
    user_id: str | None
    status: str
    frequency: str
    time_zone: str
    send_hour: int
    weekends: bool
    sections: tuple[str, ...]
    categories: tuple[str, ...]
    nonce: str
    failures: int
    created_at: datetime
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None
    updated_at: datetime

    @property
    def is_active(self) -> bool:
        return self.status == "active"


def _check_whole(sub: Subscription) -> None:
    if "categories" in sub.sections and not sub.categories:
        raise BadInput("The categories section needs at least one category (such as cs.CL).")


def _columns(values: dict[str, Any]) -> dict[str, Any]:
    """Preferences as stored: sections and categories space-separated."""
    out = dict(values)
    for name in ("sections", "categories"):
        if name in out:
            out[name] = " ".join(out[name])
    return out


def _subscription(row: Any) -> Subscription:
    m = row._mapping
    return Subscription(
        id=m["id"], email=m["email"], user_id=m["user_id"], status=m["status"], frequency=m["frequency"],
        time_zone=m["time_zone"], send_hour=int(m["send_hour"]), weekends=bool(m["weekends"]),
        sections=tuple(m["sections"].split()), categories=tuple(m["categories"].split()), nonce=m["nonce"],
        failures=int(m["failures"] or 0), created_at=m["created_at"], confirmed_at=m["confirmed_at"],
        unsubscribed_at=m["unsubscribed_at"], updated_at=m["updated_at"],
    )  # fmt: skip


def _nonce() -> str:
    return secrets.token_urlsafe(12)


@cache
def _mail_templates() -> jinja2.Environment:
    """The email templates; HTML bodies are autoescaped, plain-text ones are not (they are not markup)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_email(name: str, context: dict[str, Any], *, to: str, sender: str) -> EmailMessage:
    """A multipart/alternative email (plain text, then HTML) from ``templates/{name}/``."""
    env = _mail_templates()
    subject = " ".join(env.get_template(f"{name}/subject.txt").render(context).split())
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(name, domain=domain)  # RFC 5322 §3.6.4: unique, on the sender's domain
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834 §5: no out-of-office replies to this
    message.set_content(env.get_template(f"{name}/body.txt").render(context))
    message.add_alternative(env.get_template(f"{name}/body.html").render(context), subtype="html")
    return message


class Subscriptions:
    """The subscriptions of the configured database."""

    def __init__(
        self,
        db: Database,
        outbox: OutboxLike,
        signer: Links,
        *,
        confirm_hours: int,
        default_time_zone: str,
        default_weekends: bool,
        mail_from: str = "dailypapers <dailypapers@localhost>",
        deliver: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.links = signer
        self.confirm_hours = confirm_hours
        self.default_time_zone = default_time_zone
        self.default_weekends = default_weekends
        self.mail_from = mail_from
        self.deliver = deliver or (lambda: None)  # the library's deliver_soon: send in the background

    # -- reading ------------------------------------------------------------------------------------------------
    def get(self, subscription_id: str) -> Subscription | None:
        if not isinstance(subscription_id, str) or not 0 < len(subscription_id) <= 64:
            return None
        with self.db.read() as conn:
            row = conn.execute(select(subscriptions).where(subscriptions.c.id == subscription_id)).first()
        return _subscription(row) if row else None

    def for_user(self, user_id: str) -> Subscription | None:
        """The subscription of a signed-in user (the newest, if several): one linked to the account, which happens
        only once the account has proven the mailbox (issue 21 #12). Never matched by email."""
        query = select(subscriptions).where(subscriptions.c.user_id == user_id)
        with self.db.read() as conn:
            row = conn.execute(query.order_by(subscriptions.c.updated_at.desc(), subscriptions.c.id.desc())).first()
        return _subscription(row) if row else None

    def claim(self, email: str, user_id: str) -> bool:
        """Make the subscription of ``email`` the account ``user_id``'s: the caller has just seen that account prove
        the mailbox (a verification or reset link mailed to it was opened). Whether there was one to claim."""
        query = update(subscriptions).where(func.lower(subscriptions.c.email) == email.lower())
        with self.db.write() as conn:
            return bool(conn.execute(query.values(user_id=user_id)).rowcount)

    def active(self) -> list[Subscription]:
        """Every confirmed subscription (the digest's recipients), oldest first."""
        query = select(subscriptions).where(subscriptions.c.status == "active").order_by(subscriptions.c.id)
        with self.db.read() as conn:
            return [_subscription(r) for r in conn.execute(query)]

    # -- subscribing ---------------------------------------------------------------------------------------------
    def subscribe(
        self,
        email: str,
        *,
        user_id: str | None = None,
        frequency: str = "daily",
        time_zone: str | None = None,
        send_hour: int = 7,
        weekends: bool | None = None,
        sections: Sequence[str] = DEFAULT_SECTIONS,
        categories: Sequence[str] = (),
        now: datetime | None = None,
    ) -> Subscription:
        """Start (or restart) the double opt-in of ``email``: a pending subscription and a confirmation email.
        An active subscription is left as it is (see the module's rules); the result is the stored subscription,
        which a page must not show to an anonymous caller."""
        address = check_address(email)
        prefs = clean_preferences(
            dict(frequency=frequency, time_zone=time_zone or self.default_time_zone, send_hour=send_hour,
                 weekends=self.default_weekends if weekends is None else weekends, sections=sections,
                 categories=categories)
        )  # fmt: skip
        now = now or datetime.now(UTC)
        with self.db.write() as conn:
            sub, mail = self._start(conn, address, user_id, prefs, now)
            if self._mailed_recently(conn, sub.email, now):
                mail = None
        if mail is not None:
            self._send(sub, mail, now)
        return sub

    def _start(
        self, conn: Connection, address: str, user_id: str | None, prefs: dict[str, Any], now: datetime
    ) -> tuple[Subscription, str | None]:
        """Write the subscription of ``address``; returns it and the email it needs ("confirm", "already")."""
        t = subscriptions
        # One writer at a time: SQLite's BEGIN IMMEDIATE; on PostgreSQL the row lock, or the unique email below.
        # Matched case-blind: the local part keeps its case (RFC 5321 §2.4), but ANN@ and ann@ are one person to
        # every real mail server, and must not be two rows that each get a confirmation email (mail bombing).
        same = func.lower(t.c.email) == address.lower()
        row = conn.execute(select(t).where(same).order_by(t.c.id).with_for_update()).first()
        if row is None:
            draft = Subscription(
                id=sortable_id(), email=address, user_id=user_id, status="pending", nonce=_nonce(), failures=0,
                created_at=now, confirmed_at=None, unsubscribed_at=None, updated_at=now, **prefs,
            )  # fmt: skip
            _check_whole(draft)
            stmt = self.db.insert(t).values(**_columns(prefs), id=draft.id, email=address, user_id=user_id,
                                            status="pending", nonce=draft.nonce, failures=0, created_at=now,
                                            updated_at=now)  # fmt: skip
            # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT DO NOTHING either way.
            inserted = stmt.on_conflict_do_nothing(index_elements=[t.c.email]).returning(t.c.id)
            if conn.execute(inserted).scalar() is not None:
                return draft, "confirm"
            row = conn.execute(select(t).where(same).order_by(t.c.id)).first()  # a concurrent request won
        sub = _subscription(row)
        if sub.status == "active":  # a stranger must not change it, nor learn that it exists
            return sub, "already"
        changes: dict[str, Any] = dict(prefs, updated_at=now)
        if user_id is not None:
            changes["user_id"] = user_id
        if sub.status != "pending":  # unsubscribed or disabled: start again, and spend every older link
            changes.update(status="pending", nonce=_nonce(), failures=0, confirmed_at=None)
        sub = replace(sub, **changes)
        _check_whole(sub)
        conn.execute(update(t).where(t.c.id == sub.id).values(**_columns(changes)))
        return sub, "confirm"

    def _mailed_recently(self, conn: Connection, address: str, now: datetime) -> bool:
        """Whether the mailbox of ``address`` got a confirmation (or "already subscribed") mail within the hour.
        Counted on the mailbox (the outbox's recipient, case-blind), not on one subscription's row: spellings of
        one address must not each earn a mail (issue 21 #17)."""
        o = outbox
        query = (
            select(func.count())
            .select_from(o)
            .where(func.lower(o.c.recipient) == mailbox(address), o.c.kind == "confirm",
                   o.c.created_at > now - RESEND_AFTER)
        )  # fmt: skip
        return int(conn.execute(query).scalar_one()) > 0

    def _send(self, sub: Subscription, mail: str, now: datetime) -> None:
        context = {
            "already": mail == "already",
            "email": sub.email,
            "confirm_url": self.links.confirm_url(sub, at=now) if mail == "confirm" else "",
            "manage_url": self.links.manage_url(sub) if mail == "already" else "",
            "confirm_hours": self.confirm_hours,
            "frequency": sub.frequency,
            "site_url": self.links.site_url,
        }
        message = render_email("confirm", context, to=sub.email, sender=self.mail_from)
        period = f"{now:%Y-%m-%dT%H:%M:%S}/{secrets.token_hex(4)}"  # a fresh key: each request is its own email
        if self.outbox.record(message, kind="confirm", period=period, subscription_id=sub.id, now=now) is not None:
            self.deliver()

    # -- links ---------------------------------------------------------------------------------------------------
    def confirm(self, token: str, *, now: datetime | None = None) -> Subscription:
        """Confirm the subscription of a confirmation link's ``token``: ``active``, and the link is spent."""
        now = now or datetime.now(UTC)
        with self.db.write() as conn:
            sub = self._open(conn, "confirm", token, now)
            changes: dict[str, Any] = dict(
                status="active", confirmed_at=now, unsubscribed_at=None, nonce=_nonce(), failures=0, updated_at=now
            )
            conn.execute(update(subscriptions).where(subscriptions.c.id == sub.id).values(**changes))
        return replace(sub, **changes)

    def unsubscribe(self, token: str, *, now: datetime | None = None) -> Subscription:
        """Unsubscribe the subscription of an unsubscribe link's ``token`` (no expiry; the link is spent)."""
        now = now or datetime.now(UTC)
        with self.db.write() as conn:
            sub = self._open(conn, "unsubscribe", token, now)
            changes: dict[str, Any] = dict(status="unsubscribed", unsubscribed_at=now, nonce=_nonce(), updated_at=now)
            conn.execute(update(subscriptions).where(subscriptions.c.id == sub.id).values(**changes))
        return replace(sub, **changes)

    def from_link(self, token: str, purpose: Purpose = "manage", *, now: datetime | None = None) -> Subscription:
        """The subscription a link's ``token`` opens, changing nothing (the page before a link's button, and the
        manage page); the same errors as using the link would raise."""
        if purpose not in PURPOSES:
            raise BadLink("This link is not valid for this page.")
        with self.db.read() as conn:
            return self._open(conn, purpose, token, now or datetime.now(UTC))

    def _open(self, conn: Connection, purpose: Purpose, token: str, now: datetime) -> Subscription:
        """The subscription of a valid, unspent ``purpose`` link (its row locked on PostgreSQL); else
        :class:`BadLink` (forged, expired, wrong purpose, spent) or :class:`AlreadyDone` (a replay)."""
        max_age = self.confirm_hours * 3600 if purpose == "confirm" else None
        signed = self.links.read(purpose, token, max_age_s=max_age, now=now)
        query = select(subscriptions).where(subscriptions.c.id == signed.subscription_id).with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise BadLink("This link belongs to a subscription that no longer exists; subscribe again.")
        sub = _subscription(row)
        current = signed.nonce == sub.nonce
        if purpose == "confirm" and not (current and sub.status == "pending"):
            if sub.status == "active":
                raise AlreadyDone("This subscription is already confirmed; nothing changed.")
            raise BadLink("This confirmation link has been used or replaced; subscribe again for a new one.")
        if purpose == "unsubscribe" and not current:
            if sub.status != "active":  # no digest goes to this address, whichever email the link came from
                raise AlreadyDone("This address is already unsubscribed; no more digests are sent to it.")
            raise BadLink("This unsubscribe link is from before you subscribed again; use the newest email.")
        if not current:
            raise BadLink("This link has been used or replaced by a newer one; use the link of your newest email.")
        return sub

    # -- preferences ---------------------------------------------------------------------------------------------
    def update(self, subscription_id: str, /, **preferences: Any) -> Subscription:
        """Change the given preferences (:data:`PREFERENCES`) of a subscription; its status stays as it is."""
        changes = clean_preferences(preferences)
        now = datetime.now(UTC)
        with self.db.write() as conn:
            query = select(subscriptions).where(subscriptions.c.id == subscription_id).with_for_update()
            row = conn.execute(query).first()
            if row is None:
                raise NotFound("There is no such subscription.")
            sub = replace(_subscription(row), **changes, updated_at=now)
            _check_whole(sub)
            values = _columns(changes)
            conn.execute(update(subscriptions).where(subscriptions.c.id == sub.id).values(**values, updated_at=now))
        return sub
