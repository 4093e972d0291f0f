"""Synthetic FreeSWITCH mod_cdr_csv lines (stock ``example`` or ``sql``
template), for benchmarks and tests.

Users in context ``default`` with 4-digit extensions, outside calls arriving
in ``public``; the driver needs ``extension_digits`` (see
:data:`SYNTH_OPTIONS`) to tell outbound from internal calls of ``default``,
as the stock templates carry no gateway. About 45% outbound, 35% inbound,
20% internal; about 20% not answered. Times are the wall-clock time of
``start``'s UTC. mod_cdr_csv writes no header line.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid as uuidlib
from collections.abc import Iterable, Iterator

from ..synthkit import DEFAULT_NUMBER_POOL, external_numbers

UTC = dt.UTC
SYNTH_OPTIONS = {"extension_digits": 4}
_NAMES = ("Anna Rossi", "Marco Bianchi", "Giulia Ferri", "Luca Conti", "Sara Greco", "Paolo Riva")
_FAILURES = ("USER_BUSY", "USER_BUSY", "CALL_REJECTED", "NO_ROUTE_DESTINATION")


def synthesize(
    count: int,
    *,
    seed: int = 0,
    extensions: Iterable[int] = range(1000, 1200),
    start: dt.datetime = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    number_pool: int | None = DEFAULT_NUMBER_POOL,
    template: str = "example",
) -> Iterator[bytes]:
    """Yield ``count`` lines of the stock ``template`` (example or sql)."""
    rng = random.Random(seed)
    external = external_numbers(rng, number_pool)
    exts = [str(e) for e in extensions]
    base = start.astimezone(UTC).replace(tzinfo=None)
    second = dt.timedelta(seconds=1)
    offset = 0
    for _ in range(count):
        offset += rng.randrange(0, 7)
        ext = rng.choice(exts)
        pick = rng.random()
        account = ""
        if pick < 0.45:
            name, calling, called, context = _NAMES[int(ext) % len(_NAMES)], ext, external(), "default"
            if rng.random() < 0.1:
                account = f"CC{rng.randrange(10, 100)}"
        elif pick < 0.80:
            calling = external()
            name, called, context = calling, ext, "public"
        else:
            name, calling, called, context = _NAMES[int(ext) % len(_NAMES)], ext, rng.choice(exts), "default"
        begin = base + offset * second
        ring = rng.randrange(1, 25)
        if rng.random() < 0.2:
            odds = rng.random()
            cause = _FAILURES[int(odds / 0.3 * 4)] if odds < 0.3 else "NO_ANSWER"
            answer, billsec = "", 0
        else:
            cause = "NORMAL_CLEARING"
            billsec = min(int(rng.expovariate(1 / 140.0)) + 1, 7200)
            answer = (begin + ring * second).isoformat(" ")
        duration = ring + billsec
        a_uuid = str(uuidlib.UUID(int=rng.getrandbits(128), version=4))
        b_uuid = str(uuidlib.UUID(int=rng.getrandbits(128), version=4)) if answer else ""
        fields = [name, calling, called, context, begin.isoformat(" "), answer,
                  (begin + duration * second).isoformat(" "), str(duration), str(billsec), cause, a_uuid, b_uuid,
                  account]
        if template == "sql":
            yield ("INSERT INTO cdr VALUES (" + ",".join(f'"{f}"' for f in fields[:12])
                   + f', "{account}");').encode()
        else:
            yield ",".join(f'"{f}"' for f in [*fields, "PCMA", "PCMA"]).encode()
