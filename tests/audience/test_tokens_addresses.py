"""Signed tokens and address normalisation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from email_validator import EmailNotValidError, validate_email

from pipeline.audience.addresses import AddressError, Normaliser, email_hash, normalise_email
from pipeline.audience.links import preferences_url, unsubscribe_url
from pipeline.audience.tokens import TokenError, make_token, read_token
from pipeline.config import Settings
from pipeline.errors import AudienceError

SECRET = "geheim-0123456789"


def test_token_round_trip_is_url_safe() -> None:
    token = make_token(SECRET, 42, "press")
    assert all(c.isalnum() or c in "-_." for c in token)
    found = read_token(SECRET, token)
    assert (found.subscriber_id, found.list_name, found.purpose) == (42, "press", "unsubscribe")


def test_tokens_differ_per_subscriber_list_and_purpose() -> None:
    tokens = {
        make_token(SECRET, 1, "press"),
        make_token(SECRET, 2, "press"),
        make_token(SECRET, 1, "members"),
        make_token(SECRET, 1, "press", purpose="preferences"),
    }
    assert len(tokens) == 4


@pytest.mark.parametrize("position", [0, 5, -1, -10])
def test_altered_tokens_are_refused(position: int) -> None:
    token = make_token(SECRET, 7, "members")
    chars = list(token)
    chars[position] = "A" if chars[position] != "A" else "B"
    with pytest.raises(TokenError):
        read_token(SECRET, "".join(chars))


def test_a_token_for_another_subscriber_cannot_be_forged() -> None:
    import base64

    token = make_token(SECRET, 7, "members")
    _payload, signature = token.split(".")
    other = base64.urlsafe_b64encode(b"1.unsubscribe.8.members").rstrip(b"=").decode()
    with pytest.raises(TokenError):
        read_token(SECRET, f"{other}.{signature}")


def test_foreign_and_garbage_tokens_are_refused() -> None:
    foreign = make_token("another-installation-secret", 7, "members")
    for bad in (foreign, "", "abc", "a.b.c", "%%%.***", "x" * 600):
        with pytest.raises(AudienceError):
            read_token(SECRET, bad)


def test_purpose_is_bound_into_the_signature() -> None:
    prefs = make_token(SECRET, 7, "members", purpose="preferences")
    with pytest.raises(TokenError):
        read_token(SECRET, prefs, purpose="unsubscribe")
    at = datetime(2026, 6, 19, 8, 0, tzinfo=UTC)
    confirm = make_token(SECRET, 7, "press", purpose="confirm", issued_at=at)
    assert read_token(SECRET, confirm, purpose="confirm").issued_at == at


def test_links_use_the_base_url(settings: Settings) -> None:
    unsub = unsubscribe_url(settings, SECRET, 3, "press")
    prefs = preferences_url(settings, SECRET, 3, "press")
    assert unsub.startswith("https://rundbrief.junge-buergermeister.example/u/")
    assert prefs.startswith("https://rundbrief.junge-buergermeister.example/p/")
    assert read_token(SECRET, unsub.rsplit("/", 1)[1], purpose="unsubscribe").subscriber_id == 3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Anna.Mueller@Beispiel.DE", "anna.mueller@beispiel.de"),
        ("  x@xn--mnchen-3ya.de ", "x@xn--mnchen-3ya.de"),
        ("x@MÜNCHEN.de", "x@xn--mnchen-3ya.de"),
        ("Jörg@münchen.de", "jörg@xn--mnchen-3ya.de"),
        ("first+tag@sub.verein.example", "first+tag@sub.verein.example"),
    ],
)
def test_normalisation(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "a@b", "a..b@verein.example", "anna@verein", "Anna <a@b.de>", "a@x.local", "a b@c.de"],
)
def test_invalid_addresses(raw: str) -> None:
    with pytest.raises(AddressError):
        normalise_email(raw)


def test_cached_domain_check_agrees_with_email_validator() -> None:
    """The per-domain cache must accept and refuse exactly what email-validator does."""
    normaliser = Normaliser()
    samples = [
        "a@verein.example",
        "a.b@verein.example",
        ".a@verein.example",
        "a.@verein.example",
        "a!#$%&'*+/=?^_`{|}~-@verein.example",
        "a@-verein.example",
        "a@verein-.example",
        "a@verein.example.",
        "a@[127.0.0.1]",
        "x" * 65 + "@verein.example",
        "a@" + "b" * 64 + ".example",
        "a@" + ("b" * 60 + ".") * 5 + "example",
        "a@verein.test",
        "a@localhost",
        "a@münchen.de",
        "a@xn--mnchen-3ya.de",
        '"quoted"@verein.example',
    ]
    for raw in samples * 2:  # the second round hits the cache
        try:
            info = validate_email(raw, check_deliverability=False)
            expected: str | None = f"{info.local_part}@{info.ascii_domain or info.domain}".lower()
        except EmailNotValidError:
            expected = None
        try:
            got: str | None = normaliser.normalise(raw)
        except AddressError:
            got = None
        assert got == expected, raw


def test_hash_is_of_the_normalised_form() -> None:
    assert email_hash(normalise_email("A@B.example")) == email_hash("a@b.example")
    assert len(email_hash("a@b.example")) == 64
