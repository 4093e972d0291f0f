"""Synthetic HiPath compressed call-charge records, for benchmarks and tests.

Records in the default compressed layout
(:data:`~calltally.drivers.hipath.driver.COMPRESSED_FIELDS`), as the PBX
aligns them (numbers right-aligned, the called number and account code
left-aligned), date and time of the call end as the wall-clock time of UTC
(read back unchanged with time zone UTC). About 45% outgoing (access code 0
+ the number, a few with an account code, a few forwarded out), 35% incoming,
20% "internal" — HiPath prints no internal calls, so these are written as
outgoing calls to a short number; about 20% unanswered incoming calls. A
heading line comes first.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator

from ..synthkit import DEFAULT_NUMBER_POOL, external_numbers
from .driver import COMPRESSED_FIELDS

UTC = dt.UTC
_LEFT = frozenset({"number", "account", "msn"})
HEADING = "HiPath 3000 call charges"
# HiPath prints no internal calls: the "internal" fifth is outgoing to short numbers.
DIRECTION_MIX = {"outbound": 0.65, "inbound": 0.35, "internal": 0.0}


def format_record(values: dict[str, str], fields=COMPRESSED_FIELDS) -> str:
    out = []
    for name, width in fields:
        value = str(values.get(name, ""))[:width]
        out.append(value.ljust(width) if name in _LEFT else value.rjust(width))
    return "".join(out)


def synthesize(
    count: int,
    *,
    seed: int = 0,
    extensions: Iterable[int] = range(1000, 1200),
    start: dt.datetime = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    number_pool: int | None = DEFAULT_NUMBER_POOL,
) -> Iterator[bytes]:
    """Yield a heading line, then ``count`` records."""
    rng = random.Random(seed)
    external = external_numbers(rng, number_pool)
    exts = [int(e) for e in extensions]
    base = start.astimezone(UTC).replace(tzinfo=None)
    second = dt.timedelta(seconds=1)
    offset = 0
    yield HEADING.encode()
    for _ in range(count):
        offset += rng.randrange(0, 7)
        ext = str(rng.choice(exts))
        pick = rng.random()
        values = {"extension": ext, "node": "1", "trunk": str(rng.randrange(1, 31)), "units": "0",
                  "trunk_group": "1", "lcr_route": "1"}
        ring = 0
        talk = min(int(rng.expovariate(1 / 140.0)) + 1, 7200)
        if pick < 0.45:
            values.update(number=external(), call_type="6" if rng.random() < 0.03 else "2")
            if rng.random() < 0.1:
                values["account"] = str(rng.randrange(100, 100000))
        elif pick < 0.80:
            values.update(number=external().lstrip("0"), call_type="1")
            ring = rng.randrange(1, 25)
            if rng.random() < 0.55:
                talk = 0
        else:
            values.update(number=f"0{rng.randrange(100, 1000)}", call_type="2")
        end = base + (offset + ring + talk) * second
        values.update(date=f"{end:%d.%m.%y}", time=f"{end:%H:%M:%S}", ring=str(ring) if ring else "",
                      duration=f"{talk // 3600:02d}:{talk // 60 % 60:02d}:{talk % 60:02d}")
        yield format_record(values).encode()
