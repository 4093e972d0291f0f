"""What a mining run did: counted while mining, printed by the CLI and logged by the Miner."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from calltally.vocabulary import DIRECTIONS

# The phases of a batch (MineSummary.phases), in the order a batch goes through them.
PHASES = ("reading", "making", "writing")


@dataclass
class MineSummary:
    """What a mining run did; printed by ``calltally import`` and the Miner's log."""

    records: int = 0
    calls: Counter = field(default_factory=Counter)  # by direction
    discarded: Counter = field(default_factory=Counter)  # by reason label
    skipped_internal: int = 0
    skipped_other: int = 0
    reprocessed: int = 0
    auto_acquired: int = 0
    unrated: int = 0  # outbound calls no tariff rate matched
    unallocated_accounts: int = 0  # outbound calls whose account code matches no account
    merged_calls: int = 0  # merged calls made or brought up to date
    merged_legs: int = 0  # the legs those merged calls are made of
    loose_legs: int = 0  # records of no extension kept as legs of their call (queues, Local channels)
    rejected: int = 0  # records the driver could not read (among the discarded)
    mined_elsewhere: int = 0  # of an import's records: mined by another process (the Miner service)
    pending: int = 0  # of an import's records: not mined yet (left to the Miner service)
    seconds: float = 0.0
    # Seconds spent reading and parsing, making rows, and writing (the writers' turn, which the two
    # processes of a backlog take one at a time), summed over the processes: where the time went.
    phases: Counter = field(default_factory=Counter)
    # Set when the records are not being read as calls (most skipped or rejected, none a call):
    # what is wrong and how to fix it.
    reading_problem: str = ""

    def add(self, other: MineSummary) -> None:
        self.records += other.records
        self.calls.update(other.calls)
        self.discarded.update(other.discarded)
        self.skipped_internal += other.skipped_internal
        self.skipped_other += other.skipped_other
        self.reprocessed += other.reprocessed
        self.auto_acquired += other.auto_acquired
        self.unrated += other.unrated
        self.unallocated_accounts += other.unallocated_accounts
        self.merged_calls += other.merged_calls
        self.merged_legs += other.merged_legs
        self.loose_legs += other.loose_legs
        self.rejected += other.rejected
        self.mined_elsewhere += other.mined_elsewhere
        self.pending += other.pending
        self.phases.update(other.phases)
        self.reading_problem = other.reading_problem or self.reading_problem

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def total_discarded(self) -> int:
        return sum(self.discarded.values())

    def as_dict(self) -> dict:
        return {
            "records": self.records,
            "calls": self.total_calls,
            "calls_by_direction": {d: self.calls.get(d, 0) for d in DIRECTIONS},
            "discarded": self.total_discarded,
            "discarded_by_reason": dict(sorted(self.discarded.items())),
            "skipped_internal": self.skipped_internal,
            "skipped_not_calls": self.skipped_other,
            "auto_acquired_extensions": self.auto_acquired,
            "unrated": self.unrated,
            "unallocated_account_codes": self.unallocated_accounts,
            "merged_calls": self.merged_calls,
            "merged_legs": self.merged_legs,
            "loose_legs": self.loose_legs,
            "mined_by_the_miner_service": self.mined_elsewhere,
            "not_mined_yet": self.pending,
            "reading_problem": self.reading_problem or None,
            "seconds": round(self.seconds, 3),
            "seconds_by_phase": {phase: round(self.phases.get(phase, 0.0), 6) for phase in PHASES},
        }


def summary_lines(summary: MineSummary) -> list[str]:
    data = summary.as_dict()
    by_direction = ", ".join(f"{k} {v}" for k, v in data["calls_by_direction"].items())
    lines = [
        f"records read      {data['records']:>9}",
        f"calls stored      {data['calls']:>9}  ({by_direction})",
    ]
    if data["merged_calls"]:
        lines.append(f"merged calls      {data['merged_calls']:>9}  (made of {data['merged_legs']} of those records: "
                     "ring groups, transfers, forwards)")
    if data["loose_legs"]:
        lines.append(f"legs of no ext.   {data['loose_legs']:>9}  (queue and Local-channel records of calls)")
    reasons = ", ".join(f"{k} {v}" for k, v in data["discarded_by_reason"].items())
    lines.append(f"discarded         {data['discarded']:>9}" + (f"  ({reasons})" if reasons else ""))
    lines.append(f"skipped internal  {data['skipped_internal']:>9}")
    lines.append(f"not calls         {data['skipped_not_calls']:>9}  (headers, blank lines)")
    if data["unrated"]:
        lines.append(f"unrated           {data['unrated']:>9}  (outbound calls no tariff rate matched)")
    if data["unallocated_account_codes"]:
        count = data["unallocated_account_codes"]
        lines.append(f"unknown accounts  {count:>9}  (outbound calls with an unallocated code)")
    if data["auto_acquired_extensions"]:
        lines.append(f"new extensions    {data['auto_acquired_extensions']:>9}  (automatic acquisition)")
    if summary.reprocessed:
        lines.append(f"reprocessed       {summary.reprocessed:>9}")
    lines.append(f"seconds           {data['seconds']:>9.2f}")
    if summary.mined_elsewhere:
        lines.append(f"mined by service  {summary.mined_elsewhere:>9}  (the running Miner took them; all are "
                     "counted above)")
    if summary.pending:
        lines.append(f"not mined yet     {summary.pending:>9}  (left to the running Miner service: "
                     "calltally status shows its progress)")
    if summary.reading_problem:
        lines.append(f"WARNING: {summary.reading_problem}")
    return lines
