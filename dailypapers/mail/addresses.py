"""Email addresses typed by people: checked and normalised before anything is stored or sent to them.

:func:`check_address` is the one gate (subscriptions, ``dailypapers mail test``, the outbox's recipients). It
refuses, each with a sentence saying what is wrong:

* control characters anywhere, CR and LF above all: ``"a@b.c\\r\\nBcc: x@y.z"`` would otherwise add a header
  (header injection);
* addresses over 254 characters, or with a local part over 64 (RFC 5321 §4.5.3.1.1 and §4.5.3.1.3; 254 is the
  256-octet path limit less the angle brackets, RFC 3696 erratum 1690);
* display names and lists (``"a@b.c <x@y.z>"``, ``"a@b.c, x@y.z"``): one bare address is asked for, and a
  display name is how a second address hides behind the one a person sees;
* invisible or direction-changing characters (bidi controls such as U+202E, zero-width characters such as
  U+200B, the BOM): they make an address read as something other than where it goes;
* a non-ASCII local part (``ü@example.org``). Decision: no SMTPUTF8 (RFC 6531). Such addresses need every relay
  on the way to speak SMTPUTF8, and their local parts are where look-alike letters (Cyrillic "а" for Latin "a")
  hide; refusing them costs almost nobody and keeps every stored address plain ASCII;
* RFC 2047 encoded words (``=?utf-8?q?ann?=@example.org``): a header decoder turns them into another address
  (``ann@example.org``), so one mailbox would have many spellings, each earning its own confirmation mail
  (issue 21 #17); nobody types one on purpose;
* quoted local parts, IP-literal domains and single-label or special-use domains (``localhost``, ``.test``),
  via email-validator's syntax rules (no DNS lookup: ``check_deliverability=False``, never slow at run time).

A non-ASCII *domain* is accepted and returned in its IDNA (punycode) form: ``ann@bücher.example`` becomes
``ann@xn--bcher-kva.example``. The domain is lower-cased (DNS is case-blind); the local part keeps its case,
which RFC 5321 §2.4 says only the receiving server may interpret.
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from dailypapers.errors import BadInput

MAX_ADDRESS = 254  # RFC 5321 §4.5.3.1.3 (path of 256 octets, less "<" and ">")
MAX_LOCAL = 64  # RFC 5321 §4.5.3.1.1

# Characters that change how text is shown without being seen: bidi embeddings, overrides and isolates, marks,
# the zero-width space/joiners, the word joiner, the BOM and the invisible math operators (Unicode category Cf
# holds all of these; they are refused by category below, this set only names them in the message).
_NAMED = {
    "\u200b": "a zero-width space", "\u200c": "a zero-width non-joiner", "\u200d": "a zero-width joiner",
    "\u2060": "a word joiner", "\ufeff": "a byte-order mark", "\u200e": "a left-to-right mark",
    "\u200f": "a right-to-left mark", "\u202e": "a right-to-left override", "\u202d": "a left-to-right override",
    "\u061c": "an Arabic letter mark",
}  # fmt: skip


def check_address(raw: str) -> str:
    """The normalised address (domain lower-cased, IDNA -> ASCII), or :class:`BadInput` saying what is wrong.

    Surrounding spaces (as a form or a copied line brings them) are dropped; everything else is checked as typed.
    """
    if not isinstance(raw, str):
        raise BadInput("The email address must be text.")
    text = raw.strip(" ")
    if not text:
        raise BadInput("Enter an email address.")
    _refuse_invisible(text)
    if len(text) > MAX_ADDRESS:  # IDNA never shortens a domain, so this holds for the encoded form too
        raise BadInput(f"That email address is too long (at most {MAX_ADDRESS} characters).")
    if "<" in text or ">" in text or "," in text or ";" in text:
        raise BadInput("Enter one bare address such as ann@example.org, without a name, angle brackets or a list.")
    if " " in text:
        raise BadInput("An email address cannot contain spaces.")
    if "@" not in text:
        raise BadInput("An email address needs an @ between the name and the domain (ann@example.org).")
    if text.count("@") > 1:
        raise BadInput("An email address has exactly one @; this one has several.")
    if "=?" in text:
        raise BadInput("An email address cannot contain an encoded word (=?…?=); type the address itself.")
    local, _, _domain = text.partition("@")
    if not local.isascii():
        raise BadInput(
            "The part before the @ must be plain ASCII letters, digits and punctuation (addresses with accented"
            " or non-Latin letters before the @ are not supported)."
        )
    if len(local) > MAX_LOCAL:
        raise BadInput(f"The part before the @ is too long (at most {MAX_LOCAL} characters).")
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise BadInput(f"That is not a valid email address: {exc}") from None
    address = f"{checked.local_part}@{checked.ascii_domain.lower()}"
    if len(address) > MAX_ADDRESS:
        raise BadInput(f"That email address is too long (at most {MAX_ADDRESS} characters once encoded).")
    return address


def mailbox(raw: str) -> str:
    """The mailbox ``raw`` reaches, as one key for every spelling of it: :func:`check_address`, lower-cased (every
    real server treats ``ANN@`` and ``ann@`` as one mailbox). Limits per mailbox count on this."""
    return check_address(raw).lower()


def _refuse_invisible(text: str) -> None:
    """Refuse control characters (Cc: CR, LF, NUL, tab, DEL, C1) and invisible format characters (Cf)."""
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cc":
            what = {"\r": "a carriage return", "\n": "a line break", "\t": "a tab"}.get(ch, f"U+{ord(ch):04X}")
            raise BadInput(f"An email address cannot contain control characters ({what}).")
        if category in ("Cf", "Zl", "Zp") or (category == "Zs" and ch != " "):
            what = _NAMED.get(ch, f"U+{ord(ch):04X} {unicodedata.name(ch, 'format character').lower()}")
            raise BadInput(f"An email address cannot contain invisible or direction-changing characters ({what}).")
