"""``[segments]`` in config.toml: named conditions, each checked when the file is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_settings
from pipeline.errors import ConfigError
from tests.support.settings import write_config
from tests.test_config import MINIMAL

GOOD = """
[segments]
bayern_politik = 'beat in ["Kommunalpolitik", "Digitales"] and region = "Bayern"'
landesfunk = 'outlet = "Landesfunk"'
"""


def test_named_segments_are_read_in_order(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, MINIMAL + GOOD))
    assert list(settings.segments.named) == ["bayern_politik", "landesfunk"]
    assert settings.segments.expression("landesfunk") == 'outlet = "Landesfunk"'
    with pytest.raises(
        ConfigError,
        match=r"unknown segment 'berlin' \(segments in \[segments\]: bayern_politik, landesfunk\)",
    ):
        settings.segments.expression("berlin")


def test_no_segments_is_fine(tmp_path: Path) -> None:
    assert load_settings(write_config(tmp_path, MINIMAL)).segments.named == {}


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("bayern = 'region = Bayern'", "segments.bayern: column 10: expected a value in quotes"),
        ("bayern = 'region = \"Bayern\" or'", "segments.bayern: column 21: expected a field name"),
        ("bayern = 3", "segments.bayern: expected a condition in quotes, got 3"),
        ('"bay ern" = \'region = "x"\'', "segments.bay ern: a segment name is a letter"),
        ("bayern = 'email = \"x@y.example\"'", "'email' cannot be used in a segment"),
    ],
)
def test_a_bad_segment_names_file_key_and_column(tmp_path: Path, line: str, says: str) -> None:
    path = write_config(tmp_path, MINIMAL + "\n[segments]\n" + line + "\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(err.value).startswith(f"{path}: ")
    assert says in str(err.value)
