"""Which driver reads a sample of records? (`calltally drivers detect`)

Every registered driver reads the first lines of the sample; a driver scores
by the share of non-blank lines it understood (calls that look plausible,
plus the header lines it recognised as its own), so the driver of the PBX
that wrote the file comes first. A driver that needs a per-site mapping
(generic_csv) can only take part through options it proposes itself
(``Driver.detection_options``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .base import CdrRecord, DriverConfigError, DriverOptions, Reject, Skip

SAMPLE_LINES = 300
UTC = dt.UTC
EARLIEST = dt.datetime(1990, 1, 1, tzinfo=UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=UTC)


@dataclass
class Candidate:
    driver: str
    options: dict[str, Any] = field(default_factory=dict)
    lines: int = 0
    calls: int = 0
    recognised: int = 0  # header and other non-call lines the driver knew as its own
    rejected: int = 0
    implausible: int = 0

    @property
    def confidence(self) -> float:
        """0–1: the share of the sample's lines this driver understood."""
        if not self.lines or not self.calls:
            return 0.0
        # Recognised non-call lines (headers) count, but never more than the calls: a driver
        # that skips whatever it cannot read must not win on skipped lines alone.
        return (self.calls + min(self.recognised, self.calls)) / self.lines

    def as_dict(self) -> dict:
        return {
            "driver": self.driver, "confidence": round(self.confidence, 3), "lines": self.lines,
            "calls": self.calls, "recognised": self.recognised, "rejected": self.rejected,
            "implausible": self.implausible, "options": self.options,
        }


def plausible(record: CdrRecord) -> bool:
    return (
        EARLIEST <= record.start <= LATEST
        and 0 <= record.talk_seconds < 86400 * 2
        and 0 <= record.ring_seconds < 86400
        and bool(record.calling or record.called)
    )


def sample_lines(data: bytes, limit: int = SAMPLE_LINES) -> list[bytes]:
    return [line for line in data.splitlines() if line.strip()][:limit]


def detect(data: bytes, limit: int = SAMPLE_LINES) -> list[Candidate]:
    """Candidates that read at least one plausible call, best first."""
    from . import registry

    lines = sample_lines(data, limit)
    found: list[Candidate] = []
    for name, cls in sorted(registry().items()):
        for options in getattr(cls, "detection_options", lambda: [{}])():
            try:
                driver = cls(DriverOptions(options=dict(options)))
            except DriverConfigError:
                continue
            candidate = Candidate(name, dict(options), lines=len(lines))
            for outcome in driver.parse_many(lines):
                if type(outcome) is CdrRecord:
                    if plausible(outcome):
                        candidate.calls += 1
                    else:
                        candidate.implausible += 1
                elif type(outcome) is Skip:
                    candidate.recognised += 1
                elif type(outcome) is Reject:
                    candidate.rejected += 1
            if candidate.calls:
                found.append(candidate)
    # Best share first; among equals, the driver that recognised more of its own structure.
    found.sort(key=lambda c: (-c.confidence, -c.recognised, c.rejected, c.driver))
    return found
