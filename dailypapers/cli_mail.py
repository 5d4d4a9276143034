"""``dailypapers mail test|deliver|outbox``: email on the command line (docs/mail.md).

* ``mail test --to ADDRESS`` — the newcomer's "is my SMTP right?": records a test message in the outbox, delivers
  it at once and prints what the server said (or why it failed, and what setting to look at);
* ``mail deliver`` — delivers the due mail (what the ``mail.deliver`` job does every 5 minutes) and prints the
  report;
* ``mail outbox [--status S] [--json]`` — the newest outbox entries and the count per status.
"""

from __future__ import annotations

import json

import click

from dailypapers.cli_common import friendly, open_library
from dailypapers.db.ids import sortable_id
from dailypapers.mail.addresses import check_address
from dailypapers.mail.mailer import compose_test_message, describe
from dailypapers.mail.outbox import STATUSES, DeliveryReport, OutboxEntry


@click.group()
def mail() -> None:
    """Email: check the SMTP settings, deliver due mail, read the outbox."""


@mail.command("test")
@click.option("--to", "to", required=True, metavar="ADDRESS", help="Where the test message goes.")
@friendly
def mail_test(to: str) -> None:
    """Send a test message to ADDRESS now, through the configured mailer, and print the server's answer."""
    address = check_address(to)
    with open_library() as lib:
        mailer = lib.mailer
        entry = lib.outbox.record(compose_test_message(address, mailer), kind="test", period=f"test:{sortable_id()}")
        assert entry is not None  # a fresh period: never recorded before
        report = lib.outbox.deliver(mailer, ids=[entry.id])
        done = lib.outbox.get(entry.id)
        if report.skipped_locked:
            raise click.ClickException(
                "another delivery holds the lock 'mail' (the mail.deliver job?); the test message is recorded and"
                " goes out with it — see `dailypapers mail outbox`"
            )
        if report.held:
            click.echo(f"recorded {entry.id} for {address}, not sent: {describe(mailer)}")
            return
        assert done is not None
        if done.status != "sent":  # no retry later: it would arrive after the next, hopefully fixed, test
            lib.outbox.give_up(entry.id, done.last_error)
            raise click.ClickException(f"not sent to {address} via {describe(mailer)}: {done.last_error}")
    reply = getattr(mailer, "last_reply", "")
    click.echo(f"sent to {address} via {describe(mailer)}" + (f"; the server said: {reply}" if reply else ""))
    click.echo(f"Message-ID {done.message_id} (outbox {done.id})")


@mail.command("deliver")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Send at most this many messages.")
@friendly
def mail_deliver(limit: int | None) -> None:
    """Deliver the due mail now (retries included) and print what happened."""
    with open_library() as lib:
        report = lib.deliver_mail(limit=limit)
        where = describe(lib.mailer)
    for line in report_lines(report, where):
        click.echo(line)


def report_lines(report: DeliveryReport, where: str) -> list[str]:
    """A delivery report as lines for a person."""
    if report.skipped_locked:
        return ["skipped: another delivery holds the lock 'mail' (it sends the due mail)"]
    lines = [f"sent {report.sent}, retried later {report.retried}, failed {report.failed} — via {where}"]
    if report.recovered:
        lines.append(f"{report.recovered} interrupted deliveries (a sender stopped mid-send) were taken up again")
    if report.held:
        lines.append(f"{report.held} due messages kept pending: {where}")
    lines.extend(f"  {error}" for error in report.errors)
    return lines


@mail.command("outbox")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only entries of this status.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="How many entries.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@friendly
def mail_outbox(status: str | None, limit: int, as_json: bool) -> None:
    """The newest outbox entries (newest first) and the count of each status."""
    with open_library() as lib:
        entries = lib.outbox.recent(limit, status)
        counts = lib.outbox.counts()
    if as_json:
        click.echo(json.dumps({"counts": counts, "entries": [e.as_json() for e in entries]}, indent=2))
        return
    click.echo(", ".join(f"{n} {s}" for s, n in counts.items()))
    for entry in entries:
        click.echo(entry_line(entry))


def entry_line(entry: OutboxEntry) -> str:
    when = entry.sent_at or entry.next_attempt_at
    state = f"{entry.status} {when:%Y-%m-%d %H:%M}" + (f" (attempt {entry.attempts})" if entry.attempts > 1 else "")
    error = f"  {entry.last_error}" if entry.last_error and entry.status != "sent" else ""
    return f"{entry.created_at:%Y-%m-%d %H:%M}  {state:<30} {entry.kind:<8} {entry.period:<12} {entry.recipient}{error}"
