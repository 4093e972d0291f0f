"""Synthetic Yeastar CDR CSV (header line + rows), for benchmarks and tests.

``generation`` 1 writes the S-Series / API v1 names (``callid, timestart,
callfrom, callto, callduraction, talkduraction, srctrunkname, desttrunkname,
status, type, pincode, didnumber…``), 2 the P-Series / API v2 names
(``call_id, time_start…``). One SIP trunk ``SIP-Carrier``; outbound calls
dial the access code 0 + the number; about 45% outbound (some with a PIN),
35% inbound to a DID, 20% internal, about 20% unanswered. Times are the
wall-clock time of ``start``'s UTC (read back unchanged with time zone UTC).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator

from ..synthkit import DEFAULT_NUMBER_POOL, external_numbers

UTC = dt.UTC
HEADERS = {
    1: ("callid,timestart,callfrom,callto,callduraction,talkduraction,srctrunkname,desttrunkname,status,type,"
        "recording,didnumber,agentringtime,sn,pincode"),
    2: ("call_id,time_start,call_from,call_to,call_duration,talk_duration,src_trunk_name,dst_trunk_name,"
        "status,type,recording,did_number,agent_ring_time,sn,pin_code"),
}


def synthesize(
    count: int,
    *,
    seed: int = 0,
    extensions: Iterable[int] = range(1000, 1200),
    start: dt.datetime = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    number_pool: int | None = DEFAULT_NUMBER_POOL,
    generation: int = 1,
) -> Iterator[bytes]:
    """Yield the header line, then ``count`` CDR rows."""
    rng = random.Random(seed)
    external = external_numbers(rng, number_pool)
    exts = [int(e) for e in extensions]
    base = start.astimezone(UTC).replace(tzinfo=None)
    epoch = int(start.timestamp())
    second = dt.timedelta(seconds=1)
    offset = 0
    yield HEADERS[generation].encode()
    for seq in range(1, count + 1):
        offset += rng.randrange(0, 7)
        ext = rng.choice(exts)
        pick = rng.random()
        src_trunk = dst_trunk = did = pin = ""
        if pick < 0.45:
            kind, src, dst, dst_trunk = "Outbound", str(ext), external(), "SIP-Carrier"
            if rng.random() < 0.1:
                pin = str(rng.randrange(1000, 10000))
        elif pick < 0.80:
            kind, src, dst, src_trunk = "Inbound", external().lstrip("0"), str(ext), "SIP-Carrier"
            did = f"02555{ext}"
        else:
            kind, src, dst = "Internal", str(ext), str(rng.choice(exts))
        ring = rng.randrange(1, 25)
        if rng.random() < 0.2:
            status = rng.choice(("NO ANSWER", "NO ANSWER", "BUSY", "FAILED"))
            talk = 0
        else:
            status = "ANSWERED"
            talk = min(int(rng.expovariate(1 / 140.0)) + 1, 7200)
        begin = base + offset * second
        recording = f"{begin:%Y%m%d%H%M%S}-{src}-{dst}.wav" if talk and rng.random() < 0.3 else ""
        yield (
            f"{epoch + offset}.{seq},{begin:%Y-%m-%d %H:%M:%S},{src},{dst},{ring + talk},{talk},{src_trunk},"
            f"{dst_trunk},{status},{kind},{recording},{did},{ring},3631A1234567,{pin}"
        ).encode()
