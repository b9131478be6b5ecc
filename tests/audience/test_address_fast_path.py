"""The import's fast address check gives exactly email-validator's verdict.

``Normaliser`` answers plain ASCII local parts from a per-domain cache and a length sum;
these properties compare it with email-validator itself (same normalised address, or
the same error message) over generated addresses, aimed at the edges: dots, every atext
character, characters that are not atext, internationalised and punycode domains,
special-use names, and lengths around the 254-octet limit in all three forms.
"""

from __future__ import annotations

import string

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline.audience.addresses import AddressError, Normaliser

ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
# Characters that take an address off the fast path or make it invalid.
ODD = ' ."@<>()[]\\,;:öß\u00e9\u0338\uff20\t'

local_parts = st.one_of(
    st.text(alphabet=ATEXT + ".", min_size=0, max_size=70),
    st.text(alphabet=ATEXT + ODD, min_size=0, max_size=12),
    st.integers(min_value=1, max_value=200).map(lambda n: "x" * n),
)
ascii_labels = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,70}[a-zA-Z0-9])?", fullmatch=True)
idn_labels = st.one_of(
    st.text(alphabet="äöüßéあ漢-", min_size=1, max_size=20),
    # repeated CJK characters: short in punycode, three octets each in UTF-8
    st.integers(min_value=1, max_value=80).map(lambda n: "あ" * n),
    st.sampled_from(["xn--mnchen-3ya", "xn--l8jaaaaaa", "xn--zz-", "MÜNCHEN", "Straße"]),
)
labels = st.one_of(ascii_labels, idn_labels, st.text(alphabet=ATEXT + ODD, max_size=6))
tlds = st.sampled_from(
    ["example", "de", "com", "test", "local", "localhost", "invalid", "onion", "arpa", "1"]
)
domains = st.one_of(
    st.builds(lambda ls, tld: ".".join([*ls, tld]), st.lists(labels, max_size=5), tlds),
    st.text(max_size=30),
    st.sampled_from(["", "[127.0.0.1]", "verein.example.", ".verein.example", "a..b.example"]),
)


def _reference(raw: str) -> tuple[bool, str]:
    text = raw.strip()
    if not text:
        return False, "the address is empty"
    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        return False, str(exc)
    return True, f"{info.local_part}@{info.ascii_domain or info.domain}".lower()


def _ours(normaliser: Normaliser, raw: str) -> tuple[bool, str]:
    try:
        return True, normaliser.normalise(raw)
    except AddressError as exc:
        return False, str(exc)


SHARED = Normaliser()  # its cache fills over all examples, as in a long import


@settings(max_examples=300, deadline=None, database=None)
@given(local=local_parts, domain=domains)
@example(local="x" * 64, domain=".".join(["あ" * 20] * 3) + ".example")
@example(local="a", domain="b" * 63 + "." + "c" * 63 + "." + "d" * 63 + "." + "e" * 57 + ".de")
@example(local="a" * 70, domain="verein.example")
@example(local="Anna.Müller", domain="münchen.example")
def test_fast_path_agrees_with_email_validator(local: str, domain: str) -> None:
    raw = f"{local}@{domain}"
    expected = _reference(raw)
    fresh = Normaliser()
    assert _ours(fresh, raw) == expected
    assert _ours(fresh, raw) == expected  # answered from the cache
    assert _ours(SHARED, raw) == expected


@settings(max_examples=150, deadline=None, database=None)
@given(raw=st.text(max_size=40))
def test_any_text_agrees_with_email_validator(raw: str) -> None:
    assert _ours(Normaliser(), raw) == _reference(raw)


@pytest.mark.parametrize("label", ["ab", "äb", "あ", "xn--l8jaaaaaaaaaaaaaaaaaaa"])
def test_the_length_limit_is_exact(label: str) -> None:
    """Every local part length across the 254-octet limit, in each of the three measured
    forms (as written, Unicode, IDNA): repeated CJK is shorter in IDNA than in UTF-8."""
    domain = ".".join([label * 20 if len(label) < 5 else label] * 3) + ".example"
    normaliser = Normaliser()
    for length in range(1, 260):
        raw = "x" * length + "@" + domain
        assert _ours(normaliser, raw) == _reference(raw), length
