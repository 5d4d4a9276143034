"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 (a free port), recording every message it accepts.

Use it as a context manager (``with SmtpServer() as smtp: ...``) or through the ``smtp`` fixture of
``tests/mail/conftest.py``. It can be told to

* answer a failure to the next N recipients or messages: ``smtp.fail_next(451)`` (temporary),
  ``smtp.fail_next(550, 2, stage="data")`` (permanent, twice, at DATA);
* stall: hold every RCPT (or DATA) for N seconds, ``smtp.stall(30)``, until ``smtp.release()`` — for the tests
  that kill a sender mid-send; ``stage="stored"`` holds the answer to a message it has already stored (the 250
  not sent yet), ``stage="quit"`` the answer to QUIT (after the 250), and ``from_message=N`` starts stalling at
  the Nth message; ``smtp.saw_rcpt`` / ``smtp.saw_data`` / ``smtp.saw(stage)`` are set when a stall began;
* require a login: ``SmtpServer(users={"ann": "secret"})`` offers AUTH PLAIN/LOGIN without TLS (a test server
  only) and refuses other credentials with 535;
* speak TLS: ``SmtpServer(tls="starttls" | "tls", certificate=self_signed(tmp_path))`` offers STARTTLS, or TLS
  from the first byte, with a self-signed certificate for 127.0.0.1 (made with the ``openssl`` command).

``smtp.config(base)`` is ``base`` pointed at the server (``DAILYPAPERS_MAILER=smtp``, no TLS); ``smtp.env()`` the
same as environment variables for a subprocess.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from dailypapers.config import Config


