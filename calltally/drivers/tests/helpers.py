"""Small helpers shared by the driver tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from calltally.drivers.base import UTC, CdrRecord, Outcome, Reject, Skip

FIXTURES = Path(__file__).parent / "fixtures"


def raw_lines(name: str) -> list[bytes]:
    """The lines of a fixture file as a driver receives them: without the
    line feed, a CRLF file's carriage return still on."""
    data = (FIXTURES / name).read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def records(outcomes: list[Outcome]) -> list[CdrRecord]:
    return [o for o in outcomes if isinstance(o, CdrRecord)]


def rejects(outcomes: list[Outcome]) -> list[Reject]:
    return [o for o in outcomes if isinstance(o, Reject)]


def skips(outcomes: list[Outcome]) -> list[Skip]:
    return [o for o in outcomes if isinstance(o, Skip)]


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)
