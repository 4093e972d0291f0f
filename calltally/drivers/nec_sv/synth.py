"""Synthetic NEC SV9500 MAT SMDR records (layout ``mat``), for benchmarks and tests.

Mostly flexible records (KK outgoing, KL incoming, KM station to station),
with one in five in the normal fixed-column formats (KA, KE, KB); one in four
framed by STX/ETX as the MAT port sends them. About 45% outbound, 35% inbound,
20% internal; about 20% unanswered (end time = start time). Times are the
wall-clock time of ``start``'s UTC, so they read back unchanged with the site
time zone UTC.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator

from ..synthkit import DEFAULT_NUMBER_POOL, external_numbers

UTC = dt.UTC
SYNTH_OPTIONS: dict = {"layout": "mat"}


def _field(fid: int, value: str) -> str:
    return f"{fid:02d}{len(value):02d}{value}"


def flexible(kind: str, *, begin: dt.datetime, end: dt.datetime, station: str, other: str = "",
             dialled: str = "", ani: str = "", account: str = "", route: int = 1, trunk: int = 1,
             condition: str = "000") -> str:
    """One flexible record (without framing) as the SV9500 writes it."""
    times = f"{begin:%Y%m%d%H%M%S}000{end:%Y%m%d%H%M%S}000"
    parts = [f"0!{kind}"]
    if kind in ("KK", "KL"):
        parts.append(_field(1, f"001{route:03d}{trunk:03d}{route:03d}"))
    if kind in ("KK", "KM"):
        parts.append(_field(2, f"0001{station:<6}"))
        parts.append(_field(3, f"001001{station}"))
    if kind in ("KL", "KM"):
        called = station if kind == "KL" else other
        parts.append(_field(4, f"0001{called:<6}"))
        parts.append(_field(5, f"001001{called}"))
    parts.append(_field(6, times))
    if account:
        parts.append(_field(7, account))
    parts.append(_field(8, condition))
    if dialled:
        parts.append(_field(10, dialled))
    if ani:
        parts.append(_field(16, "1" + ani))
    return "".join(parts)


def normal(kind: str, *, begin: dt.datetime, end: dt.datetime, station: str, other: str = "",
           account: str = "", route: int = 1, trunk: int = 1, transferred: bool = False) -> str:
    """One normal-format record (without framing); columns as in NEC's tables minus the STX."""
    rec = [" "] * 130
    rec[0:5] = "\x020!" + kind
    rec[5:8] = f"{route:03d}"
    rec[8:11] = f"{trunk:03d}"
    rec[11] = "0"
    rec[12:14] = "01"
    rec[14:20] = f"{station:<6}"[:6]
    rec[20:30] = f"{begin:%m%d%H%M%S}"
    rec[30:40] = f"{end:%m%d%H%M%S}"
    rec[40:50] = f"{account:<10}"[:10]
    rec[50:53] = "001"
    rec[53:56] = ("1" if transferred else "0") + ("2" if account else "0") + "0"
    if kind == "KA":
        rec[62:86] = f"{other:<24}"[:24]
    elif kind == "KB":
        rec[64:70] = f"{other:<6}"[:6]
    else:
        rec[98:116] = f"{other:<18}"[:18]
    rec[116:118] = f"{begin:%y}"
    rec[118:120] = f"{end:%y}"
    rec[120] = "0"
    return "".join(rec)[1:]


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
    second = dt.timedelta(seconds=1)
    for _ in range(count):
        offset += rng.randrange(0, 7)
        begin = base + offset * second
        talk = 0 if rng.random() < 0.2 else min(int(rng.expovariate(1 / 140.0)) + 1, 7200)
        end = begin + talk * second
        station = rng.choice(exts)
        pick = rng.random()
        fixed = rng.random() < 0.2
        route, trunk = rng.randrange(1, 4), rng.randrange(1, 31)
        account = f"{rng.randrange(100, 1000)}" if rng.random() < 0.1 else ""
        if pick < 0.45:
            number = external()
            if fixed:
                text = normal("KA", begin=begin, end=end, station=station, other=number, account=account,
                              route=route, trunk=trunk)
            else:
                text = flexible("KK", begin=begin, end=end, station=station, dialled=number, account=account,
                                route=route, trunk=trunk)
        elif pick < 0.80:
            number = external()
            transferred = rng.random() < 0.05
            if fixed:
                text = normal("KE", begin=begin, end=end, station=station, other=number, route=route,
                              trunk=trunk, transferred=transferred)
            else:
                text = flexible("KL", begin=begin, end=end, station=station, ani=number, route=route,
                                trunk=trunk, condition="100" if transferred else "000")
        else:
            other = rng.choice(exts)
            if fixed:
                text = normal("KB", begin=begin, end=end, station=station, other=other)
            else:
                text = flexible("KM", begin=begin, end=end, station=station, other=other)
        if rng.random() < 0.25:
            text = "\x02" + text + "\x03"
        yield text.encode("ascii")
