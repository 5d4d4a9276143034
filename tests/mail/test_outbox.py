"""The outbox on each backend, delivering through a real SMTP server (aiosmtpd on 127.0.0.1): recorded once per
key, sent once, retried after the backoff on 4xx, failed on 5xx with the subscription's failures counted and the
subscription disabled, held by the null mailer, printed by the console mailer, skipped while another sender holds
the lock, and interrupted sends recovered. The SMTP client's own failure modes close the file."""

from __future__ import annotations

import io
import shutil
import ssl
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from dailypapers.db.schema import outbox as outbox_table
from dailypapers.db.schema import subscriptions
from dailypapers.errors import BadInput
from dailypapers.library import Library
from dailypapers.mail.mailer import ConsoleMailer, NullMailer, SmtpMailer, TemporaryFailure
from dailypapers.mail.outbox import entry_key
from tests.mail.smtp_server import SmtpServer, self_signed

T0 = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)


def mail(to: str = "ann@example.org", subject: str = "Your papers for 2 December") -> EmailMessage:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Three papers today: über-dropout, and two more.\n")
    return message


def subscribe(lib: Library, email: str = "ann@example.org", status: str = "active") -> str:
    """A subscriptions row, written directly (the subscription service is not what is under test)."""
    sid = f"sub-{email}"
    with lib.db.write() as conn:
        conn.execute(insert(subscriptions).values(
            id=sid, email=email, status=status, frequency="daily", time_zone="UTC", send_hour=7, weekends=False,
            sections="trending", categories="", nonce="n", failures=0, created_at=T0, updated_at=T0,
        ))  # fmt: skip
    return sid


def subscription(lib: Library, sid: str) -> tuple[int, str]:
    with lib.db.read() as conn:
        row = conn.execute(select(subscriptions.c.failures, subscriptions.c.status).where(subscriptions.c.id == sid))
        failures, status = row.one()
    return int(failures), str(status)


def test_recording_twice_stores_once_with_headers_set(mail_lib: Library) -> None:
    sid = subscribe(mail_lib)
    first = mail_lib.outbox.record(mail(), kind="digest", period="2026-12-02", subscription_id=sid, now=T0)
    again = mail_lib.outbox.record(mail(), kind="digest", period="2026-12-02", subscription_id=sid, now=T0)
    other_day = mail_lib.outbox.record(mail(), kind="digest", period="2026-12-03", subscription_id=sid, now=T0)
    assert first is not None and again is None and other_day is not None
    assert first.status == "pending" and first.attempts == 0 and first.next_attempt_at == T0
    assert mail_lib.outbox.get(first.id) == first
    stored = mail_lib.outbox.message(first.id)
    assert stored is not None
    assert stored["From"] == "dailypapers <papers@example.org>" and stored["Date"] is not None
    assert stored["Message-ID"] == first.message_id and first.message_id.endswith("@example.org>")
    assert "über-dropout" in stored.get_content()
    assert mail_lib.outbox.counts() == {"pending": 2, "sending": 0, "sent": 0, "failed": 0}


def test_without_a_subscription_the_key_still_holds(mail_lib: Library) -> None:
    """NULLs never collide in the unique index; the outbox's own key (the row id) does the work."""
    assert mail_lib.outbox.record(mail(), kind="confirm", period="nonce-1") is not None
    assert mail_lib.outbox.record(mail(), kind="confirm", period="nonce-1") is None
    assert mail_lib.outbox.record(mail(), kind="confirm", period="nonce-2") is not None
    assert entry_key(None, "confirm", "nonce-1") != entry_key("", "confirm", "nonce-1") != entry_key("x", "c", "n")
    assert len(mail_lib.outbox.recent()) == 2


def test_the_recipient_is_checked_and_normalised(mail_lib: Library) -> None:
    entry = mail_lib.outbox.record(mail("Ann <ann@BÜCHER.example>"), kind="test", period="1")
    assert entry is not None and entry.recipient == "ann@xn--bcher-kva.example"
    stored = mail_lib.outbox.message(entry.id)
    assert stored is not None and stored["To"].addresses[0].addr_spec == "ann@xn--bcher-kva.example"
    with pytest.raises(BadInput, match="zero-width space"):
        mail_lib.outbox.record(mail("ann@exa\u200bmple.org"), kind="test", period="2")
    two = mail("ann@example.org, eve@example.org")
    with pytest.raises(BadInput, match="exactly one recipient"):
        mail_lib.outbox.record(two, kind="test", period="3")
    copied = mail()
    copied["Bcc"] = "eve@example.org"
    with pytest.raises(ValueError, match="no Cc or Bcc"):
        mail_lib.outbox.record(copied, kind="test", period="4")
    assert mail_lib.outbox.counts()["pending"] == 1


