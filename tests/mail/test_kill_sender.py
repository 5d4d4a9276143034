"""Kill the sender mid-send (a real ``kill -9`` of a ``dailypapers mail deliver`` process) and show that the rerun
delivers the message exactly once, with the same Message-ID, and that a third run sends nothing.

The SMTP server (aiosmtpd on 127.0.0.1) stalls the sender at RCPT, or after the message's data has been sent but
before the server's 250 — the two moments a sender can die inside the SMTP exchange. Either way the server
never accepted the message, the row is left ``sending``, and the next run (holding the lock ``mail``) takes it up
again. On both backends: the subprocess reaches PostgreSQL through the same URL the tests use.

The one window this cannot show is a kill between the server's 250 and the ``sent`` commit (one local commit,
microseconds): that message would be sent again, with the same Message-ID (docs/mail.md, "Exactly once").
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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
