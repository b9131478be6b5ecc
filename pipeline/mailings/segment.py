"""Which segment a new mailing targets: a name from ``[segments]`` or a condition
written for this mailing (``--segment`` / ``--where``), checked before the draft exists."""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.errors import ComposeError, ConfigError, SegmentError
from pipeline.segments import parse


def choose_segment(
    settings: Settings, segment: str | None, where: str | None
) -> tuple[str | None, str | None]:
    """``(name, condition)`` to store with the mailing; ``(None, None)`` for the whole
    lists. ``ComposeError`` naming the field (``segment`` or ``where``) otherwise."""
    segment = (segment or "").strip() or None
    where = (where or "").strip() or None
    if segment is not None and where is not None:
        raise ComposeError("name a segment or write a condition (where), not both", field="segment")
    if segment is not None:
        try:
            return segment, settings.segments.expression(segment)
        except ConfigError as exc:
            raise ComposeError(str(exc), field="segment") from exc
    if where is not None:
        try:
            parse(where)
        except SegmentError as exc:
            raise ComposeError(f"the condition (where): {exc}", field="where") from exc
        return None, where
    return None, None