def test_delivered_once_through_real_smtp(mail_lib: Library, smtp: SmtpServer) -> None:
    sid = subscribe(mail_lib)
    entry = mail_lib.outbox.record(mail(), kind="digest", period="2026-12-02", subscription_id=sid, now=T0)
    assert entry is not None
    report = mail_lib.outbox.deliver(mail_lib.mailer, now=T0)
    assert (report.sent, report.retried, report.failed, report.skipped_locked) == (1, 0, 0, False)
    assert mail_lib.outbox.deliver(mail_lib.mailer, now=T0 + timedelta(days=1)).sent == 0  # sent stays sent
    (received,) = smtp.messages
    assert received.mail_from == "papers@example.org" and received.rcpt_tos == ["ann@example.org"]
    assert received.message["Message-ID"] == entry.message_id
    assert received.message.get_content() == "Three papers today: über-dropout, and two more.\n"
    done = mail_lib.outbox.get(entry.id)
    assert done is not None and (done.status, done.attempts, done.sent_at, done.last_error) == ("sent", 1, T0, "")
    assert "queued as test-1" in mail_lib.mailer.last_reply  # type: ignore[attr-defined]


def test_a_temporary_failure_is_retried_after_the_backoff(mail_lib: Library, smtp: SmtpServer) -> None:
    sid = subscribe(mail_lib)
    entry = mail_lib.outbox.record(mail(), kind="digest", period="d", subscription_id=sid, now=T0)
    assert entry is not None
    smtp.fail_next(451)
    report = mail_lib.outbox.deliver(mail_lib.mailer, now=T0)
    assert (report.sent, report.retried) == (0, 1) and "451" in report.errors[0]
    waiting = mail_lib.outbox.get(entry.id)
    assert waiting is not None and waiting.status == "pending" and waiting.attempts == 1
    assert waiting.next_attempt_at == T0 + timedelta(seconds=60) and "451 4.3.0" in waiting.last_error
    assert mail_lib.outbox.deliver(mail_lib.mailer, now=T0 + timedelta(seconds=59)).sent == 0  # not due yet
    assert smtp.messages == []
    assert mail_lib.outbox.deliver(mail_lib.mailer, now=T0 + timedelta(seconds=60)).sent == 1
    assert len(smtp.messages) == 1 and subscription(mail_lib, sid) == (0, "active")
    done = mail_lib.outbox.get(entry.id)
    assert done is not None and done.status == "sent" and done.attempts == 2


def test_temporary_failures_give_up_after_the_retries_without_blaming_the_subscriber(
    mail_lib: Library, smtp: SmtpServer
) -> None:
    sid = subscribe(mail_lib)
    entry = mail_lib.outbox.record(mail(), kind="digest", period="d", subscription_id=sid, now=T0)
    assert entry is not None
    smtp.fail_next(421, 3)
    when = T0
    for delay in (60, 120):  # backoff x 2^(attempts-1): 60 s, then 120 s
        assert mail_lib.outbox.deliver(mail_lib.mailer, now=when).retried == 1
        got = mail_lib.outbox.get(entry.id)
        assert got is not None and got.next_attempt_at == when + timedelta(seconds=delay)
        when += timedelta(seconds=delay)
    report = mail_lib.outbox.deliver(mail_lib.mailer, now=when)
    assert report.failed == 1
    failed = mail_lib.outbox.get(entry.id)
    assert failed is not None and failed.status == "failed" and failed.attempts == 3
    assert failed.last_error.startswith("gave up after 3 attempts") and "421" in failed.last_error
    assert subscription(mail_lib, sid) == (0, "active")  # the server's trouble, not the address's
    assert mail_lib.outbox.deliver(mail_lib.mailer, now=when + timedelta(days=1)).failed == 0 and not smtp.messages


