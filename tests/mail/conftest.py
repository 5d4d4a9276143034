"""Fixtures of the mail tests: ``smtp``, a real aiosmtpd server on a loopback port, and ``mail_lib``, a library
on the backend under test (``db_config``) that sends through it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dailypapers.config import Config
from dailypapers.library import Library
from tests.mail.smtp_server import SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 recording what it accepts (see tests/mail/smtp_server.py)."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def mail_config(db_config: Config, smtp: SmtpServer) -> Config:
    """The test database, sending through ``smtp``: 3 attempts, 60 s backoff, disabled after 2 permanent failures."""
    return smtp.config(db_config, mail_retries=3, mail_backoff=60.0, mail_max_failures=2,
                       mail_from="dailypapers <papers@example.org>")  # fmt: skip


@pytest.fixture
def mail_lib(mail_config: Config) -> Iterator[Library]:
    lib = Library(mail_config)
    lib.init()
    yield lib
    lib.close()
