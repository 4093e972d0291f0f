"""Synthetic 3CX CDR lines (the default 27-field order), for benchmarks and tests.

A small 3CX: extensions, one SIP trunk whose DN is ``10000``, a queue ``800``
that some inbound calls go through. About 45% outbound, 35% inbound, 20%
internal; about 20% not answered; some inbound calls are transferred. Times
are written as the wall-clock time of ``start``'s UTC, so they read back
unchanged with the site time zone UTC (or ``utc_times``). ``version=16``
writes v16 lines (``Internal``/``External`` types, ``Chain: a,b,`` with bare
commas); the default writes v18+ lines. There is no header line.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator

from ..synthkit import DEFAULT_NUMBER_POOL, external_numbers

UTC = dt.UTC
TRUNK_DN = "10000"
_NAMES = ("Anna Rossi", "Marco Bianchi", "Giulia Ferri", "Luca Conti", "Sara Greco", "Paolo Riva")


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _stamp(value: dt.datetime) -> str:
    return value.strftime("%Y/%m/%d %H:%M:%S")


def synthesize(
    count: int,
    *,
    seed: int = 0,
    extensions: Iterable[int] = range(1000, 1200),
    start: dt.datetime = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    number_pool: int | None = DEFAULT_NUMBER_POOL,
    version: int = 18,
) -> Iterator[bytes]:
    """Yield ``count`` 3CX CDR lines in the default field order."""
    rng = random.Random(seed)
    external = external_numbers(rng, number_pool)
    exts = [str(e) for e in extensions]
    v16 = version < 18
    ext_type, line_type = ("Internal", "External") if v16 else ("Extension", "Line")
    sep = "," if v16 else ";"
    base = start.astimezone(UTC).replace(tzinfo=None)
    second = dt.timedelta(seconds=1)
    offset = 0
    history = rng.randrange(100_000, 200_000)
    for _ in range(count):
        offset += rng.randrange(0, 7)
        history += 1
        ext = rng.choice(exts)
        name = _NAMES[int(ext) % len(_NAMES)]
        pick = rng.random()
        bill_code = ""
        reason_changed = ""
        if pick < 0.45:  # outbound
            number = external()
            from_no, to_no, from_dn, to_dn, dial_no = f"Ext.{ext}", number, ext, TRUNK_DN, number
            final_number, final_dn = number, TRUNK_DN
            from_type, to_type, final_type = ext_type, line_type, line_type
            dispnames = (name, number, number)
            parties = [f"Ext.{ext}", number]
            if rng.random() < 0.1:
                bill_code = f"**{rng.randrange(10, 100)}"
        elif pick < 0.80:  # inbound
            caller = external()
            did = "0612345678"
            from_no, to_no, from_dn, to_dn, dial_no = caller, f"Ext.{ext}", TRUNK_DN, ext, did
            final_number, final_dn = f"Ext.{ext}", ext
            from_type, to_type, final_type = line_type, ext_type, ext_type
            dispnames = (caller, name, name)
            parties = [caller, f"Ext.{ext}"]
            if rng.random() < 0.15:
                other = rng.choice(exts)
                final_number, final_dn = f"Ext.{other}", other
                reason_changed = "ReplacedDst"
                parties.append(f"Ext.{other}")
        else:  # internal
            other = rng.choice(exts)
            from_no, to_no, from_dn, to_dn, dial_no = f"Ext.{ext}", f"Ext.{other}", ext, other, other
            final_number, final_dn = f"Ext.{other}", other
            from_type, to_type, final_type = ext_type, ext_type, ext_type
            dispnames = (name, _NAMES[int(other) % len(_NAMES)], _NAMES[int(other) % len(_NAMES)])
            parties = [f"Ext.{ext}", f"Ext.{other}"]
        begin = base + offset * second
        ring = rng.randrange(1, 25)
        if rng.random() < 0.2:
            answered_text, talk = "", 0
            odds = rng.random()
            reason = "RouteBusy" if odds < 0.25 else "Failed_Cancelled" if odds < 0.3 else "TerminatedBySrc"
            end = begin + ring * second
        else:
            talk = min(int(rng.expovariate(1 / 140.0)) + 1, 7200)
            answered_text = _stamp(begin + ring * second)
            end = begin + (ring + talk) * second
            reason = "TerminatedBySrc" if rng.random() < 0.5 else "TerminatedByDst"
        chain = "Chain: " + sep.join(parties) + sep
        fields = [
            f"Call {history}", f"{rng.getrandbits(64):016x}_{history}", _hms(talk), _stamp(begin), answered_text,
            _stamp(end), reason, from_no, to_no, from_dn, to_dn, dial_no, reason_changed, final_number, final_dn,
            bill_code, "", "", "", chain, from_type, to_type, final_type, *dispnames, "",
        ]
        yield ",".join(fields).encode()
