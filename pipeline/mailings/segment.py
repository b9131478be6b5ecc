"""Which segment a new mailing targets: a name (from ``[segments]`` in config.toml, else
one saved in the web app, the CLI or the API) or a condition written for this mailing
(``--segment`` / ``--where``), checked before the draft exists."""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.errors import ComposeError, SegmentError
from pipeline.segments import parse
from pipeline.store import Store
from pipeline.store import saved_segments as store_saved


def resolve(settings: Settings, store: Store, name: str) -> str | None:
    """The condition of segment ``name``: config.toml first, then the saved ones (a
    saved segment never has a name of config.toml, see ``saved_segments``); None when
    neither knows it."""
    found = settings.segments.named.get(name)
    if found is not None:
        return found
    saved = store_saved.find_saved(store, name)
    return saved.expression if saved is not None else None


def unknown_segment(settings: Settings, store: Store, name: str) -> str:
    """The words for a name nobody knows, with the names there are."""
    configured = ", ".join(settings.segments.named) or "none"
    saved = ", ".join(s.name for s in store_saved.list_saved(store)) or "none"
    return (
        f"unknown segment {name!r} (segments in [segments]: {configured}) "
        f"and no saved segment of that name (saved: {saved})"
    )


def choose_segment(
    settings: Settings, store: Store, segment: str | None, where: str | None
) -> tuple[str | None, str | None]:
    """``(name, condition)`` to store with the mailing; ``(None, None)`` for the whole
    lists. ``ComposeError`` naming the field (``segment`` or ``where``) otherwise."""
    segment = (segment or "").strip() or None
    where = (where or "").strip() or None
    if segment is not None and where is not None:
        raise ComposeError("name a segment or write a condition (where), not both", field="segment")
    if segment is not None:
        condition = resolve(settings, store, segment)
        if condition is None:
            raise ComposeError(unknown_segment(settings, store, segment), field="segment")
        return segment, condition
    if where is not None:
        try:
            parse(where)
        except SegmentError as exc:
            raise ComposeError(f"the condition (where): {exc}", field="where") from exc
        return None, where
    return None, None
