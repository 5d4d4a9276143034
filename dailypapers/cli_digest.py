"""``dailypapers digest preview|send``: the email digest on the command line.

``preview --to EMAIL`` renders the digest that address would get (its subscription's choices, or the default
sections for an address nobody subscribed) into an ``.eml`` file that any mail client opens; nothing is recorded
or sent. ``send`` runs the due batch now — the same function as the ``digest.send`` job — under the job's lock,
and prints what it did. Both are thin: :class:`dailypapers.mail.digests.Digests` does the work.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from dailypapers.cli_common import friendly, open_library

LOCK = "digest.send"  # the job's lock: a CLI batch and a scheduled one never overlap
PERIOD_HELP = (
    "daily or weekly (the current period), a day YYYY-MM-DD (a daily digest) or an ISO week YYYY-Www (a weekly one)"
)


@click.group()
def digest() -> None:
    """Email digests: preview one, or send the due batch."""


@digest.command("preview")
@click.option("--to", "email", required=True, help="Address whose digest to render.")
@click.option("--period", default="daily", show_default=True, help=PERIOD_HELP + ".")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=Path("digest-preview.eml"),
    show_default=True,
    help="File to write the message to (RFC 5322, opens in any mail client).",
)
@friendly
def preview(email: str, period: str, out: Path) -> None:
    """Render the digest EMAIL would get into an .eml file (nothing is recorded or sent)."""
    frequency, key = (period, None) if period in ("daily", "weekly") else ("daily", period)
    with open_library() as lib:
        message = lib.digests.preview(email, period=key, frequency=frequency)
    data = message.as_bytes()
    out.write_bytes(data)
    click.echo(f'wrote "{message["Subject"]}" ({len(data):,} bytes) to {out}')


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value[:60]}' is not an ISO 8601 time (2026-11-23T08:05:00+01:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # a time without a zone is UTC


@digest.command("send")
@click.option("--now", "at", help="Run the batch as if it were this ISO 8601 time (no zone: UTC). Default: now.")
@friendly
def send(at: str | None) -> None:
    """Record every due digest in the outbox and deliver them (what the digest.send job does)."""
    moment = _instant(at)
    with open_library() as lib, lib.papers.job_lock(LOCK) as acquired:
        if not acquired:
            raise click.ClickException(f"another digest batch is running (lock '{LOCK}'); try again later")
        report = lib.digests.send_due(now=moment)
    for line in report_lines(report.counts()):
        click.echo(line)


def report_lines(counts: dict[str, Any]) -> list[str]:
    """The batch's report in two lines: the digests, then their delivery."""
    lines = [
        f"digests: {counts['recorded']} recorded, {counts['already']} already recorded, {counts['empty']} with "
        f"nothing new, {counts['failed']} failed ({counts['due']} due of {counts['subscriptions']} active "
        "subscriptions)"
    ]
    d = counts.get("delivery") or {}
    if d.get("skipped_locked"):
        lines.append("delivery: another sender holds the mail lock; it sends what was recorded")
    else:
        lines.append(f"delivery: {d.get('sent', 0)} sent, {d.get('retried', 0)} to retry, {d.get('failed', 0)} "
                     f"failed, {d.get('held', 0)} held (mailer sends nothing)")  # fmt: skip
    return lines
