"""Synthetic FreePBX CDR table exports (or cdr_custom Master.csv lines), for
benchmarks and tests.

A small FreePBX: PJSIP extensions, one trunk endpoint ``carrier`` (listed in
:data:`SYNTH_OPTIONS` as a trunk peer), DID 0612345678. About 45% outbound
(``outbound_cnum`` set), 35% inbound (``did`` set), 20% internal; about 20%
not answered. Times are the wall-clock time of ``start``'s UTC, so they read
back unchanged with the site time zone UTC. The ``freepbx`` export starts
with a header line naming the columns; ``cdr_custom`` lines have none.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator

from ..synthkit import DEFAULT_NUMBER_POOL, external_numbers
from .driver import PRESETS

UTC = dt.UTC
SYNTH_OPTIONS = {"preset": "freepbx", "trunk_peers": ["carrier"]}
DID = "0612345678"
_NAMES = ("Anna Rossi", "Marco Bianchi", "Giulia Ferri", "Luca Conti", "Sara Greco", "Paolo Riva")
_AMA = {"freepbx": "3", "cdr_custom": "DOCUMENTATION"}


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def synthesize(
    count: int,
    *,
    seed: int = 0,
    extensions: Iterable[int] = range(1000, 1200),
    start: dt.datetime = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    number_pool: int | None = DEFAULT_NUMBER_POOL,
    preset: str = "freepbx",
) -> Iterator[bytes]:
    """Yield a header line (``freepbx``) and ``count`` CDR lines in ``preset``'s columns."""
    rng = random.Random(seed)
    external = external_numbers(rng, number_pool)
    exts = [str(e) for e in extensions]
    columns = PRESETS[preset]
    if preset == "freepbx":
        yield ",".join(columns).encode()
    base = start.astimezone(UTC).replace(tzinfo=None)
    epoch = int(start.timestamp())
    second = dt.timedelta(seconds=1)
    offset = 0
    seq = rng.randrange(1000)
    for _ in range(count):
        offset += rng.randrange(0, 7)
        seq += 2
        ext = rng.choice(exts)
        name = _NAMES[int(ext) % len(_NAMES)]
        pick = rng.random()
        row = dict.fromkeys(columns, "")
        if pick < 0.45:  # outbound
            number = external()
            row.update(src=ext, dst=number, dcontext="from-internal", clid=f'"{name}" <{ext}>',
                       channel=f"PJSIP/{ext}-{seq:08x}", dstchannel=f"PJSIP/carrier-{seq + 1:08x}",
                       lastdata=f"PJSIP/{number}@carrier,300,Tt", cnum=ext, cnam=name, outbound_cnum=DID)
            if rng.random() < 0.1:
                row["accountcode"] = f"CC{rng.randrange(10, 100)}"
        elif pick < 0.80:  # inbound
            caller = external()
            row.update(src=caller, dst=ext, dcontext="from-did-direct", clid=f'"{caller}" <{caller}>',
                       channel=f"PJSIP/carrier-{seq:08x}", dstchannel=f"PJSIP/{ext}-{seq + 1:08x}",
                       lastdata=f"PJSIP/{ext},20,tr", did=DID, cnum=caller)
        else:  # internal
            other = rng.choice(exts)
            row.update(src=ext, dst=other, dcontext="from-internal", clid=f'"{name}" <{ext}>',
                       channel=f"PJSIP/{ext}-{seq:08x}", dstchannel=f"PJSIP/{other}-{seq + 1:08x}",
                       lastdata=f"PJSIP/{other},20,tr", cnum=ext, cnam=name)
        begin = base + offset * second
        ring = rng.randrange(1, 25)
        if rng.random() < 0.2:
            odds = rng.random()
            if odds < 0.25:
                disposition, ring = "BUSY", rng.randrange(0, 3)
            elif odds < 0.3:
                disposition = "FAILED"
            else:
                disposition = "NO ANSWER"
            answer, billsec = "", 0
        else:
            disposition = "ANSWERED"
            billsec = min(int(rng.expovariate(1 / 140.0)) + 1, 7200)
            answer = (begin + ring * second).isoformat(" ")
        duration = ring + billsec
        uid = f"{epoch + offset}.{seq}"
        row.update(calldate=begin.isoformat(" "), start=begin.isoformat(" "), answer=answer,
                   end=(begin + duration * second).isoformat(" "), duration=str(duration), billsec=str(billsec),
                   disposition=disposition, amaflags=_AMA[preset], uniqueid=uid, linkedid=uid, lastapp="Dial",
                   sequence=str(seq))
        yield ",".join(
            row[c] if c in ("sequence", "duration", "billsec") else _quote(row[c]) for c in columns
        ).encode()
