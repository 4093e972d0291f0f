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


def clear_local_time(moment):
    """False for a wall-clock time near a daylight-saving change (early Sunday hours in
    March, April, October, November), which a text timestamp cannot place exactly."""
    return not (moment.weekday() == 6 and moment.month in (3, 4, 10, 11) and moment.hour < 4)


def local_datetimes(**bounds):
    """Naive wall-clock datetimes a text timestamp can carry unambiguously."""
    from hypothesis import strategies as st

    return st.datetimes(**bounds).map(lambda d: d.replace(fold=0)).filter(clear_local_time)
