"""How an email leaves: the :class:`Mailer` protocol and its three kinds (``DAILYPAPERS_MAILER``).

* :class:`SmtpMailer` (``smtp``) — one SMTP connection per message, through :mod:`smtplib`, with TLS checked by
  :func:`ssl.create_default_context` (certificate and host name verified): ``starttls`` (port 587, RFC 3207),
  ``tls`` (port 465, RFC 8314) or ``none`` (a relay on the same machine, port 25). ``send`` calls its
  ``accepted`` callback the moment the server has answered 250 to the message's data — the outbox commits
  ``sent`` there — and only then says QUIT: a sender killed while the server takes its time to answer QUIT has
  already marked the message sent, and never sends it again.
* :class:`ConsoleMailer` (``console``) — prints each message to a stream, for development.
* :class:`NullMailer` (``none``) — sends nothing. The outbox knows it (its ``sends`` is False) and leaves
  its rows pending, so mail recorded while the mailer is ``none`` goes out once a real one is configured.
  (``sends`` is optional on other mailers; it is taken as True when missing.)

Failures are sorted by what to do next (RFC 5321 §4.2.1: 4yz replies are transient, 5yz permanent):
:class:`TemporaryFailure` (4xx, connection refused, timeout, reset, TLS or login trouble: retry later) and
:class:`PermanentFailure` (a 5xx answer to the recipient or the data: never retry). Login and TLS problems, a
refused greeting or EHLO, and a refused sender (``MAIL FROM``: 530 authentication required, 553 sender not
allowed) are *temporary* on purpose, though a server answers them with 5xx: they are the operator's settings or
the server's state, not the recipient's address, and must not disable subscriptions; the mail goes out once they
are fixed (or is marked failed after ``DAILYPAPERS_MAIL_RETRIES`` attempts).
"""

from __future__ import annotations

import smtplib
import ssl
import sys
import threading
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Protocol, TextIO

from dailypapers.config import Config


