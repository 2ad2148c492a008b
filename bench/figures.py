"""Figures: each the median of several runs, with min and max, beside its reference."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Figure:
    section: str
    name: str
    unit: str
    runs: list[float]
    reference: list[float] = field(default_factory=list)
    reference_name: str = ""
    target: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def reference_median(self) -> float | None:
        return statistics.median(self.reference) if self.reference else None

    @property
    def ratio(self) -> float | None:
        ref = self.reference_median
        return self.median / ref if ref else None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            median=self.median,
            min=min(self.runs),
            max=max(self.runs),
            reference_median=self.reference_median,
            ratio=self.ratio,
        )
        return data


def repeat(fn: Callable[[], float], runs: int) -> list[float]:
    return [fn() for _ in range(runs)]
