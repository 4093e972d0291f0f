"""Synthetic Asterisk cdr_csv ``Master.csv`` lines, for benchmarks and tests.

The calls look like those of a small FreePBX: extensions on PJSIP, one SIP
carrier endpoint called ``carrier``, inbound calls arriving in ``from-trunk``.
About 45% are outbound, 35% inbound, 20% internal; about 20% are not
answered. Times are written as the wall-clock time of ``start``'s UTC, so
they read back unchanged with the site time zone UTC (or ``usegmtime``).
There is no header line: cdr_csv writes none.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator

from ..synthkit import DEFAULT_NUMBER_POOL, external_numbers

UTC = dt.UTC
_NAMES = ("Anna Rossi", "Marco Bianchi", "Giulia Ferri", "Luca Conti", "Sara Greco", "Paolo Riva",
          "Elena Costa", "Davide Neri", "Chiara Galli", "Andrea Villa")




def synthesize(
    count: int,
    *,
    seed: int = 0,
    extensions: Iterable[int] = range(1000, 1200),
    start: dt.datetime = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    number_pool: int | None = DEFAULT_NUMBER_POOL,
    newcdrcolumns: bool = False,
    ring_groups: float = 0.0,
) -> Iterator[bytes]:
    """Yield ``count`` Master.csv lines (18 fields, or 21 with ``newcdrcolumns``).

    With ``ring_groups`` (a share of inbound calls, 0 to 1) those calls ring three
    phones at once, as a ring group does: three lines with one uniqueid, at most
    one of them answered.
    """
    rng = random.Random(seed)
    external = external_numbers(rng, number_pool)
    exts = [int(e) for e in extensions]
    names = {e: _NAMES[e % len(_NAMES)] for e in exts}
    base = start.astimezone(UTC).replace(tzinfo=None)
    epoch = int(start.timestamp())
    offset = 0
    seq = rng.randrange(1000)
    second = dt.timedelta(seconds=1)
    written = 0
    while written < count:
        offset += rng.randrange(0, 7)
        seq += 2
        ext = rng.choice(exts)
        pick = rng.random()
        account = ""
        if pick < 0.45:  # outbound
            number = external()
            src, dst, context = str(ext), number, "from-internal"
            clid = f'"""{names[ext]}"" <{ext}>"'
            channel = f"PJSIP/{ext}-{seq:08x}"
            dstchannel = f"PJSIP/carrier-{seq + 1:08x}"
            lastdata = f"PJSIP/{number}@carrier,300,Tt"
            if rng.random() < 0.1:
                account = f"CC{rng.randrange(10, 100)}"
        elif pick < 0.80:  # inbound
            caller = external()
            src, dst, context = caller, str(ext), "from-trunk"
            clid = f'"""{caller}"" <{caller}>"'
            channel = f"PJSIP/carrier-{seq:08x}"
            dstchannel = f"PJSIP/{ext}-{seq + 1:08x}"
            lastdata = f"PJSIP/{ext},20,tr"
        else:  # internal
            other = rng.choice(exts)
            src, dst, context = str(ext), str(other), "from-internal"
            clid = f'"""{names[ext]}"" <{ext}>"'
            channel = f"PJSIP/{ext}-{seq:08x}"
            dstchannel = f"PJSIP/{other}-{seq + 1:08x}"
            lastdata = f"PJSIP/{other},20,tr"
        ring = rng.randrange(1, 25)
        begin = base + offset * second
        if rng.random() < 0.2:
            odds = rng.random()
            if odds < 0.25:
                disposition, ring = "BUSY", rng.randrange(0, 3)
            elif odds < 0.3:
                disposition = "CONGESTION" if pick < 0.45 else "FAILED"
            else:
                disposition = "NO ANSWER"
            answer_text, billsec = "", 0
        else:
            disposition = "ANSWERED"
            billsec = min(int(rng.expovariate(1 / 140.0)) + 1, 7200)
            answer_text = f'"{(begin + ring * second).isoformat(" ")}"'
        duration = ring + billsec
        phones = [dstchannel]
        if ring_groups and 0.45 <= pick < 0.80 and rng.random() < ring_groups:
            others = rng.sample(exts, 2)
            phones = [f"PJSIP/{other}-{seq + 1:08x}" for other in others] + [dstchannel]
            rng.shuffle(phones)
        answered_phone = dstchannel
        for dstchannel in phones[: count - written]:
            written += 1
            if dstchannel == answered_phone:
                yield _line(account, src, dst, context, clid, channel, dstchannel, lastdata, begin, answer_text,
                            duration, billsec, disposition, epoch + offset, seq, newcdrcolumns)
            else:  # a phone of the group that only rang
                yield _line(account, src, dst, context, clid, channel, dstchannel, lastdata, begin, "",
                            ring, 0, "NO ANSWER", epoch + offset, seq, newcdrcolumns)


def _line(account, src, dst, context, clid, channel, dstchannel, lastdata, begin, answer_text, duration, billsec,
          disposition, epoch, seq, newcdrcolumns) -> bytes:
    fields = [
        f'"{account}"', f'"{src}"', f'"{dst}"', f'"{context}"', clid, f'"{channel}"',
        f'"{dstchannel}"', '"Dial"', f'"{lastdata}"', f'"{begin.isoformat(" ")}"', answer_text,
        f'"{(begin + duration * dt.timedelta(seconds=1)).isoformat(" ")}"', str(duration), str(billsec),
        f'"{disposition}"', '"DOCUMENTATION"', f'"{epoch}.{seq}"', '""',
    ]
    if newcdrcolumns:
        fields += ['""', f'"{epoch}.{seq}"', str(seq)]
    return ",".join(fields).encode()