class MailError(Exception):
    """A message that did not go out; ``code`` is the SMTP reply code when a server answered, else None."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TemporaryFailure(MailError):
    """4xx replies, connection refused/timeout/reset, TLS or login trouble: try again later."""


class PermanentFailure(MailError):
    """5xx replies to the recipient or the data (550 no such user, 554 refused, …): never retry."""


Accepted = Callable[[], None]  # what a mailer calls the moment a message is accepted (the outbox's "sent" commit)


class Mailer(Protocol):
    """Something that sends one message at a time."""

    name: str  # "smtp", "console", "none"; a mailer may also say ``sends = False`` (the outbox then holds mail)

    def send(self, message: EmailMessage, accepted: Accepted | None = None) -> None:
        """Send ``message`` to its To/Cc/Bcc recipients; call ``accepted`` the moment it is accepted (before any
        closing exchange) and return; raise MailError when it was not accepted."""
        ...


def envelope(message: EmailMessage) -> tuple[str, list[str]]:
    """The SMTP envelope of ``message``: the sender (``Sender``, else ``From``) and every To/Cc/Bcc address."""
    sender = getaddresses([str(message.get("Sender") or message.get("From") or "")])
    recipients = [a for _, a in getaddresses([str(v) for f in ("To", "Cc", "Bcc") for v in message.get_all(f, [])])]
    if not sender or not sender[0][1]:
        raise PermanentFailure("the message has no From address")
    if not [r for r in recipients if r]:
        raise PermanentFailure("the message has no recipient")
    return sender[0][1], [r for r in recipients if r]


class SmtpMailer:
    """An SMTP submission client; ``last_reply`` is the server's answer to the newest message it accepted."""

    name = "smtp"
    sends = True

    def __init__(
        self,
        host: str,
        port: int,
        security: str = "starttls",
        username: str = "",
        password: str = "",
        timeout: float = 30.0,
        *,
        context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in ("starttls", "tls", "none"):
            raise ValueError("security must be starttls, tls or none")
        self.host, self.port, self.security, self.timeout = host, port, security, timeout
        self.username, self._password = username, password
        self.context = context or ssl.create_default_context()
        self.last_reply = ""

    def __repr__(self) -> str:  # never the password
        return f"SmtpMailer({self.host}:{self.port}, {self.security}, user={self.username or '-'})"

    def send(self, message: EmailMessage, accepted: Accepted | None = None) -> None:
        sender, recipients = envelope(message)
        try:
            smtp = self._connect()
            try:
                self._login(smtp)
                self.last_reply = self._transaction(smtp, sender, recipients, message)
            except BaseException:
                smtp.close()
                raise
        except MailError:
            raise
        except smtplib.SMTPResponseException as exc:  # to the greeting, EHLO or STARTTLS: the server, not the address
            raise TemporaryFailure(
                f"{self.host} answered {exc.smtp_code} {_text(exc.smtp_error)}", exc.smtp_code
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, timed out, reset, TLS handshake failed
            raise TemporaryFailure(f"cannot send through {self.host}:{self.port}: {_describe(exc)}") from exc
        try:
            if accepted is not None:
                accepted()  # the 250 is the only proof of delivery SMTP gives: record it before anything else
        finally:
            _quit(smtp)  # RFC 5321 §4.1.1.10: QUIT, and wait for its answer; the message is sent whatever it says

    def _connect(self) -> smtplib.SMTP:
        smtp: smtplib.SMTP
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()  # smtplib's mail() does not greet by itself (only sendmail() does)
            if self.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise TemporaryFailure(
                        f"{self.host}:{self.port} does not offer STARTTLS; set DAILYPAPERS_SMTP_SECURITY=tls for port"
                        " 465, or none for a local relay"
                    )
                smtp.starttls(context=self.context)
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _login(self, smtp: smtplib.SMTP) -> None:
        if not self.username:
            return
        try:
            smtp.login(self.username, self._password)
        except smtplib.SMTPAuthenticationError as exc:  # 535: the settings, not the recipient (see the docstring)
            raise TemporaryFailure(
                f"{self.host} refused the login of {self.username!r}: {exc.smtp_code} {_text(exc.smtp_error)}",
                exc.smtp_code,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise TemporaryFailure(f"{self.host} offers no login (AUTH) on this connection") from exc

    def _transaction(self, smtp: smtplib.SMTP, sender: str, recipients: list[str], message: EmailMessage) -> str:
        """MAIL, RCPT for each recipient, DATA; the server's final reply. Each refusal is classified by its code."""
        data = message.as_bytes(policy=policy.SMTP)  # CRLF line ends (RFC 5322 §2.1)
        options = ["BODY=8BITMIME"] if not data.isascii() and smtp.has_extn("8bitmime") else []
        code, reply = smtp.mail(sender, options)
        if code != 250:  # about our settings (login, DAILYPAPERS_MAIL_FROM), never the recipient: temporary
            raise TemporaryFailure(
                f"{self.host} refused the sender {sender}: {code} {_text(reply)} (check DAILYPAPERS_MAIL_FROM and"
                " the SMTP login)",
                code,
            )
        refused = []
        for rcpt in recipients:
            code, reply = smtp.rcpt(rcpt)
            if code not in (250, 251):
                refused.append((code, f"{self.host} refused {rcpt}: {code} {_text(reply)}"))
        if len(refused) == len(recipients):  # one recipient per message in dailypapers: refused means refused
            smtp.rset()
            raise _by_code(min(c for c, _ in refused), "; ".join(m for _, m in refused))
        try:
            code, answer = smtp.data(data)
        except smtplib.SMTPDataError as exc:  # refused the DATA command itself (before the message went)
            raise _by_code(exc.smtp_code, f"{self.host} refused DATA: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
        if code != 250:
            raise _by_code(code, f"{self.host} refused the message: {code} {_text(answer)}")
        return f"{code} {_text(answer)}"


class ConsoleMailer:
    """Prints each message (headers and body, as sent) to ``stream``, standard output by default."""

    name = "console"
    sends = True

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._lock = threading.Lock()  # two background deliveries never interleave their lines
        self.last_reply = ""

    def send(self, message: EmailMessage, accepted: Accepted | None = None) -> None:
        envelope(message)
        out = self.stream or sys.stdout
        with self._lock:
            out.write(f"{'-' * 30} email (DAILYPAPERS_MAILER=console) {'-' * 30}\n")
            out.write(message.as_string())
            out.write(f"\n{'-' * 80}\n")
            out.flush()
        self.last_reply = "printed to the console"
        if accepted is not None:
            accepted()


class NullMailer:
    """Sends nothing and keeps nothing; the outbox leaves mail pending while this is the mailer."""

    name = "none"
    sends = False
    last_reply = ""

    def send(self, message: EmailMessage, accepted: Accepted | None = None) -> None:
        envelope(message)  # sends nothing, so it never calls ``accepted``: the outbox holds the message


def open_mailer(config: Config) -> Mailer:
    """The mailer of ``DAILYPAPERS_MAILER``."""
    if config.mailer == "smtp":
        return SmtpMailer(
            config.smtp_host,
            config.smtp_port,
            config.smtp_security,
            config.smtp_username,
            config.smtp_password,
            config.smtp_timeout,
        )
    if config.mailer == "console":
        return ConsoleMailer()
    return NullMailer()


def compose_test_message(to: str, mailer: Mailer) -> EmailMessage:
    """The message of ``dailypapers mail test``: says where it came from and how, so it can be recognised."""
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = "dailypapers test message"
    message.set_content(
        "This is a test message from dailypapers (`dailypapers mail test`).\n\n"
        f"It left through the {mailer.name} mailer: {describe(mailer)}.\n"
        "If you can read it, email from this instance reaches this address.\n"
    )
    return message


def describe(mailer: Mailer) -> str:
    """Where ``mailer`` sends, in a few words (never its password)."""
    if isinstance(mailer, SmtpMailer):
        login = f", login {mailer.username}" if mailer.username else ", no login"
        return f"SMTP server {mailer.host}:{mailer.port} ({mailer.security}{login})"
    if isinstance(mailer, ConsoleMailer):
        return "printed to standard output (DAILYPAPERS_MAILER=console)"
    if isinstance(mailer, NullMailer):
        return "nowhere: kept in the outbox (DAILYPAPERS_MAILER=none)"
    return mailer.name


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye after an accepted message; a server that hangs up first changes nothing (it was accepted)."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _by_code(code: int, message: str) -> MailError:
    """RFC 5321 §4.2.1: 5yz is permanent, anything else (4yz, or an odd code) is worth another try."""
    return PermanentFailure(message, code) if 500 <= code < 600 else TemporaryFailure(message, code)


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())  # multi-line replies on one line


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the server's TLS certificate was not accepted ({exc.verify_message})"
    if isinstance(exc, TimeoutError):
        return "timed out (DAILYPAPERS_SMTP_TIMEOUT)"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