def test_permanent_failures_count_and_disable_the_subscription(mail_lib: Library, smtp: SmtpServer) -> None:
    sid = subscribe(mail_lib)  # mail_max_failures is 2 in these tests
    for day in ("d1", "d2", "d3"):
        mail_lib.outbox.record(mail(), kind="digest", period=day, subscription_id=sid, now=T0)
    smtp.fail_next(550)
    report = mail_lib.outbox.deliver(mail_lib.mailer, now=T0, limit=1)
    assert (report.failed, report.sent) == (1, 0) and "550 5.1.1 No such user here" in report.errors[0]
    assert subscription(mail_lib, sid) == (1, "active")
    assert mail_lib.outbox.deliver(mail_lib.mailer, now=T0, limit=1).sent == 1  # delivered: the count restarts
    assert subscription(mail_lib, sid) == (0, "active")
    mail_lib.outbox.record(mail(), kind="digest", period="d4", subscription_id=sid, now=T0)
    smtp.fail_next(554, 2, stage="data")
    assert mail_lib.outbox.deliver(mail_lib.mailer, now=T0).failed == 2
    assert subscription(mail_lib, sid) == (2, "disabled")
    failed = mail_lib.outbox.recent(status="failed")
    assert len(failed) == 3 and all(e.attempts == 1 for e in failed)  # never retried
    assert {e.last_error.split(": ", 1)[1][:3] for e in failed} == {"550", "554"}
    assert len(smtp.messages) == 1


def test_an_unsubscribed_subscription_stays_unsubscribed(mail_lib: Library, smtp: SmtpServer) -> None:
    sid = subscribe(mail_lib, status="unsubscribed")
    for key in ("k1", "k2"):  # confirmations (a re-subscription's): a digest would not even be tried, below
        mail_lib.outbox.record(mail(), kind="confirm", period=key, subscription_id=sid, now=T0)
    smtp.fail_next(550, 2)
    assert mail_lib.outbox.deliver(mail_lib.mailer, now=T0).failed == 2
    assert subscription(mail_lib, sid) == (2, "unsubscribed")


def test_a_digest_recorded_before_an_unsubscribe_is_not_sent(mail_lib: Library, smtp: SmtpServer) -> None:
    sid = subscribe(mail_lib)
    entry = mail_lib.outbox.record(mail(), kind="digest", period="2026-12-02", subscription_id=sid, now=T0)
    assert entry is not None
    with mail_lib.db.write() as conn:  # the one-click unsubscribe arrives between recording and delivery
        conn.execute(update(subscriptions).where(subscriptions.c.id == sid).values(status="unsubscribed"))
    report = mail_lib.outbox.deliver(mail_lib.mailer, now=T0)
    assert (report.sent, report.failed, report.cancelled) == (0, 0, 1)
    assert smtp.messages == []
    stopped = mail_lib.outbox.get(entry.id)
    assert stopped is not None and stopped.status == "failed"
    assert stopped.last_error == "not sent: the subscription is unsubscribed"


def test_the_console_mailer_prints_and_marks_sent(mail_lib: Library) -> None:
    entry = mail_lib.outbox.record(mail(), kind="test", period="console", now=T0)
    assert entry is not None
    out = io.StringIO()
    assert mail_lib.outbox.deliver(ConsoleMailer(out), now=T0).sent == 1
    printed = out.getvalue()
    assert "To: ann@example.org" in printed and "Subject: Your papers for 2 December" in printed
    assert entry.message_id in printed and "DAILYPAPERS_MAILER=console" in printed
    assert mail_lib.outbox.counts()["sent"] == 1


def test_the_null_mailer_keeps_mail_pending(mail_lib: Library, smtp: SmtpServer) -> None:
    entry = mail_lib.outbox.record(mail(), kind="test", period="held", now=T0)
    assert entry is not None
    report = mail_lib.outbox.deliver(NullMailer(), now=T0)
    assert (report.sent, report.held) == (0, 1)
    held = mail_lib.outbox.get(entry.id)
    assert held is not None and (held.status, held.attempts) == ("pending", 0)
    assert mail_lib.outbox.deliver(mail_lib.mailer, now=T0).sent == 1 and len(smtp.messages) == 1  # smtp later


def test_another_sender_holding_the_lock_means_skip(mail_lib: Library, smtp: SmtpServer) -> None:
    mail_lib.outbox.record(mail(), kind="test", period="locked", now=T0)
    with mail_lib.store.job_lock("mail") as held:
        assert held
        report = mail_lib.outbox.deliver(mail_lib.mailer, now=T0)
    assert report.skipped_locked and report.sent == 0 and smtp.messages == []
    assert mail_lib.outbox.deliver(mail_lib.mailer, now=T0).sent == 1


