"""What a consistency check reports: a maintained copy (the reference database, the
availability states) against what the portal computes afresh. ``checks`` runs the checks
as recorded jobs; ``publishing`` and ``availability`` find the differences."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Told (advocates compared so far, advocates to compare) before each batch and at the end.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Difference:
    advocate_id: int
    change: str  # "add" (missing there), "remove" (there but must not be), "update"
    fields: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return {"add": "Missing: would be added", "remove": "There without grounds: would be removed",
                "update": "Out of date: would be updated"}[self.change]

    @property
    def repaired_label(self) -> str:
        return {"add": "Missing: added", "remove": "There without grounds: removed",
                "update": "Out of date: updated"}[self.change]

    def as_json(self) -> dict:
        return {"advocate_id": self.advocate_id, "change": self.change, "fields": list(self.fields)}

    @classmethod
    def from_json(cls, data: dict) -> Difference:
        return cls(data["advocate_id"], data["change"], tuple(data.get("fields", ())))


def describe(exc: Exception) -> str:
    """An exception in one line, for the team's pages (a check's error, the feed's status)."""
    return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}"
