"""VERP tokens: round trip, forgery, case folding, and the message builder agrees."""

from __future__ import annotations

import pytest

from pipeline.bounces import verp

SECRET = "rundbrief-test-secret"


def test_round_trip() -> None:
    address = verp.return_path(SECRET, 48213, "Bounces.Example")
    assert address.startswith("bounces+48213-") and address.endswith("@bounces.example")
    assert verp.delivery_from_address(SECRET, address, "bounces.example") == 48213
    assert verp.delivery_from_address(SECRET, f"<{address}>", "bounces.example") == 48213


def test_case_folded_by_a_server_still_matches() -> None:
    address = verp.return_path(SECRET, 7, "bounces.example").upper()
    assert verp.delivery_from_address(SECRET, address, "bounces.example") == 7


@pytest.mark.parametrize(
    "address",
    [
        "bounces+48213-0000000000@bounces.example",  # forged MAC
        "bounces+48214-{mac}@bounces.example",  # another id with this MAC
        "bounces+48213-{mac}@elsewhere.example",  # not our bounce domain
        "newsletter+48213-{mac}@bounces.example",  # not our prefix
        "bounces@bounces.example",
        "bounces+@bounces.example",
        "kein-at-zeichen",
    ],
)
def test_forged_or_foreign_addresses_match_nothing(address: str) -> None:
    mac = verp.encode(SECRET, 48213).split("-")[1]
    assert verp.delivery_from_address(SECRET, address.format(mac=mac), "bounces.example") is None


def test_another_secret_matches_nothing() -> None:
    address = verp.return_path("anderes-geheimnis", 5, "bounces.example")
    assert verp.delivery_from_address(SECRET, address, "bounces.example") is None


def test_the_message_builder_signs_with_this_module() -> None:
    message = pytest.importorskip("pipeline.deliver.message")
    assert message.return_path is verp.return_path
