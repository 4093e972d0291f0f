"""Synthetic OXE ED5.2 accounting tickets, for benchmarks and tests.

Tickets in the default layout (:data:`~calltally.drivers.alcatel_oxe.driver.ED52_FIELDS`),
dates written ``YYYYMMDD HH:MM:SS`` as the wall-clock time of ``start``'s UTC
(read back unchanged with time zone UTC), durations in seconds. About 45%
outgoing (CallType 0, access code 0 + the number, some with a business
code), 35% incoming (4, a few redirected), 20% local-local (14); about 20%
unanswered.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator

from ..synthkit import DEFAULT_NUMBER_POOL, external_numbers
from .driver import ED52_FIELDS

UTC = dt.UTC


def format_ticket(values: dict[str, str], fields=ED52_FIELDS) -> str:
    """A ticket line: every field of the layout, left-aligned in its width."""
    return "".join(str(values.get(name, ""))[:width].ljust(width) for name, width in fields)


def synthesize(
    count: int,
    *,
    seed: int = 0,
    extensions: Iterable[int] = range(1000, 1200),
    start: dt.datetime = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    number_pool: int | None = DEFAULT_NUMBER_POOL,
) -> Iterator[bytes]:
    """Yield ``count`` ticket lines."""
    rng = random.Random(seed)
    external = external_numbers(rng, number_pool)
    exts = [int(e) for e in extensions]
    base = start.astimezone(UTC).replace(tzinfo=None)
    second = dt.timedelta(seconds=1)
    offset = 0
    for ref in range(1, count + 1):
        offset += rng.randrange(0, 7)
        ext = str(rng.choice(exts))
        pick = rng.random()
        values = {"TicketVersion": "ED5.2", "ChargedNumber": ext, "ChargedUserName": f"USER {ext}",
                  "CallReference": str(ref), "TrunkIdentity": "", "TrunkGroupIdentity": ""}
        if pick < 0.45:
            number = external()
            values.update(CallType="0", CallingNumber=ext, CalledNumber=number, InitialDialledNumber=number,
                          TrunkIdentity=str(rng.randrange(1, 31)), TrunkGroupIdentity="1")
            if rng.random() < 0.1:
                values["AccessCode"] = str(rng.randrange(1000, 10000))
        elif pick < 0.80:
            values.update(CallType="4", CallingNumber=external().lstrip("0"), CalledNumber=ext,
                          TrunkIdentity=str(rng.randrange(1, 31)), TrunkGroupIdentity="2")
            if rng.random() < 0.05:
                values.update(RedirectedCallIndicator="1", ActingExtensionNumber=str(rng.choice(exts)))
        else:
            other = str(rng.choice(exts))
            values.update(CallType="14", CallingNumber=ext, CalledNumber=other)
        ring = rng.randrange(1, 25)
        talk = 0 if rng.random() < 0.2 else min(int(rng.expovariate(1 / 140.0)) + 1, 7200)
        begin = base + offset * second
        values.update(
            StartDateTime=f"{begin:%Y%m%d %H:%M:%S}",
            EndDateTime=f"{begin + (ring + talk) * second:%Y%m%d %H:%M:%S}",
            Duration=str(talk), EffectiveCallDuration=str(talk), WaitingDuration=str(ring),
        )
        yield format_ticket(values).encode()
