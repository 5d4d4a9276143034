"""``check_address``: what a person may type as their email address, what comes back, and what each refusal says."""

from __future__ import annotations

import pytest

from dailypapers.errors import BadInput, UserError
from dailypapers.mail.addresses import MAX_ADDRESS, MAX_LOCAL, check_address


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ann@example.org", "ann@example.org"),
        ("  ann@example.org ", "ann@example.org"),  # pasted with spaces
        ("Ann.Lee+papers@Example.ORG", "Ann.Lee+papers@example.org"),  # domain lower-cased, local part kept
        ("ann@bücher.example", "ann@xn--bcher-kva.example"),  # IDN domain -> IDNA (punycode)
        ("ann@BÜCHER.example", "ann@xn--bcher-kva.example"),
        ("o'neil@sub.example.co.uk", "o'neil@sub.example.co.uk"),
        ("a" * MAX_LOCAL + "@example.org", "a" * MAX_LOCAL + "@example.org"),
    ],
)
def test_good_addresses_are_normalised(raw: str, expected: str) -> None:
    assert check_address(raw) == expected


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("a@b.co\r\nBcc: x@y.z", "control characters (a carriage return)"),  # header injection
        ("a@b.co\nBcc: x@y.z", "control characters (a line break)"),
        ("a@b.co\x00", "control characters (U+0000)"),
        ("a\t@b.co", "control characters (a tab)"),
        ("a@b.co\x85", "control characters (U+0085)"),  # C1 NEL, a line break to some parsers
        ("", "Enter an email address."),
        ("   ", "Enter an email address."),
        ("ann.example.org", "needs an @"),
        ("ann@b@example.org", "exactly one @"),
        ("a@b.co <x@y.zz>", "one bare address"),  # display-name trick: the eye reads one, mail goes to the other
        ("Ann <ann@example.org>", "one bare address"),
        ("ann@example.org, eve@example.org", "one bare address"),
        ("ann@example.org;eve@example.org", "one bare address"),
        ('"ann lee"@example.org', "cannot contain spaces"),
        ("ann\u202e@example.org", "right-to-left override"),  # bidi: shows reversed text
        ("ann@exa\u200bmple.org", "zero-width space"),
        ("ann\u2066@example.org", "U+2066 left-to-right isolate"),
        ("\ufeffann@example.org", "byte-order mark"),
        ("ann\u00a0lee@example.org", "U+00A0 no-break space"),
        ("\u0430nn@example.org", "plain ASCII"),  # Cyrillic a: a look-alike in the local part
        ("ü@example.org", "plain ASCII"),
        ("a" * (MAX_LOCAL + 1) + "@example.org", f"at most {MAX_LOCAL} characters"),
        ("a@" + "b" * 60 + "." + ("c" * 60 + ".") * 4 + "org", f"at most {MAX_ADDRESS} characters"),
        ("ann@localhost", "should have a period"),
        ("ann@mail.test", "special-use or reserved"),
        ("ann@[192.0.2.1]", "bracketed IP address"),
        ("ann..lee@example.org", "two periods in a row"),
        ("ann@example.org.", "cannot end with a period"),
        ("ann@-example.org", "not a valid email address: An email address cannot have a hyphen"),
    ],
)
def test_hostile_and_broken_addresses_are_refused_with_a_sentence(raw: str, says: str) -> None:
    with pytest.raises(BadInput) as refused:
        check_address(raw)
    assert says in refused.value.message
    assert refused.value.status == 400 and isinstance(refused.value, UserError)
    assert "\r" not in refused.value.message and "\n" not in refused.value.message  # safe to show as one line


def test_a_long_address_is_measured_after_idna_encoding() -> None:
    domain = "ü" * 55 + ".example"  # 63 ASCII characters per label once encoded
    raw = "a" * 60 + "@" + ".".join([domain] * 3)
    assert len(raw) < MAX_ADDRESS
    with pytest.raises(BadInput, match="too long"):
        check_address(raw)


def test_a_mixed_script_domain_comes_back_as_punycode_that_shows_the_trick() -> None:
    address = check_address("ann@ex\u0430mple.org")  # Cyrillic a in the domain
    assert address.isascii() and address.startswith("ann@xn--") and address != "ann@example.org"


def test_non_text_is_refused() -> None:
    with pytest.raises(BadInput, match="must be text"):
        check_address(None)  # type: ignore[arg-type]
