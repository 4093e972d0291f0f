"""Which driver reads a sample of records, with which options? (`calltally drivers detect`)

Every registered driver reads the first lines of the sample; a driver scores
by the share of non-blank lines it understood (calls that look plausible,
plus the header lines it recognised as its own), so the driver of the PBX
that wrote the file comes first.

A driver takes part once per option set it proposes: its layouts or presets
(``Driver.detection_options``, a class method; default: no options), each
also read with every alternative date form the driver declares
(``detection_date_forms = (option, (value, …))``: a date printed day first or
month first). Among the option sets of one driver that read the sample
equally well, the one whose calls lie closest together in time wins (the
wrong day/month order scatters consecutive calls over months), then the
first proposed (the driver's defaults). A driver that needs a per-site
mapping (generic_csv) can only take part through options it proposes itself.

:func:`option_arguments` writes a candidate's options the way
``calltally site add/set --driver-option KEY=VALUE`` reads them back.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
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
    spread: float = 0.0  # seconds between consecutive calls' starts, summed: small when read in the right order

    @property
    def confidence(self) -> float:
        """0–1: the share of the sample's lines this driver understood."""
        if not self.lines or not self.calls:
            return 0.0
        # Recognised non-call lines (headers) count, but never more than the calls: a driver
        # that skips whatever it cannot read must not win on skipped lines alone.
        return (self.calls + min(self.recognised, self.calls)) / self.lines

    def driver_options(self) -> list[str]:
        """The options as ``KEY=VALUE`` arguments of ``--driver-option``."""
        return option_arguments(self.options)

    def site_arguments(self) -> str:
        """``--driver NAME --driver-option KEY=VALUE…``, quoted for a shell."""
        words = ["--driver", shlex.quote(self.driver)]
        for argument in self.driver_options():
            words += ["--driver-option", shlex.quote(argument)]
        return " ".join(words)

    def as_dict(self) -> dict:
        return {
            "driver": self.driver, "confidence": round(self.confidence, 3), "lines": self.lines,
            "calls": self.calls, "recognised": self.recognised, "rejected": self.rejected,
            "implausible": self.implausible, "options": self.options,
            "driver_options": self.driver_options(), "site_arguments": self.site_arguments(),
        }


def option_arguments(options: dict[str, Any]) -> list[str]:
    """``KEY=VALUE`` for each option, as ``--driver-option`` reads it back: a
    VALUE that parses as JSON is taken as JSON, anything else as text. So text
    is written as it is unless it would parse as JSON (``true``, ``12``), and
    is then written as a JSON string; every other value is written as JSON."""
    out = []
    for key, value in options.items():
        if isinstance(value, str):
            try:
                json.loads(value)
            except ValueError:
                out.append(f"{key}={value}")
                continue
        out.append(f"{key}={json.dumps(value, ensure_ascii=False)}")
    return out


def plausible(record: CdrRecord) -> bool:
    return (
        EARLIEST <= record.start <= LATEST
        and 0 <= record.talk_seconds < 86400 * 2
        and 0 <= record.ring_seconds < 86400
        and bool(record.calling or record.called)
    )


def sample_lines(data: bytes, limit: int = SAMPLE_LINES) -> list[bytes]:
    return [line for line in data.splitlines() if line.strip()][:limit]


def option_sets(cls: type) -> list[tuple[dict[str, Any], int | None]]:
    """The option sets ``detect`` reads a sample with for driver class ``cls``:
    each proposed set, then each again with every alternative date form; with
    each, the index of the proposed set it varies (None for a proposed set)."""
    proposed = [dict(o) for o in getattr(cls, "detection_options", lambda: [{}])()]
    key, forms = getattr(cls, "detection_date_forms", (None, ()))
    out: list[tuple[dict[str, Any], int | None]] = [(options, None) for options in proposed]
    for i, options in enumerate(proposed):
        if key is not None and key not in options:
            out += [({**options, key: form}, i) for form in forms]
    return out


def detect(data: bytes, limit: int = SAMPLE_LINES) -> list[Candidate]:
    """Candidates that read at least one plausible call, best first."""
    from . import registry

    lines = sample_lines(data, limit)
    found: list[Candidate] = []
    for name, cls in sorted(registry().items()):
        readings: list[list | None] = []
        for options, varies in option_sets(cls):
            try:
                driver = cls(DriverOptions(options=dict(options)))
            except DriverConfigError:
                readings.append(None)
                continue
            outcomes = driver.parse_many(lines)
            readings.append(outcomes if varies is None else None)
            if varies is not None and outcomes == readings[varies]:
                continue  # the date form changed nothing: the sample needs no such option
            candidate = Candidate(name, dict(options), lines=len(lines))
            previous = None
            for outcome in outcomes:
                if type(outcome) is CdrRecord:
                    if plausible(outcome):
                        candidate.calls += 1
                        if previous is not None:
                            candidate.spread += abs((outcome.start - previous).total_seconds())
                        previous = outcome.start
                    else:
                        candidate.implausible += 1
                elif type(outcome) is Skip:
                    candidate.recognised += 1
                elif type(outcome) is Reject:
                    candidate.rejected += 1
            if candidate.calls:
                found.append(candidate)
    # Best share first; among equals, the driver that recognised more of its own structure;
    # among one driver's equal option sets, the one that puts the calls closest together in
    # time (then the order proposed: the sort is stable).
    found.sort(key=lambda c: (-c.confidence, -c.recognised, c.rejected, c.driver, c.spread))
    return found
