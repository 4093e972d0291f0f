"""Synthetic Avaya IP Office SMDR lines, for benchmarks and tests.

The lines are what an IP Office 500 V2 on R9–R10 sends over TCP: 34 fields,
no header, outside-line access code ``0`` (Dialled Number = ``0`` + Called
Number), one line ``T9001``, voicemail on ``V9501``. About 45% of the records
are outbound, 35% inbound, 20% internal; about 20% are not answered. Some
inbound calls go to voicemail after ringing, as a second segment of the same
Call ID (both segments count as records). Times are written as the wall-clock
time of ``start``'s UTC, so they read back unchanged with the site time zone
UTC.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator

from ..synthkit import DEFAULT_NUMBER_POOL, external_numbers

UTC = dt.UTC
_NAMES = ("Anna Nowak", "Piotr Wiśniewski", "Zofia Wójcik", "Jan Kowalczyk", "Maria Kamińska", "Tomasz Lewandowski",
          "Ewa Zielińska", "Paweł Szymański", "Agnieszka Woźniak", "Łukasz Dąbrowski")
_SERVER = "192.168.0.201"


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def synthesize(
    count: int,
    *,
    seed: int = 0,
    extensions: Iterable[int] = range(1000, 1200),
    start: dt.datetime = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    number_pool: int | None = DEFAULT_NUMBER_POOL,
) -> Iterator[bytes]:
    """Yield ``count`` SMDR lines."""
    rng = random.Random(seed)
    external = external_numbers(rng, number_pool)
    exts = [int(e) for e in extensions]
    names = {e: _NAMES[e % len(_NAMES)] for e in exts}
    base = start.astimezone(UTC).replace(tzinfo=None)
    offset = 0
    call_id = 1_000_000 + rng.randrange(1000)
    unique = rng.randrange(1000, 5000)
    made = 0
    while made < count:
        offset += rng.randrange(0, 7)
        call_id += 1
        unique += 3
        ext = rng.choice(exts)
        begin = (base + dt.timedelta(seconds=offset)).strftime("%Y/%m/%d %H:%M:%S")
        ring = rng.randrange(1, 25)
        answered = rng.random() >= 0.2
        talk = min(int(rng.expovariate(1 / 140.0)) + 1, 7200) if answered else 0
        hold = rng.randrange(5, 60) if answered and rng.random() < 0.05 else 0
        account = targeting = ""
        pick = rng.random()
        if pick < 0.45:  # outbound through the line
            number = external()
            caller, direction, called, dialled, internal = str(ext), "O", number[1:], number, "0"
            party1, party2 = (f"E{ext}", names[ext]), ("T9001", "Line 1.1")
            targeting = f"U,{names[ext]},"
            ring = rng.randrange(0, 12)
            if rng.random() < 0.1:
                account = str(rng.randrange(100, 1000))
        elif pick < 0.80:  # inbound from the line
            caller, direction, called, dialled, internal = external(), "I", str(ext), "", "0"
            party1, party2 = (f"E{ext}", names[ext]), ("T9001", "Line 1.1")
            if not answered and made + 1 < count and rng.random() < 0.3:
                # unanswered at the extension, then voicemail takes the call: two segments
                yield _line(begin, 0, ring, caller, direction, called, dialled, internal, call_id, 1,
                            party1, party2, 0, account, targeting, unique)
                made += 1
                party1, talk, ring = ("V9501", "VM Channel 1"), rng.randrange(5, 40), 0
        else:  # internal
            other = rng.choice(exts)
            caller, direction, called, dialled, internal = str(ext), "O", str(other), str(other), "1"
            party1, party2 = (f"E{ext}", names[ext]), (f"E{other}", names[other])
        yield _line(begin, talk, ring, caller, direction, called, dialled, internal, call_id, 0,
                    party1, party2, hold, account, targeting, unique)
        made += 1


def _line(begin: str, talk: int, ring: int, caller: str, direction: str, called: str, dialled: str, internal: str,
          call_id: int, continuation: int, party1: tuple[str, str], party2: tuple[str, str], hold: int,
          account: str, targeting: str, unique: int) -> bytes:
    fields = [
        begin, _clock(talk), str(ring), caller, direction, called, dialled, account, internal, str(call_id),
        str(continuation), party1[0], party1[1], party2[0], party2[1], str(hold), "0", "", "",
        "", "", "", "", "", "", "", "",  # advice of charge
        targeting or ",,", _SERVER, str(unique), _SERVER, str(unique + 2),
    ]
    return ",".join(fields).encode()
