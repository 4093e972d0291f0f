"""Synthetic Teams PSTN usage report rows (CSV with a header), for benchmarks and tests.

Users ``u<ext>@contoso.example`` with numbers ``+3902555<ext>``; outside
numbers come from :func:`calltally.drivers.synthkit.external_numbers` turned
into E.164 (Teams writes no access code). About 45% outbound (a few
transferred or forwarded), 35% inbound (a few to auto attendants), 20%
conference dial-outs/ins; about 20% have no talk time. Times are UTC.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterable, Iterator

from ..synthkit import DEFAULT_NUMBER_POOL, external_numbers

UTC = dt.UTC
# PSTN records are never internal: the conference fifth is split between dial-outs and dial-ins.
DIRECTION_MIX = {"outbound": 0.45 + 0.2 * 2 / 3, "inbound": 0.35 + 0.2 / 3, "internal": 0.0}
HEADER = ("id,callId,userId,userPrincipalName,userDisplayName,startDateTime,endDateTime,duration,charge,"
          "callType,currency,calleeNumber,usageType,callerNumber,destinationContext,destinationName,"
          "conferenceId,licenseCapability,inventoryType,operator,callDurationSource")


def e164(number: str) -> str:
    """``0039…`` → ``+39…``; ``0…`` (national, Italy) → ``+39…``."""
    if number.startswith("00"):
        return "+" + number[2:]
    return "+39" + number.lstrip("0")


def synthesize(
    count: int,
    *,
    seed: int = 0,
    extensions: Iterable[int] = range(1000, 1200),
    start: dt.datetime = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    number_pool: int | None = DEFAULT_NUMBER_POOL,
) -> Iterator[bytes]:
    """Yield the header line, then ``count`` call rows."""
    rng = random.Random(seed)
    external = external_numbers(rng, number_pool)
    exts = [int(e) for e in extensions]
    base = start.astimezone(UTC).replace(tzinfo=None)
    second = dt.timedelta(seconds=1)
    offset = 0
    yield HEADER.encode()
    for _ in range(count):
        offset += rng.randrange(0, 7)
        ext = rng.choice(exts)
        user = f"u{ext}@contoso.example"
        own = f"+3902555{ext}"
        pick = rng.random()
        if pick < 0.45:
            call_type = rng.choices(("user_out", "user_out_transfer", "user_out_forwarding"), (90, 5, 5))[0]
            caller, callee = own, e164(external())
        elif pick < 0.80:
            call_type = "ucap_in" if rng.random() < 0.1 else "user_in"
            caller, callee = e164(external()), own
        else:
            call_type = rng.choice(("conf_out", "conf_in", "user_out_conf"))
            if call_type == "conf_in":
                caller, callee = e164(external()), "+390255599999"
            else:
                caller, callee = "+390255599999", e164(external())
        talk = 0 if rng.random() < 0.2 else min(int(rng.expovariate(1 / 140.0)) + 1, 7200)
        begin = base + offset * second
        end = begin + talk * second
        row_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        call_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        user_id = uuid.UUID(int=ext, version=4)
        context = "International" if not callee.startswith("+39") else "Domestic"
        yield (
            f"{row_id},{call_id},{user_id},{user},User {ext},{begin.isoformat()}Z,{end.isoformat()}Z,{talk},"
            f"0.0000,{call_type},EUR,{callee},CallingPlan,{caller},{context},Italy,,MCOPSTN1,Subscriber,"
            "Microsoft,microsoft"
        ).encode()