@dataclass
class Received:
    """One message the server accepted: its envelope and its bytes as they arrived."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


STAGES = ("rcpt", "data", "stored", "quit")  # where the server can stall a session, in the order of a session


@dataclass
class Recorder:
    """The aiosmtpd handler: records, fails on request, stalls on request."""

    messages: list[Received] = field(default_factory=list)
    failures: deque[tuple[str, str]] = field(default_factory=deque)  # (stage, reply), consumed in order
    stall_s: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    stall_from: int = 1  # the first message (1-based, in the order they arrive) whose stages stall
    saw: dict[str, threading.Event] = field(default_factory=lambda: {s: threading.Event() for s in STAGES})
    released: threading.Event = field(default_factory=threading.Event)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        await self._stall("rcpt")
        failure = self._take("rcpt")
        if failure:
            return failure
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await self._stall("data")
        failure = self._take("data")
        if failure:
            return failure
        data = envelope.original_content or envelope.content
        with self.lock:
            self.messages.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(data)))
            number = len(self.messages)
        await self._stall("stored")  # stored, not answered yet: a sender killed now never sees this 250
        return f"250 2.0.0 OK queued as test-{number}"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        await self._stall("quit")  # after the 250: the message is the sender's to mark sent
        return "221 2.0.0 Bye"

    async def _stall(self, stage: str) -> None:
        with self.lock:  # the message this stage belongs to: the next one before it is stored, else the last one
            number = len(self.messages) + (1 if stage in ("rcpt", "data") else 0)
        if number < self.stall_from:
            return
        self.saw[stage].set()
        until = time.monotonic() + self.stall_s[stage]
        while time.monotonic() < until and not self.released.is_set():
            await asyncio.sleep(0.02)

    def _take(self, stage: str) -> str | None:
        with self.lock:
            if self.failures and self.failures[0][0] == stage:
                return self.failures.popleft()[1]
        return None


class _Logins:
    """AUTH PLAIN/LOGIN against a dict of user names and passwords."""

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            if self.users.get(user) == password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


_REPLIES = {
    421: "421 4.3.2 Service shutting down, try again later",
    450: "450 4.2.1 Mailbox busy, try again later",
    451: "451 4.3.0 Temporary local problem, try again later",
    452: "452 4.3.1 Insufficient system storage",
    550: "550 5.1.1 No such user here",
    552: "552 5.3.4 Message too big",
    554: "554 5.7.1 Message refused",
}


class SmtpServer:
    """aiosmtpd on 127.0.0.1 and a free port; ``messages`` lists what it accepted."""

    def __init__(
        self, *, users: dict[str, str] | None = None, tls: str = "none", certificate: tuple[Path, Path] | None = None
    ) -> None:
        self.handler = Recorder()
        self.host = "127.0.0.1"
        self.port = 0
        self._users = users
        self._tls = tls  # "none", "starttls" (offers STARTTLS) or "tls" (TLS from the first byte)
        self._certificate = certificate  # (certificate, key) files, from self_signed()
        self._controller: Controller | None = None

    def __enter__(self) -> SmtpServer:
        kwargs: dict[str, Any] = {}
        if self._users is not None:
            kwargs = {"authenticator": _Logins(self._users), "auth_require_tls": False, "auth_required": True}
        if self._tls != "none":
            assert self._certificate is not None, "a TLS server needs certificate=self_signed(folder)"
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*self._certificate)
            kwargs["ssl_context" if self._tls == "tls" else "tls_context"] = context
        for _ in range(5):  # a free port can be taken between the probe and the bind: take another
            self.port = _free_port()
            controller = Controller(self.handler, hostname=self.host, port=self.port, ready_timeout=10, **kwargs)
            try:
                controller.start()
            except (OSError, RuntimeError):
                continue
            self._controller = controller
            return self
        raise RuntimeError("could not start the test SMTP server")

    def __exit__(self, *exc: object) -> None:
        self.handler.released.set()  # let stalled sessions end
        if self._controller is not None:
            self._controller.stop()

    # -- what it does next --------------------------------------------------------------------------------------
    def fail_next(self, code: int, count: int = 1, *, stage: str = "rcpt") -> None:
        """Answer ``code`` (451, 550, …) to the next ``count`` RCPT (or DATA) commands."""
        reply = _REPLIES.get(code, f"{code} {'4.0.0' if code < 500 else '5.0.0'} Refused by the test server")
        with self.handler.lock:
            self.handler.failures.extend([(stage, reply)] * count)

    def stall(self, seconds: float, *, stage: str = "rcpt", from_message: int = 1) -> None:
        """Hold ``stage`` (one of :data:`STAGES`) of every message from the ``from_message``-th on for ``seconds``
        (until :meth:`release`)."""
        self.handler.released.clear()
        self.handler.stall_s[stage] = seconds
        self.handler.stall_from = from_message

    def release(self) -> None:
        """Stop stalling (also wakes stalled sessions)."""
        self.handler.stall_s = dict.fromkeys(STAGES, 0.0)
        self.handler.released.set()

    # -- what it got --------------------------------------------------------------------------------------------
    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    @property
    def saw_rcpt(self) -> threading.Event:
        return self.handler.saw["rcpt"]

    @property
    def saw_data(self) -> threading.Event:
        return self.handler.saw["data"]

    def saw(self, stage: str) -> threading.Event:
        """Set once a session stalled at ``stage``."""
        return self.handler.saw[stage]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The messages, once at least ``count`` arrived (or ``timeout`` passed)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages

    # -- how to reach it ----------------------------------------------------------------------------------------
    def config(self, base: Config, **changes: Any) -> Config:
        """``base`` sending through this server (no TLS, a short timeout)."""
        return replace(
            base, mailer="smtp", smtp_host=self.host, smtp_port=self.port, smtp_security="none", smtp_timeout=10.0,
            **changes,
        )  # fmt: skip

    def env(self) -> dict[str, str]:
        """The same settings as environment variables, for a ``dailypapers`` subprocess."""
        return {
            "DAILYPAPERS_MAILER": "smtp", "DAILYPAPERS_SMTP_HOST": self.host,
            "DAILYPAPERS_SMTP_PORT": str(self.port), "DAILYPAPERS_SMTP_SECURITY": "none",
            "DAILYPAPERS_SMTP_TIMEOUT": "10",
        }  # fmt: skip


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, valid for a day, and its key (openssl, about 50 ms); clients
    trust it with ``ssl.create_default_context(cafile=certificate)``."""
    certificate, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(certificate), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return certificate, key


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
