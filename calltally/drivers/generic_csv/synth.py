"""Synthetic CSV call log for the generic CSV driver, for benchmarks and tests.

The file looks like a semicolon-separated export of some call logger: a
header line, the date and the time of the start in two columns, answer and
end instants, talk time as ``hh:mm:ss``, short codes for direction and result.
:data:`SYNTH_OPTIONS` is the driver configuration that reads it. About 45% of
the calls are outbound, 35% inbound, 20% internal; about 20% are not
answered. Times are UTC.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator

from ..synthkit import DEFAULT_NUMBER_POOL, external_numbers

UTC = dt.UTC

HEADER = "call_id;date;time;answered;ended;talk;caller;callee;direction;result;account;device"

SYNTH_OPTIONS = {
    "delimiter": ";",
    "header": True,
    "fields": {
        "pbx_call_id": "call_id",
        "start": ["date", "time"],
        "answer": "answered",
        "end": "ended",
        "talk_seconds": "talk",
        "calling": "caller",
        "called": "callee",
        "direction": "direction",
        "disposition": "result",
        "account_code": "account",
        "orig_device": "device",
    },
    "datetime_format": "%d/%m/%Y %H:%M:%S",
    "duration_format": "hh:mm:ss",
    "utc": True,
    "direction_values": {"IN": "inbound", "OUT": "outbound", "INT": "internal"},
    "disposition_values": {"ANS": "answered", "NOANS": "no_answer", "BUSY": "busy", "FAIL": "failed"},
}




def _stamp(value: dt.datetime) -> str:
    date = f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    return f"{date} {value.hour:02d}:{value.minute:02d}:{value.second:02d}"


def synthesize(
    count: int,
    *,
    seed: int = 0,
    extensions: Iterable[int] = range(1000, 1200),
    start: dt.datetime = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    number_pool: int | None = DEFAULT_NUMBER_POOL,
) -> Iterator[bytes]:
    """Yield the header line, then ``count`` call lines."""
    rng = random.Random(seed)
    external = external_numbers(rng, number_pool)
    exts = [int(e) for e in extensions]
    now = start.astimezone(UTC).replace(tzinfo=None)
    second = dt.timedelta(seconds=1)
    call_id = 500_000 + rng.randrange(1000)
    yield HEADER.encode()
    for _ in range(count):
        now += rng.randrange(0, 7) * second
        call_id += 1
        ext = rng.choice(exts)
        pick = rng.random()
        account = ""
        if pick < 0.45:
            caller, callee, direction, device = str(ext), external(), "OUT", f"EXT{ext}"
            if rng.random() < 0.1:
                account = str(rng.randrange(100, 1000))
        elif pick < 0.80:
            caller, callee, direction, device = external(), str(ext), "IN", f"TRUNK{1 + ext % 2}"
        else:
            caller, callee, direction, device = str(ext), str(rng.choice(exts)), "INT", f"EXT{ext}"
        ring = rng.randrange(1, 25)
        if rng.random() < 0.2:
            odds = rng.random()
            result = "BUSY" if odds < 0.25 else "FAIL" if odds < 0.3 else "NOANS"
            answered, talk = "", 0
            ended = _stamp(now + ring * second)
        else:
            result = "ANS"
            talk = min(int(rng.expovariate(1 / 140.0)) + 1, 7200)
            answered = _stamp(now + ring * second)
            ended = _stamp(now + (ring + talk) * second)
        hours, rest = divmod(talk, 3600)
        talk_text = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
        date, time = _stamp(now).split(" ")
        yield (f"{call_id};{date};{time};{answered};{ended};{talk_text};{caller};{callee};{direction};"
               f"{result};{account};{device}").encode()
