"""What a collect run reports: one ``FeedOutcome`` per feed, summed in ``CollectReport``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "not_modified", "error"]


@dataclass(frozen=True)
class FeedOutcome:
    name: str
    status: Status
    new: int = 0
    updated: int = 0
    error: str | None = None
    warning: str | None = None
    unchanged: int = 0
    duplicates: int = 0
    waiting: int = 0
    backfilled: int = 0
    moved_to: str | None = None
    flagged: bool = False

    def as_json(self) -> dict[str, Any]:
        """The shape ``collect --json`` prints for each feed."""
        return {
            "name": self.name,
            "status": self.status,
            "new": self.new,
            "updated": self.updated,
            "error": self.error,
        }


@dataclass(frozen=True)
class CollectReport:
    feeds: list[FeedOutcome] = field(default_factory=list)

    @property
    def new(self) -> int:
        return sum(f.new for f in self.feeds)

    @property
    def updated(self) -> int:
        return sum(f.updated for f in self.feeds)

    @property
    def ok(self) -> bool:
        return all(f.status != "error" for f in self.feeds)

    def as_json(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "updated": self.updated,
            "feeds": [f.as_json() for f in self.feeds],
        }
