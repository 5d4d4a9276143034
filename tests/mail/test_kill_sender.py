"""Kill the sender mid-send (a real ``kill -9`` of a ``dailypapers mail deliver`` process), on both backends, at
each moment of the SMTP exchange, and show what SMTP allows and what the outbox guarantees:

* killed at RCPT, or after the data went but before the server stored it: the server accepted nothing; the row is
  left ``sending`` and the rerun (holding the lock ``mail``) delivers it exactly once;
* killed after the server's 250 (here: while it takes its time to answer QUIT): the outbox committed ``sent``
  right after the 250, before QUIT, so the rerun sends nothing again;
* killed while the server has stored a message but not yet answered 250 (a server that stores before it
  answers): the sender cannot know it was accepted, so the rerun sends it again — at most one repeat per crash,
  with the same Message-ID (docs/mail.md, "At most one repeat per crash"). No protocol change on our side can
  close this window: only the server's 250 says a message was taken.

The SMTP server (aiosmtpd on 127.0.0.1) stalls the sender at the chosen moment; the subprocess reaches PostgreSQL
through the same URL the tests use.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

import pytest

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.mail.outbox import OutboxEntry
from tests.demo import server_env
from tests.mail.smtp_server import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # three `dailypapers` processes per case, about 2 s each


def deliver(config: Config, smtp: SmtpServer) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dailypapers", "mail", "deliver"],
        cwd=ROOT,
        env=server_env(config, DAILYPAPERS_MAIL_FROM="papers@example.org", **smtp.env()),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def entry(config: Config, entry_id: str) -> OutboxEntry:
    lib = Library(config)
    try:
        found = lib.outbox.get(entry_id)
    finally:
        lib.close()
    assert found is not None
    return found


def record(config: Config, count: int) -> list[OutboxEntry]:
    """``count`` messages in the outbox, due now, to ann@example.org (one key each)."""
    lib = Library(config)
    try:
        entries = []
        for number in range(1, count + 1):
            message = EmailMessage()
            message["To"], message["Subject"] = "ann@example.org", f"Message {number}"
            message.set_content(f"Message {number} of {count}.\n")
            entries.append(lib.outbox.record(message, kind="digest", period=f"2026-12-02/{number:02d}"))
    finally:
        lib.close()
    assert all(entries)
    return [e for e in entries if e is not None]


def kill(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(30) == -signal.SIGKILL


def rerun(config: Config, smtp: SmtpServer) -> str:
    """Release the server, deliver again and return what the command printed."""
    smtp.release()
    again = deliver(config, smtp)
    output = again.communicate(timeout=120)[0]
    assert again.returncode == 0, output
    return output


@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_a_killed_sender_delivers_exactly_once_on_the_rerun(db_config: Config, smtp: SmtpServer, stage: str) -> None:
    lib = Library(db_config)
    message = EmailMessage()
    message["To"], message["Subject"] = "ann@example.org", "Your papers for 2 December"
    message.set_content("Three papers today.\n")
    recorded = lib.outbox.record(message, kind="digest", period="2026-12-02")
    lib.close()
    assert recorded is not None

    smtp.stall(120, stage=stage)  # hold the sender inside the SMTP exchange
    first = deliver(db_config, smtp)
    seen = smtp.saw_rcpt if stage == "rcpt" else smtp.saw_data
    assert seen.wait(60), f"the sender never reached {stage.upper()}"
    during = entry(db_config, recorded.id)
    assert (during.status, during.attempts) == ("sending", 1)  # claimed and committed before the exchange
    os.kill(first.pid, signal.SIGKILL)
    assert first.wait(30) == -signal.SIGKILL
    assert smtp.messages == [] and entry(db_config, recorded.id).status == "sending"  # nothing was accepted

    smtp.release()
    second = deliver(db_config, smtp)
    output = second.communicate(timeout=120)[0]
    assert second.returncode == 0, output
    assert "\nsent 1, retried later 0, failed 0" in "\n" + output, output  # after the log line of the recovery
    assert "1 interrupted deliveries" in output
    (received,) = smtp.wait_for(1)
    assert received.message["Message-ID"] == recorded.message_id and received.rcpt_tos == ["ann@example.org"]
    after = entry(db_config, recorded.id)
    assert (after.status, after.attempts, after.last_error) == ("sent", 2, "")

    third = deliver(db_config, smtp)
    output = third.communicate(timeout=120)[0]
    assert third.returncode == 0 and output.startswith("sent 0, retried later 0, failed 0"), output  # no log line
    assert len(smtp.messages) == 1


def test_a_sender_killed_after_the_250_sends_nothing_twice(db_config: Config, smtp: SmtpServer) -> None:
    first, second, third = record(db_config, 3)
    smtp.stall(120, stage="quit", from_message=2)  # the 2nd message accepted (250), its QUIT not answered
    sender = deliver(db_config, smtp)
    assert smtp.saw("quit").wait(60), "the sender never reached QUIT"
    # The 250 is the proof of delivery (RFC 5321 §4.1.1.4): marked sent before QUIT, not after it.
    assert [entry(db_config, e.id).status for e in (first, second, third)] == ["sent", "sent", "pending"]
    kill(sender)

    output = rerun(db_config, smtp)
    assert output.startswith("sent 1, retried later 0, failed 0"), output  # the 3rd; nothing was interrupted
    ids = [m.message["Message-ID"] for m in smtp.wait_for(3)]
    assert ids == [first.message_id, second.message_id, third.message_id], ids


def test_a_sender_killed_while_the_server_stores_repeats_at_most_one_mail(db_config: Config, smtp: SmtpServer) -> None:
    recorded = record(db_config, 40)
    smtp.stall(120, stage="stored", from_message=16)  # the 16th stored, its 250 not sent: 15 sent for sure
    sender = deliver(db_config, smtp)
    assert smtp.saw("stored").wait(60), "the sender never got to the 16th message"
    assert [entry(db_config, e.id).status for e in recorded[14:17]] == ["sent", "sending", "pending"]
    kill(sender)

    output = rerun(db_config, smtp)
    assert "\nsent 25, retried later 0, failed 0" in "\n" + output and "1 interrupted deliveries" in output, output
    received = Counter(m.message["Message-ID"] for m in smtp.wait_for(41))
    assert set(received) == {e.message_id for e in recorded}  # every mail arrived, each with its own Message-ID
    assert sum(received.values()) == 41 and received[recorded[15].message_id] == 2  # one repeat: the 16th, same id
    assert {entry(db_config, e.id).status for e in recorded} == {"sent"}
