"""Synthetic Avaya Communication Manager CDR records, for benchmarks and tests.

The records are a customized layout (:data:`SYNTH_OPTIONS` reads them) with
the date, the end time, the duration in seconds and the UCID, as a site
sending CDR to a call accounting system would set it up. About 45% are
outbound (condition code 7, ARS access code ``0``, trunk group ``101``), 35%
inbound (9, trunk group ``102``) and 20% internal (0); about 20% are not
answered: outbound and internal calls without talk time, inbound ring
records of abandoned (``H``) and busy (``I``) calls. Times are UTC wall-clock
times; every call ends on a whole minute, so the start read back is never
before the one generated.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator

from ..synthkit import DEFAULT_NUMBER_POOL, external_numbers

UTC = dt.UTC

FIELDS = [
    ["date", 6], "space", ["time", 4], "space", ["sec-dur", 5], "space", ["cond-code", 1], "space",
    ["code-dial", 4], "space", ["code-used", 4], "space", ["dialed-num", 23], "space", ["calling-num", 15],
    "space", ["acct-code", 15], "space", ["in-trk-code", 4], "space", ["ucid", 20],
]
SYNTH_OPTIONS = {"fields": FIELDS}


def synthesize(
    count: int,
    *,
    seed: int = 0,
    extensions: Iterable[int] = range(1000, 1200),
    start: dt.datetime = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    number_pool: int | None = DEFAULT_NUMBER_POOL,
) -> Iterator[bytes]:
    """Yield ``count`` customized CDR records."""
    rng = random.Random(seed)
    external = external_numbers(rng, number_pool)
    exts = [int(e) for e in extensions]
    base = start.astimezone(UTC).replace(tzinfo=None)
    offset = 0
    ucid = rng.randrange(10**9)
    for _ in range(count):
        offset += rng.randrange(0, 7)
        ucid += 1
        ext = rng.choice(exts)
        answered = rng.random() >= 0.2
        seconds = min(int(rng.expovariate(1 / 140.0)) + 1, 7200) if answered else 0
        code_dial = code_used = account = in_trunk = ""
        pick = rng.random()
        if pick < 0.45:  # outbound over ARS
            number = external()
            cond, code_dial, dialed, calling, code_used = "7", number[:1], number[1:], str(ext), "101"
            if rng.random() < 0.1:
                account = str(rng.randrange(100, 1000))
        elif pick < 0.80:  # inbound
            cond, dialed, calling, in_trunk = "9", str(ext), external(), "102"
            if not answered:  # a ring record: abandoned or busy, the duration is the ring time
                cond, seconds = ("H", rng.randrange(3, 40)) if rng.random() < 0.8 else ("I", rng.randrange(0, 4))
        else:  # internal
            cond, dialed, calling = "0", str(rng.choice(exts)), str(ext)
        begin = base + dt.timedelta(seconds=offset)
        end = begin + dt.timedelta(seconds=seconds)
        if end.second or end.microsecond:
            end = end.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        values = (end.strftime("%m%d%y"), " ", end.strftime("%H%M"), " ", f"{seconds:5d}", " ", cond, " ",
                  f"{code_dial:<4}", " ", f"{code_used:<4}", " ", f"{dialed:<23}", " ", f"{calling:<15}", " ",
                  f"{account:<15}", " ", f"{in_trunk:<4}", " ", f"{ucid:020d}")
        yield "".join(values).encode()
