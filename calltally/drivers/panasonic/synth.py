"""Synthetic Panasonic SMDR lines (pattern A, 80 columns), for benchmarks and tests.

A page heading and ruler open the output and come back every 60 calls (they
are not counted in ``count``). About 45% outbound, 35% inbound (one in five
through a DDI), 20% intercom; about 20% unanswered (zero duration). The time
printed is the end of the call, on a whole minute, so the start read back is
never before ``start``; times are the wall-clock time of ``start``'s UTC.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator

from ..synthkit import DEFAULT_NUMBER_POOL, external_numbers

UTC = dt.UTC
SYNTH_OPTIONS: dict = {"pattern": "A", "time_is": "end", "date_order": "mdy"}
HEADING = " Date     Time    Ext   CO Dial Number               Ring Duration Acc code   CD"
RULER = "-" * 80


def line(end: dt.datetime, ext: str, co: str, dial: str, ring: int, talk: int, account: str = "", cd: str = "") -> str:
    """One pattern A line as the PBX prints it."""
    hour = end.hour % 12 or 12
    stamp = f"{end:%m/%d/%y} {hour:02d}:{end:%M}{'AM' if end.hour < 12 else 'PM'}"
    ring_text = f"{ring // 60}'{ring % 60:02d}" if ring else ""
    duration = f"{talk // 3600:02d}:{talk // 60 % 60:02d}'{talk % 60:02d}"
    return f"{stamp} {ext:<5} {co:>2} {dial:<25} {ring_text:>4} {duration} {account:<10} {cd:<2}".rstrip()


def synthesize(
    count: int,
    *,
    seed: int = 0,
    extensions: Iterable[int] = range(1000, 1200),
    start: dt.datetime = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    number_pool: int | None = DEFAULT_NUMBER_POOL,
) -> Iterator[bytes]:
    rng = random.Random(seed)
    external = external_numbers(rng, number_pool)
    exts = [str(e) for e in extensions]
    base = start.astimezone(UTC).replace(tzinfo=None)
    offset = 0
    for n in range(count):
        if n % 60 == 0:
            yield HEADING.encode()
            yield RULER.encode()
        offset += rng.randrange(0, 7)
        ext = rng.choice(exts)
        co = f"{rng.randrange(1, 25):02d}"
        talk = 0 if rng.random() < 0.2 else min(int(rng.expovariate(1 / 140.0)) + 1, 35999)
        pick = rng.random()
        account = cd = ""
        ring = 0
        if pick < 0.45:
            dial = external()
            if rng.random() < 0.1:
                account = str(rng.randrange(100, 100000))
        elif pick < 0.80:
            ring = rng.randrange(1, 40)
            dial = "<I>" + external()
            if rng.random() < 0.2:
                dial = f"<D>{rng.randrange(100, 1000)}" + dial
            if talk and rng.random() < 0.05:
                cd = "TR"
        else:
            dial, co = f"EXT{rng.choice(exts)}", "  "
            ring = rng.randrange(1, 15)
        seconds = offset + talk + ring
        end = base + dt.timedelta(minutes=-(-seconds // 60))
        yield line(end, ext, co, dial, ring, talk, account, cd).encode()
