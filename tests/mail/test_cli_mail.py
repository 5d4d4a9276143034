"""``dailypapers mail test|deliver|outbox`` and the ``mail.deliver`` job, through click's CliRunner on each backend,
against the real aiosmtpd server: what the server said, the error and the setting to look at when it refuses,
the report of a delivery, and the outbox as lines and as JSON."""

from __future__ import annotations

import json
from email.message import EmailMessage

from click.testing import CliRunner, Result

from dailypapers.cli import main
from dailypapers.config import Config
from dailypapers.jobs.scheduler import run_now
from dailypapers.library import Library
from tests.demo import cli_env
from tests.mail.smtp_server import SmtpServer


def run(config: Config, smtp: SmtpServer | None, *args: str, **extra: str) -> Result:
    env = cli_env(config)
    env.update(smtp.env() if smtp else {}, DAILYPAPERS_MAIL_FROM="dailypapers <papers@example.org>", **extra)
    return CliRunner().invoke(main, ["mail", *args], env=env, catch_exceptions=False)


def record(config: Config, to: str, period: str) -> None:
    lib = Library(config)
    try:
        message = EmailMessage()
        message["To"], message["Subject"] = to, f"Digest {period}"
        message.set_content("Papers.\n")
        lib.outbox.record(message, kind="digest", period=period)
    finally:
        lib.close()


def test_mail_test_sends_and_prints_the_servers_answer(db_config: Config, smtp: SmtpServer) -> None:
    result = run(db_config, smtp, "test", "--to", "Ann@Example.ORG")
    assert result.exit_code == 0, result.output
    assert f"sent to Ann@example.org via SMTP server 127.0.0.1:{smtp.port} (none, no login)" in result.output
    assert "the server said: 250 2.0.0 OK queued as test-1" in result.output
    (received,) = smtp.messages
    assert received.rcpt_tos == ["Ann@example.org"] and received.message["Subject"] == "dailypapers test message"
    assert received.message["Message-ID"] in result.output
    assert "SMTP server 127.0.0.1" in received.message.get_content()
    listed = run(db_config, smtp, "outbox", "--json")
    data = json.loads(listed.output)
    assert data["counts"]["sent"] == 1 and data["entries"][0]["kind"] == "test"
    assert data["entries"][0]["recipient"] == "Ann@example.org" and data["entries"][0]["status"] == "sent"


def test_mail_test_says_what_went_wrong_and_does_not_retry_later(db_config: Config, smtp: SmtpServer) -> None:
    smtp.fail_next(550)
    refused = run(db_config, smtp, "test", "--to", "nobody@example.org")
    assert refused.exit_code == 1
    assert "not sent to nobody@example.org via SMTP server" in refused.output
    assert "refused nobody@example.org: 550 5.1.1 No such user here" in refused.output
    smtp.fail_next(451)
    busy = run(db_config, smtp, "test", "--to", "ann@example.org")
    assert busy.exit_code == 1 and "451 4.3.0" in busy.output
    starttls = run(db_config, smtp, "test", "--to", "ann@example.org", DAILYPAPERS_SMTP_SECURITY="starttls")
    assert starttls.exit_code == 1 and "does not offer STARTTLS" in starttls.output
    assert run(db_config, smtp, "deliver").output.startswith("sent 0, retried later 0, failed 0")  # none left
    listed = run(db_config, smtp, "outbox", "--status", "failed")
    assert listed.output.startswith("0 pending, 0 sending, 0 sent, 3 failed") and listed.output.count("test:") == 3
    assert smtp.messages == []


def test_mail_test_refuses_a_bad_address_before_anything(db_config: Config, smtp: SmtpServer) -> None:
    result = run(db_config, smtp, "test", "--to", "ann@example.org\r\nBcc: eve@example.org")
    assert result.exit_code == 1 and "cannot contain control characters (a carriage return)" in result.output
    assert "Traceback" not in result.output and smtp.messages == []


def test_mail_test_with_the_console_and_null_mailers(db_config: Config) -> None:
    printed = run(db_config, None, "test", "--to", "ann@example.org", DAILYPAPERS_MAILER="console")
    assert printed.exit_code == 0 and "Subject: dailypapers test message" in printed.output
    assert "sent to ann@example.org via printed to standard output" in printed.output
    held = run(db_config, None, "test", "--to", "ann@example.org", DAILYPAPERS_MAILER="none")
    assert held.exit_code == 0 and "not sent: nowhere: kept in the outbox (DAILYPAPERS_MAILER=none)" in held.output
    assert run(db_config, None, "outbox", DAILYPAPERS_MAILER="none").output.startswith("1 pending, 0 sending, 1 sent")


def test_mail_deliver_reports_sent_retried_and_failed(db_config: Config, smtp: SmtpServer) -> None:
    for n, to in enumerate(("ann@example.org", "bob@example.org", "eve@example.org")):
        record(db_config, to, f"2026-12-0{n + 1}")
    smtp.fail_next(451)  # the first recipient (oldest first)
    smtp.fail_next(550)
    result = run(db_config, smtp, "deliver")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"sent 1, retried later 1, failed 1 — via SMTP server 127.0.0.1:{smtp.port} (none, no login)"
    assert "ann@example.org: " in lines[1] and "451" in lines[1] and "bob@example.org: " in lines[2]
    assert [m.rcpt_tos for m in smtp.messages] == [["eve@example.org"]]
    listed = run(db_config, smtp, "outbox").output.splitlines()
    assert listed[0] == "1 pending, 0 sending, 1 sent, 1 failed"
    assert any("pending" in line and "ann@example.org" in line and "451" in line for line in listed[1:])
    assert run(db_config, smtp, "outbox", "--status", "lost").exit_code == 2  # click's choice: usage error


def test_the_mail_deliver_job_runs_the_same_delivery(db_config: Config, smtp: SmtpServer) -> None:
    record(db_config, "ann@example.org", "2026-12-01")
    lib = Library(smtp.config(db_config, mail_from="papers@example.org"))
    try:
        outcome = run_now(lib, "mail.deliver")
        assert outcome.run is not None and outcome.run.status == "ok", outcome
        assert outcome.run.counts == {"sent": 1, "retried": 0, "failed": 0}
    finally:
        lib.close()
    assert [m.rcpt_tos for m in smtp.messages] == [["ann@example.org"]]


def test_dailypapers_status_counts_the_outbox(db_config: Config, smtp: SmtpServer) -> None:
    record(db_config, "ann@example.org", "2026-12-01")
    record(db_config, "bob@example.org", "2026-12-02")
    smtp.fail_next(550)
    run(db_config, smtp, "deliver")
    env = cli_env(db_config)
    printed = CliRunner().invoke(main, ["status"], env=env, catch_exceptions=False)
    assert "outbox            0 pending, 0 sending, 1 sent, 1 failed" in printed.output
    data = json.loads(CliRunner().invoke(main, ["status", "--json"], env=env, catch_exceptions=False).output)
    assert data["outbox"] == {"pending": 0, "sending": 0, "sent": 1, "failed": 1}
