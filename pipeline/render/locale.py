"""Locale strings (``templates/locale/<lang>.toml``) and dates formatted with babel.

Strings are looked up as ``strings.get("footer.unsubscribe", lists=...)``; a missing key
is a ``RenderError`` naming the file and the key, not an empty line in a sent mail.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_time

from pipeline.errors import RenderError

LANGUAGES = ("de", "en")
# The mail templates and locale strings shipped inside the package. In a checkout
# pipeline/_templates links to the top-level templates/ folder; the wheel holds a copy
# (pyproject's package-data). Resolved, so messages name the folder a reader edits.
BUNDLED_TEMPLATES = Path(str(files("pipeline") / "_templates")).resolve()


@dataclass(frozen=True)
class Strings:
    language: str
    source: str
    table: dict[str, str]

    def get(self, key: str, **values: Any) -> str:
        try:
            text = self.table[key]
        except KeyError:
            raise RenderError(f"{self.source}: missing string {key!r}") from None
        if not values:
            return text
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            raise RenderError(
                f"{self.source}: string {key!r} has a bad placeholder: {exc}"
            ) from exc

    def __call__(self, key: str, **values: Any) -> str:
        return self.get(key, **values)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = str(value)
    return out


@lru_cache(maxsize=16)
def _load(path: str, mtime: float) -> dict[str, str]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RenderError(f"{path}: invalid TOML: {exc}") from exc
    return _flatten(data)


def load_strings(language: str, *, template_dirs: tuple[Path, ...] = ()) -> Strings:
    """The strings of ``language``; files in ``template_dirs`` override the bundled ones."""
    if language not in LANGUAGES:
        raise RenderError(
            f"no strings for language {language!r} (available: {', '.join(LANGUAGES)})"
        )
    table: dict[str, str] = {}
    sources: list[str] = []
    for folder in (BUNDLED_TEMPLATES, *template_dirs):
        path = folder / "locale" / f"{language}.toml"
        if path.is_file():
            table.update(_load(str(path), path.stat().st_mtime))
            sources.append(str(path))
    if not sources:
        raise RenderError(f"no locale file {language}.toml under {BUNDLED_TEMPLATES}/locale")
    return Strings(language=language, source=sources[-1], table=table)


def long_date(value: date | datetime, language: str, tz: tzinfo | None = None) -> str:
    """ "Freitag, 21. Juni 2023" (de) / "Friday, June 21, 2023" (en)."""
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    day = value.date() if isinstance(value, datetime) else value
    return format_date(day, format="full", locale=language)


def medium_date(value: date | datetime, language: str, tz: tzinfo | None = None) -> str:
    """ "21. Juni 2023" (de) / "June 21, 2023" (en)."""
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    day = value.date() if isinstance(value, datetime) else value
    return format_date(day, format="long", locale=language)


def clock_time(value: datetime, language: str, tz: tzinfo) -> str:
    """ "10:00" (de) / "10:00 AM" (en) in the organisation's time zone."""
    return format_time(value.astimezone(tz), format="short", locale=language)


def zone_name(value: datetime, language: str, tz: tzinfo) -> str:
    """The zone's short name at that instant: "MESZ" (de), "CEST" (en), never an offset
    alone where a name exists (babel has no English abbreviation for Central Europe)."""
    local = value.astimezone(tz)
    name = format_time(local, "z", locale=language)
    if name[:1] in "+-" or name.startswith("GMT"):
        name = local.strftime("%Z") or name
    return name


def pattern_date(value: datetime, pattern: str, language: str, tz: tzinfo) -> str:
    """A date in a babel ``pattern`` (``d.M.yyyy``) in the organisation's zone."""
    return format_date(value.astimezone(tz).date(), format=pattern, locale=language)
