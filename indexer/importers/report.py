"""What an import run reports: how many records were read, kept and skipped, with sample reasons."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from indexer.error_samples import keep_sample

if TYPE_CHECKING:
    from pydantic import ValidationError

    from indexer.records import MapRecord


class BrokenRecord(ValueError):
    """A source record that cannot become a MapRecord; the import skips it and goes on."""


@dataclass
class ImportReport:
    """Counts and sample messages ("line N: reason") of one import run."""

    source: str
    ok: int = 0
    broken: int = 0
    warnings: int = 0
    without_image: int = 0
    errors: list[str] = field(default_factory=list)
    warning_samples: list[str] = field(default_factory=list)

    def record_broken(self, where: str, reason: str) -> None:
        """Count a skipped record and keep its reason if the sample is not full."""
        self.broken += 1
        keep_sample(self.errors, f"{where}: {reason}")

    def record_invalid(self, where: str, exc: ValidationError) -> None:
        """Count a record the model refused, naming its first bad field."""
        error = exc.errors()[0]
        location = ".".join(str(part) for part in error["loc"])
        self.record_broken(where, f"{location}: {error['msg']}")

    def record_ok(self, where: str, record: MapRecord, warnings: Iterable[str] = ()) -> None:
        """Count a kept record, with any fields it lost."""
        for warning in warnings:
            self.record_warning(where, warning)
        self.ok += 1
        if not record.has_image:
            self.without_image += 1

    def record_warning(self, where: str, reason: str) -> None:
        """Count a record kept with a field dropped (e.g. an unreadable bounding box)."""
        self.warnings += 1
        keep_sample(self.warning_samples, f"{where}: {reason}")

    @property
    def total(self) -> int:
        """Records read, kept or not."""
        return self.ok + self.broken

    def summary(self) -> str:
        """One line for a CLI or a job log."""
        return (
            f"{self.source}: {self.ok} imported, {self.broken} skipped as broken, "
            f"{self.without_image} without image, {self.warnings} with warnings"
        )
