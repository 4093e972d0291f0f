"""Synthetic Mitel MiVoice Business SMDR records (standard 90-column layout).

About 45% outbound (extension → trunk Tnnn), 35% inbound (trunk → extension,
digits received on the trunk), 20% internal; about 20% unanswered or busy.
Times are the wall-clock time of ``start``'s UTC (24-hour clock).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator

from ..synthkit import DEFAULT_NUMBER_POOL, external_numbers
from .driver import STANDARD

UTC = dt.UTC
SYNTH_OPTIONS: dict = {"layout": "standard"}
# The records print no year: the driver reads them as of the last eleven months.
YEARLESS = True


def record(fields: dict[str, str], columns: dict[str, tuple[int, int]] = STANDARD) -> str:
    """A record with each field left-aligned in its columns."""
    width = max(last for _, last in columns.values())
    chars = [" "] * width
    for key, value in fields.items():
        first, last = columns[key]
        chars[first - 1:last] = f"{value:<{last - first + 1}}"[: last - first + 1]
    return "".join(chars).rstrip()


def flag(seconds: int) -> str:
    return " " if seconds < 300 else "-" if seconds < 600 else "%" if seconds < 1800 else "+"


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
    base = base.replace(second=0) + dt.timedelta(minutes=1 if base.second else 0)
    offset = 0
    for _ in range(count):
        offset += rng.randrange(0, 7)
        begin = base + dt.timedelta(seconds=offset)
        ext = rng.choice(exts)
        trunk = f"T{rng.randrange(1, 240):03d}"
        talk = min(int(rng.expovariate(1 / 140.0)) + 1, 35999)
        pick = rng.random()
        fields = {"date": f"{begin:%m/%d}", "time": f"{begin:%H:%M}"}
        status = "A"
        unanswered = rng.random() < 0.2
        if pick < 0.45:
            fields.update(calling=ext, digits=external(), called=trunk)
            if unanswered:
                status, talk = ("B", 0) if rng.random() < 0.3 else (" ", 0)
            if rng.random() < 0.1:
                fields["account"] = str(rng.randrange(1000, 100000))
        elif pick < 0.80:
            fields.update(calling=trunk, digits=str(rng.randrange(2000, 3000)), called=ext)
            if unanswered:
                fields["answer_time"], talk, status = "***", 0, " "
            else:
                fields["answer_time"] = f"{rng.randrange(0, 40):03d}"
                if rng.random() < 0.05:
                    fields.update(transfer="T", third=rng.choice(exts))
        else:
            fields.update(calling=ext, digits=(other := rng.choice(exts)), called=other)
            if unanswered:
                talk, status = 0, " "
        fields.update(flag=flag(talk), duration=f"{talk // 3600:02d}:{talk // 60 % 60:02d}:{talk % 60:02d}",
                      status=status)
        yield record(fields).encode()
