"""Delivering mail outside the request: a web request records its message in the outbox and asks for delivery
*soon*; one background thread sends what is due (:class:`~dailypapers.db.background.Soon`), so SMTP never runs in a
request. What that thread cannot send (SMTP down) stays due for the ``mail.deliver`` job, which calls :meth:`now`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from dailypapers.db.background import Soon
from dailypapers.mail.mailer import Mailer
from dailypapers.mail.outbox import DeliveryReport, Outbox

MAIL_BUSY_TRIES = 30  # soon(): seconds it waits out another sender's lock before leaving it to mail.deliver


class Delivery:
    """Sending the outbox's due mail through the mailer, now or in the background. Both are asked for when used
    (``outbox()``, ``mailer()``): the library makes them on first use, and a command that sends nothing never
    connects to SMTP."""

    def __init__(self, outbox: Callable[[], Outbox], mailer: Callable[[], Mailer]) -> None:
        self.outbox, self.mailer = outbox, mailer
        self._soon = Soon("dailypapers-mail", self._in_background, failure="background delivery failed")

    def now(self, *, limit: int | None = None) -> DeliveryReport:
        """Deliver the due mail now, in this thread (the CLI and the ``mail.deliver`` job)."""
        return self.outbox().deliver(self.mailer(), limit=limit)

    def soon(self) -> None:
        """Deliver due mail in a background thread, now."""
        self._soon.request()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the delivery :meth:`soon` started; False if it still runs after ``timeout``."""
        return self._soon.wait(timeout)

    def _in_background(self) -> None:
        for _ in range(MAIL_BUSY_TRIES):  # another sender (the mail.deliver job) may be just finishing
            if not self.outbox().deliver(self.mailer()).skipped_locked:
                return
            time.sleep(1)
