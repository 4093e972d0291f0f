"""Synthetic Grandstream UCM CDR CSV (header line with the leading AcctId +
rows), for benchmarks and tests.

Extensions on PJSIP, one SIP trunk ``Carrier``; about 45% outbound (access
code 0 + the number, some with an account code), 35% inbound, 20% internal,
about 20% unanswered; a few inbound calls are transferred. Times are the
wall-clock time of ``start``'s UTC (read back unchanged with time zone UTC).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator

from ..synthkit import DEFAULT_NUMBER_POOL, external_numbers

UTC = dt.UTC
COLUMNS = (
    "AcctId,accountcode,src,dst,dcontext,clid,channel,dstchannel,lastapp,lastdata,start,answer,end,duration,"
    "billsec,disposition,amaflags,uniqueid,userfield,channel_ext,dstchannel_ext,service,caller_name,recordfiles,"
    "dstanswer,chanext,dstchanext,session,action_owner,action_type,src_trunk_name,dst_trunk_name"
)


def synthesize(
    count: int,
    *,
    seed: int = 0,
    extensions: Iterable[int] = range(1000, 1200),
    start: dt.datetime = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    number_pool: int | None = DEFAULT_NUMBER_POOL,
) -> Iterator[bytes]:
    """Yield the header line, then ``count`` CDR rows."""
    rng = random.Random(seed)
    external = external_numbers(rng, number_pool)
    exts = [int(e) for e in extensions]
    base = start.astimezone(UTC).replace(tzinfo=None)
    epoch = int(start.timestamp())
    second = dt.timedelta(seconds=1)
    offset = 0
    seq = 0
    yield COLUMNS.encode()
    for _ in range(count):
        offset += rng.randrange(0, 7)
        seq += 2
        ext = rng.choice(exts)
        pick = rng.random()
        account = src_trunk = dst_trunk = owner = action = ""
        if pick < 0.45:
            number = external()
            src, dst, context = str(ext), number, "from-internal"
            channel, dstchannel = f"PJSIP/{ext}-{seq:08x}", f"PJSIP/trunk_1-{seq + 1:08x}"
            chanext, dstchanext, dst_trunk = str(ext), "", "Carrier"
            if rng.random() < 0.1:
                account = f"{rng.randrange(100, 1000)}"
        elif pick < 0.80:
            src, dst, context = external().lstrip("0"), str(ext), "from-trunk-sip-Carrier"
            channel, dstchannel = f"PJSIP/trunk_1-{seq:08x}", f"PJSIP/{ext}-{seq + 1:08x}"
            chanext, dstchanext, src_trunk = "", str(ext), "Carrier"
            if rng.random() < 0.05:
                owner, action = str(ext), "TRANSFER"
        else:
            other = rng.choice(exts)
            src, dst, context = str(ext), str(other), "from-internal"
            channel, dstchannel = f"PJSIP/{ext}-{seq:08x}", f"PJSIP/{other}-{seq + 1:08x}"
            chanext, dstchanext = str(ext), str(other)
        ring = rng.randrange(1, 25)
        begin = base + offset * second
        if rng.random() < 0.2:
            disposition = rng.choice(("NO ANSWER", "NO ANSWER", "BUSY", "FAILED"))
            billsec, answer, dstanswer = 0, "", ""
        else:
            disposition = "ANSWERED"
            billsec = min(int(rng.expovariate(1 / 140.0)) + 1, 7200)
            answer = f"{begin + ring * second:%Y-%m-%d %H:%M:%S}"
            dstanswer = dst if pick >= 0.45 else ""
        duration = ring + billsec
        uid = f"{epoch + offset}.{seq}"
        yield (
            f'{seq // 2},{account},{src},{dst},{context},"""{src}"" <{src}>",{channel},{dstchannel},Dial,'
            f"{dstchannel.rsplit('-', 1)[0]},{begin:%Y-%m-%d %H:%M:%S},{answer},"
            f"{begin + duration * second:%Y-%m-%d %H:%M:%S},{duration},{billsec},{disposition},DOCUMENTATION,"
            f"{uid},,{chanext},{dstchanext},s,,,{dstanswer},{chanext},{dstchanext},{uid},{owner},{action},"
            f"{src_trunk},{dst_trunk}"
        ).encode()
