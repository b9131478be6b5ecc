"""Named segments: those of ``[segments]`` in config.toml (read-only here) and those
saved in the web app, the CLI or the API.

    Segments(settings, store, clock)
      look   ─ list (every segment with how many people it reaches per list) · names · get
               · expression_of (a name's condition) · count · reach
      change ─ save (a new name, or ``replace`` a saved one) · delete

A name is looked up in config.toml first, then among the saved ones
(``segment.resolve``), so a saved segment may not take a name of config.toml: ``save``
refuses it. Should config.toml gain a saved name later, config.toml wins and ``list``
marks the saved one ``shadowed``. A mailing keeps the condition it was composed with, so
changing or deleting a saved segment does not change whom an existing mailing reaches.

Looking needs ``view``; saving and deleting are part of composing (``compose``) and each
writes one audit entry about the segment (target ``("segment", name)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pipeline import audit
from pipeline.access import Action, Actor, require
from pipeline.clock import Clock
from pipeline.config import Settings
from pipeline.errors import SegmentError, SegmentRefused
from pipeline.mailings import segment
from pipeline.segments import MAX_LENGTH, NAME_RULE, Condition, fields_of, is_name, parse
from pipeline.store import Store
from pipeline.store import audience as store_audience
from pipeline.store import saved_segments as store_saved
from pipeline.store import segments as store_segments

Source = Literal["config", "saved"]


@dataclass(frozen=True)
class SegmentCount:
    """Whom a condition reaches now: per configured list, and in all (a person on two
    lists counts once), with the attributes it tests that nobody has (a typo?)."""

    expression: str
    per_list: Mapping[str, int]
    total: int
    unknown_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class NamedSegment:
    """A segment of config.toml or a saved one, with its count."""

    name: str
    expression: str
    source: Source
    count: SegmentCount
    created_by: str | None = None
    created_at: datetime | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None
    shadowed: bool = False  # saved, but config.toml has the name now (and wins)


@dataclass
class Segments:
    """The named segments, bound to one store and clock."""

    settings: Settings
    store: Store
    clock: Clock

    # --- looking -------------------------------------------------------------------

    def list(self, *, by: Actor) -> list[NamedSegment]:
        """Those of config.toml in the file's order, then the saved ones by name."""
        require(by, Action.VIEW)
        configured = self.settings.segments.named
        found = [
            NamedSegment(name, text, "config", self._count(text, parse(text)))
            for name, text in configured.items()
        ]
        for saved in store_saved.list_saved(self.store):
            found.append(self._saved(saved, shadowed=saved.name in configured))
        return found

    def names(self, *, by: Actor) -> tuple[tuple[str, Source], ...]:
        """The names a mailing may name, without counting anyone (for a choice):
        config.toml's, then the saved ones a name of the file does not hide."""
        require(by, Action.VIEW)
        configured = self.settings.segments.named
        saved = [s.name for s in store_saved.list_saved(self.store) if s.name not in configured]
        config: tuple[tuple[str, Source], ...] = tuple((name, "config") for name in configured)
        return config + tuple((name, "saved") for name in saved)

    def get(self, name: str, *, by: Actor) -> NamedSegment | None:
        """The segment ``name`` as a mailing would use it (config.toml first)."""
        require(by, Action.VIEW)
        text = self.settings.segments.named.get(name)
        if text is not None:
            return NamedSegment(name, text, "config", self._count(text, parse(text)))
        saved = store_saved.find_saved(self.store, name)
        return self._saved(saved) if saved is not None else None

    def expression_of(self, name: str) -> str:
        """The condition of segment ``name`` as a mailing would use it (config.toml
        first); ``SegmentRefused`` naming the segments there are."""
        found = segment.resolve(self.settings, self.store, name)
        if found is None:
            raise SegmentRefused(
                segment.unknown_segment(self.settings, self.store, name), field="name"
            )
        return found

    def count(
        self, expression: str, *, by: Actor, lists: Sequence[str] | None = None
    ) -> SegmentCount:
        """How many people ``expression`` reaches now on ``lists`` (default: every
        configured list); ``SegmentRefused`` (with the column) if it cannot be read."""
        require(by, Action.VIEW)
        for name in lists or ():
            self.settings.list_named(name)  # an unknown list: ConfigError naming the known
        return self._count(expression, _parse(expression), lists)

    def reach(
        self, name: str | None, *, by: Actor, lists: Sequence[str] | None = None
    ) -> SegmentCount:
        """Whom segment ``name`` (None: no segment, the whole lists) reaches now on
        ``lists``: what a mailing to those lists would show before approval."""
        require(by, Action.VIEW)
        if name is None:
            return self._count("", None, lists)
        text = self.expression_of(name)
        return self._count(text, parse(text), lists)

    # --- changing ------------------------------------------------------------------

    def save(self, name: str, expression: str, *, by: Actor, replace: bool = False) -> NamedSegment:
        """Save ``expression`` as segment ``name``: a new name, or with ``replace`` a new
        condition for a saved one. Refused (``SegmentRefused`` naming the field): a name
        against the rule or one of config.toml, a taken name without ``replace``, an
        unknown one with it, a condition that cannot be read."""
        require(by, Action.COMPOSE)
        name = name.strip()
        expression = expression.strip()
        if not is_name(name):
            raise SegmentRefused(f"the segment name {name!r} is not {NAME_RULE}", field="name")
        if name in self.settings.segments.named:
            raise SegmentRefused(
                f"the segment {name!r} is in [segments] of config.toml already; "
                "choose another name (a saved segment may not hide one of the file)",
                field="name",
            )
        condition = _parse(expression)
        now = self.clock.now()
        before = store_saved.find_saved(self.store, name)
        if replace:
            if not store_saved.replace_saved(self.store, name, expression, by=by.email, now=now):
                raise SegmentRefused(f"there is no saved segment {name!r} to replace", field="name")
        elif not store_saved.insert_saved(self.store, name, expression, by=by.email, now=now):
            raise SegmentRefused(
                f"a segment {name!r} is saved already; choose another name or replace it",
                field="name",
            )
        saved = store_saved.find_saved(self.store, name)
        assert saved is not None
        count = self._count(expression, condition)
        verb = "replaced" if replace else "saved"
        details: dict[str, object] = {"expression": expression, "total": count.total}
        if replace and before is not None:
            details["was"] = before.expression
        self._audit(by, name, f"{verb} segment {name}: {expression}", details)
        return self._saved(saved, count=count)

    def delete(self, name: str, *, by: Actor) -> store_saved.SavedSegment:
        """Delete a saved segment (those of config.toml are changed in the file).
        Mailings composed with it keep their condition."""
        require(by, Action.COMPOSE)
        name = name.strip()
        saved = store_saved.find_saved(self.store, name)
        if saved is None or not store_saved.delete_saved(self.store, name):
            if name in self.settings.segments.named:
                raise SegmentRefused(
                    f"the segment {name!r} is in [segments] of config.toml; "
                    "change it there, it cannot be deleted here",
                    field="name",
                )
            raise SegmentRefused(f"there is no saved segment {name!r}", field="name")
        self._audit(
            by,
            name,
            f"deleted segment {name}: {saved.expression}",
            {"expression": saved.expression},
        )
        return saved

    # --- helpers -------------------------------------------------------------------

    def _saved(
        self,
        saved: store_saved.SavedSegment,
        *,
        count: SegmentCount | None = None,
        shadowed: bool = False,
    ) -> NamedSegment:
        if count is None:
            count = self._count(saved.expression, parse(saved.expression))
        return NamedSegment(
            saved.name,
            saved.expression,
            "saved",
            count,
            created_by=saved.created_by,
            created_at=saved.created_at,
            updated_by=saved.updated_by,
            updated_at=saved.updated_at,
            shadowed=shadowed,
        )

    def _count(
        self, expression: str, condition: Condition | None, lists: Sequence[str] | None = None
    ) -> SegmentCount:
        every = [m.name for m in self.settings.lists]
        names = list(dict.fromkeys(every if lists is None else lists))
        fields = fields_of(condition) if condition is not None else []
        attributes = [f.name for f in fields if f.attribute]
        with self.store.connect() as conn:
            per_list = {
                name: store_audience.count_recipients(conn, [name], condition) for name in names
            }
            total = store_audience.count_recipients(conn, names, condition)
            unknown = store_segments.unknown_attributes(conn, attributes)
        return SegmentCount(expression, per_list, total, tuple(unknown))

    def _audit(self, by: Actor, name: str, summary: str, details: dict[str, object]) -> None:
        audit.record(
            self.store,
            by,
            Action.COMPOSE,
            target=("segment", name),
            summary=summary,
            details=details,
            clock=self.clock,
        )


def _parse(expression: str) -> Condition:
    """The tree of a condition typed by someone; ``SegmentRefused`` with the column."""
    if not expression.strip():
        raise SegmentRefused("the condition is empty", field="expression", column=1)
    if len(expression) > MAX_LENGTH:
        # parse says so too; here before the tokenizer reads a huge text
        raise SegmentRefused(
            f"the condition is longer than {MAX_LENGTH} characters",
            field="expression",
            column=MAX_LENGTH + 1,
        )
    try:
        return parse(expression)
    except SegmentError as exc:
        raise SegmentRefused(
            f"the condition: {exc}", field="expression", column=exc.column, reason=exc.reason
        ) from exc