def test_a_row_left_sending_is_sent_again_with_the_same_message_id(mail_lib: Library, smtp: SmtpServer) -> None:
    entry = mail_lib.outbox.record(mail(), kind="test", period="stuck", now=T0)
    assert entry is not None
    with mail_lib.db.write() as conn:  # what a sender killed mid-send leaves behind
        conn.execute(update(outbox_table).values(status="sending", attempts=1))
    report = mail_lib.outbox.deliver(mail_lib.mailer, now=T0)
    assert (report.recovered, report.sent) == (1, 1)
    assert smtp.messages[0].message["Message-ID"] == entry.message_id
    done = mail_lib.outbox.get(entry.id)
    assert done is not None and done.attempts == 2 and done.status == "sent"


def test_deliver_soon_sends_from_a_background_thread(mail_lib: Library, smtp: SmtpServer) -> None:
    mail_lib.outbox.record(mail(), kind="confirm", period="nonce")
    mail_lib.deliver_soon()
    assert mail_lib.wait_for_delivery(10)
    assert len(smtp.wait_for(1)) == 1 and mail_lib.outbox.counts()["sent"] == 1


def test_recent_filters_and_refuses_unknown_statuses(mail_lib: Library) -> None:
    for n in range(3):
        mail_lib.outbox.record(mail(), kind="test", period=str(n), now=T0 + timedelta(minutes=n))
    assert [e.period for e in mail_lib.outbox.recent()] == ["2", "1", "0"]
    assert [e.period for e in mail_lib.outbox.recent(limit=1, status="pending")] == ["2"]
    assert mail_lib.outbox.recent(status="sent") == []
    with pytest.raises(BadInput, match="Unknown outbox status 'lost'"):
        mail_lib.outbox.recent(status="lost")


# -- the SMTP client's failure modes (no database needed) -------------------------------------------------------
def addressed() -> EmailMessage:
    message = mail()
    message["From"] = "papers@example.org"
    return message


def test_a_refused_connection_is_temporary() -> None:
    with SmtpServer() as server:
        port = server.port
    with pytest.raises(TemporaryFailure, match=f"cannot send through 127.0.0.1:{port}") as failed:
        SmtpMailer("127.0.0.1", port, "none", timeout=5).send(addressed())
    assert failed.value.code is None


def test_starttls_that_the_server_does_not_offer_is_a_clear_temporary_failure(smtp: SmtpServer) -> None:
    with pytest.raises(TemporaryFailure, match="does not offer STARTTLS; set DAILYPAPERS_SMTP_SECURITY"):
        SmtpMailer(smtp.host, smtp.port, "starttls", timeout=5).send(addressed())
    assert smtp.messages == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # a loopback test server only
def test_login_works_and_a_wrong_password_is_temporary() -> None:
    with SmtpServer(users={"ann": "s3cret"}) as server:
        SmtpMailer(server.host, server.port, "none", "ann", "s3cret", timeout=5).send(addressed())
        assert len(server.messages) == 1
        wrong = SmtpMailer(server.host, server.port, "none", "ann", "guess", timeout=5)
        with pytest.raises(TemporaryFailure, match="refused the login of 'ann': 535") as failed:
            wrong.send(addressed())
        assert failed.value.code == 535 and "guess" not in repr(wrong) and "s3cret" not in str(failed.value)
        with pytest.raises(TemporaryFailure, match=r"refused the sender papers@example\.org: 530"):  # no login given
            SmtpMailer(server.host, server.port, "none", timeout=5).send(addressed())


def test_a_stalled_server_times_out_as_temporary(smtp: SmtpServer) -> None:
    smtp.stall(2)
    with pytest.raises(TemporaryFailure, match="timed out"):
        SmtpMailer(smtp.host, smtp.port, "none", timeout=0.5).send(addressed())


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command for a test certificate")
@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_is_verified_on_both_kinds_of_connection(tmp_path: Path, security: str) -> None:
    certificate = self_signed(tmp_path)
    with SmtpServer(tls=security, certificate=certificate) as server:
        trusting = ssl.create_default_context(cafile=str(certificate[0]))
        SmtpMailer(server.host, server.port, security, timeout=5, context=trusting).send(addressed())
        assert len(server.messages) == 1 and server.messages[0].rcpt_tos == ["ann@example.org"]
        with pytest.raises(TemporaryFailure, match="the server's TLS certificate was not accepted"):
            SmtpMailer(server.host, server.port, security, timeout=5).send(addressed())  # the system's roots
        assert len(server.messages) == 1
