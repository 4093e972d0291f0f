"""The contract every PBX driver follows.

A driver reads the raw records of one PBX family, one record at a time and in
spool order, and answers each with one of three outcomes:

* a :class:`CdrRecord` — the record describes a call;
* :class:`Skip` — the record is not a call (a header, a blank line, a page
  heading, a login notice) and is only counted;
* :class:`Reject` — the record should have been a call but cannot be read; the
  Miner turns it into a discarded call with the reason and the raw text.

Drivers are pure Python: they never import Django, never touch the database
and never raise on bad input. A driver may keep state between records (the
Cisco header line names the columns of the rows that follow it); that state
must survive a restart, so it is exposed through :meth:`Driver.get_state` and
:meth:`Driver.set_state` as a JSON-serialisable value that the Miner stores
with its checkpoint.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

# Directions a driver may suggest (``None``: the driver cannot tell, and the Miner
# decides from the site's extension plan) and dispositions: the project's vocabulary,
# re-exported here for every driver.
from calltally.vocabulary import ANSWERED, BUSY, DISPOSITIONS, FAILED, INBOUND, INTERNAL, NO_ANSWER, OUTBOUND

__all__ = [
    "ANSWERED", "BUSY", "DISPOSITIONS", "FAILED", "INBOUND", "INTERNAL", "NO_ANSWER", "OUTBOUND", "UTC",
    "CdrRecord", "Driver", "DriverConfigError", "DriverOptions", "Outcome", "Reject", "Skip", "decode",
    "local_to_utc", "to_int",
]

UTC = dt.UTC


class DriverConfigError(ValueError):
    """The site's driver options are wrong; the message says how to fix them."""


@dataclass(slots=True)
class CdrRecord:
    """One call as a driver understood it, before any site rule is applied.

    Instants are timezone-aware and in UTC. Numbers are the digits the PBX
    recorded, trimmed, without interpretation.
    """

    start: dt.datetime
    talk_seconds: int = 0
    ring_seconds: int = 0
    answer: dt.datetime | None = None
    calling: str = ""
    called: str = ""  # what was dialled (outbound) or the number that was called (inbound)
    original_called: str = ""
    final_called: str = ""
    redirecting: str = ""
    orig_device: str = ""  # trunk, gateway, line or phone the call came from
    dest_device: str = ""  # trunk, gateway, line or phone the call went to
    direction_hint: str | None = None
    account_code: str = ""
    pbx_call_id: str = ""
    disposition: str = ANSWERED
    # The id the PBX gives every record of one call (a ring group's legs, a
    # transfer's segments), when it has one; '' for a record that is a call alone.
    leg_key: str = ""

    @property
    def answered(self) -> bool:
        return self.disposition == ANSWERED and (self.talk_seconds > 0 or self.answer is not None)


@dataclass(slots=True, frozen=True)
class Skip:
    """The raw record is not a call (header, blank line, report heading…)."""

    what: str = "not a call"


@dataclass(slots=True, frozen=True)
class Reject:
    """The raw record cannot be read as a call; ``detail`` says why."""

    detail: str


Outcome = CdrRecord | Skip | Reject


@dataclass(slots=True)
class DriverOptions:
    """What a driver knows about the site it reads for."""

    timezone: dt.tzinfo = field(default_factory=lambda: ZoneInfo("UTC"))
    options: dict[str, Any] = field(default_factory=dict)


class Driver:
    """Base class of every driver. Subclasses set the class attributes and
    implement :meth:`parse`."""

    name: ClassVar[str] = ""
    brand: ClassVar[str] = ""
    models: ClassVar[str] = ""
    transport: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: True for a driver whose records carry no date (a driver may set it per
    #: instance, from its options): the Miner then reads them with
    #: :meth:`parse_received`, giving each record the instant it was received.
    needs_received: bool = False
    #: True when the records of one call all carry the call's start and follow
    #: each other (IP Office segments): their talk times add up. Otherwise each
    #: record has its own clock times and overlapping talk is counted once.
    legs_in_sequence: ClassVar[bool] = False

    def __init__(self, config: DriverOptions | None = None):
        self.config = config or DriverOptions()
        self.validate_options(self.config.options)

    # --- options -------------------------------------------------------
    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        """Raise :class:`DriverConfigError` when ``options`` cannot work."""

    # --- state ---------------------------------------------------------
    def get_state(self) -> Any:
        """JSON-serialisable state needed to resume after the last record."""
        return None

    def set_state(self, state: Any) -> None:
        """Restore what :meth:`get_state` returned (``None``: start afresh)."""

    # --- parsing -------------------------------------------------------
    def parse(self, raw: bytes) -> Outcome:
        """Read one raw record (its bytes without the line terminator)."""
        raise NotImplementedError

    def parse_received(self, raws: list[bytes], received: list[str]) -> list[Outcome]:
        """:meth:`parse_many`, with the instant each record was received (ISO
        8601 UTC, '' when unknown). Only drivers that set ``needs_received``
        use it; the others ignore ``received``."""
        return self.parse_many(raws)

    def parse_many(self, raws: list[bytes]) -> list[Outcome]:
        """Read many records in order; never raises."""
        parse = self.parse
        out = []
        append = out.append
        for raw in raws:
            try:
                append(parse(raw))
            except Exception as exc:  # a driver bug must not lose the record
                append(Reject(f"driver error: {type(exc).__name__}: {exc}"))
        return out


# --- small helpers shared by drivers -------------------------------------

def decode(raw: bytes) -> str:
    """Text of a raw record: UTF-8 when it is, Latin-1 otherwise (never fails).

    A leading byte-order mark is dropped.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def to_int(text: str, default: int | None = None) -> int | None:
    text = text.strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        try:
            return int(float(text))
        except ValueError:
            return default


def local_to_utc(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """Attach ``zone`` to a naive local instant and convert it to UTC."""
    return value.replace(tzinfo=zone).astimezone(UTC)
