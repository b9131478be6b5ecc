"""How big each list was at the start of each of the last twelve months, and now.

The dashboard draws this as a chart and a table. Month starts are the organisation's
local midnights (a list "in March" is what a person in Germany calls March).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.config import Settings
from pipeline.store import Store
from pipeline.store.audience import list_sizes_at

MONTHS = 12


@dataclass(frozen=True)
class ListGrowth:
    """One list's sizes at ``instants`` (the same for every list of one call)."""

    name: str
    title: str
    sizes: tuple[int, ...]

    @property
    def now(self) -> int:
        return self.sizes[-1] if self.sizes else 0

    @property
    def change(self) -> int:
        """Now against twelve months ago (the first instant)."""
        return self.now - self.sizes[0] if self.sizes else 0


@dataclass(frozen=True)
class Growth:
    instants: tuple[datetime, ...]  # month starts (local), the last one is "now"
    lists: tuple[ListGrowth, ...]

    @property
    def largest(self) -> int:
        return max((max(g.sizes) for g in self.lists if g.sizes), default=0)


def month_starts(now: datetime, settings: Settings, months: int = MONTHS) -> list[datetime]:
    """The local midnights of the first day of the current month and the ``months - 1``
    before it, oldest first."""
    local = now.astimezone(settings.organisation.tz)
    year, month = local.year, local.month
    starts: list[datetime] = []
    for back in range(months - 1, -1, -1):
        y, m = year, month - back
        while m < 1:
            y, m = y - 1, m + 12
        starts.append(datetime(y, m, 1, tzinfo=settings.organisation.tz))
    return starts


def list_growth(settings: Settings, store: Store, *, now: datetime, language: str) -> Growth:
    """Every configured list (in configuration order, by its title in ``language``)."""
    instants = [*month_starts(now, settings), now]
    sizes = list_sizes_at(store, instants)
    lists = tuple(
        ListGrowth(
            name=configured.name,
            title=configured.title_in(language),
            sizes=tuple(sizes.get(configured.name, [0] * len(instants))),
        )
        for configured in settings.lists
    )
    return Growth(instants=tuple(instants), lists=lists)
