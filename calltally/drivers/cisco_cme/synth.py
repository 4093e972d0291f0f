"""Synthetic Cisco IOS/CME ``VOIP_CALL_HISTORY`` syslog lines, for benchmarks and tests.

Every call gives two lines (``count`` leg lines in all): its answer leg
(CallOrigin 2, PeerAddress = calling number) and its originate leg
(CallOrigin 1, PeerAddress = called number), sharing a ConnectionId. Phones
and the PSTN line are telephony legs, a SIP trunk a voip leg. About 45%
outbound (access code 0 + the number), 35% inbound, 20% internal; about 20%
unanswered. Times are UTC; some carry the ``*`` or ``.`` of an unsynchronised
clock. A few unrelated syslog messages are mixed in (they are skipped, and
not counted in ``count``).

Each leg alone carries no direction, so the driver gives no direction hint:
:data:`DIRECTION_MIX` tells test suites what mix of hints to expect.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator

from ..synthkit import DEFAULT_NUMBER_POOL, external_numbers

UTC = dt.UTC
DIRECTION_MIX = {None: 1.0}


def cisco_time(value: dt.datetime, mark: str = "") -> str:
    return f"{mark}{value:%H:%M:%S}.{value.microsecond // 1000:03d} UTC {value:%a %b} {value.day} {value.year}"


def leg_line(host_time: dt.datetime, seq: int, leg_type: int, cid: str, setup: str, peer: str, cause: str,
             text: str, connect: str, disconnect: str, origin: int) -> str:
    return (
        f"{host_time:%b %d %H:%M:%S} 10.0.0.1 {seq}: {host_time:%b %d %H:%M:%S}.000 UTC: "
        f"%VOIPAAA-5-VOIP_CALL_HISTORY: CallLegType {leg_type}, ConnectionId {cid}, SetupTime {setup}, "
        f"PeerAddress {peer}, PeerSubAddress , DisconnectCause {cause}  , DisconnectText {text}, "
        f"ConnectTime {connect}, DisconnectTime {disconnect}, CallOrigin {origin}, ChargedUnits 0, InfoType 2, "
        "TransmitPackets 1502, TransmitBytes 240320, ReceivePackets 1498, ReceiveBytes 239680"
    )


def synthesize(
    count: int,
    *,
    seed: int = 0,
    extensions: Iterable[int] = range(1000, 1200),
    start: dt.datetime = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    number_pool: int | None = DEFAULT_NUMBER_POOL,
) -> Iterator[bytes]:
    """Yield ``count`` syslog lines (two legs per call, a stray message now and then)."""
    rng = random.Random(seed)
    external = external_numbers(rng, number_pool)
    exts = [int(e) for e in extensions]
    base = start.astimezone(UTC).replace(tzinfo=None)
    offset = 0.0
    made = 0
    seq = 0
    while made < count:
        seq += 1
        if rng.random() < 0.01:
            yield f"{base:%b %d %H:%M:%S} 10.0.0.1 {seq}: %SYS-5-CONFIG_I: Configured from console by admin".encode()
            continue
        offset += rng.uniform(0, 7)
        ext = rng.choice(exts)
        pick = rng.random()
        if pick < 0.45:
            calling, called, in_type, out_type = str(ext), external(), 1, 2
        elif pick < 0.80:
            calling, called, in_type, out_type = external().lstrip("0"), str(ext), 1, 1
        else:
            calling, called, in_type, out_type = str(ext), str(rng.choice(exts)), 1, 1
        setup = base + dt.timedelta(seconds=offset)
        ring = rng.randrange(1, 25)
        if rng.random() < 0.2:
            cause, text = rng.choice((("10", "normal call clearing (16)"), ("11", "user busy (17)"),
                                      ("13", "no answer (19)")))
            connect_time, end = "", setup + dt.timedelta(seconds=ring)
        else:
            cause, text = "10", "normal call clearing (16)"
            connect = setup + dt.timedelta(seconds=ring)
            end = connect + dt.timedelta(seconds=min(int(rng.expovariate(1 / 140.0)) + 1, 7200))
            connect_time = None
        mark = rng.choice(("*", "", "", ".")) if rng.random() < 0.3 else ""
        cid = " ".join(f"{rng.getrandbits(32):08X}" for _ in range(4))
        s, d = cisco_time(setup, mark), cisco_time(end, mark)
        c = cisco_time(connect, mark) if connect_time is None else ""
        for origin, leg_type, peer in ((2, in_type, calling), (1, out_type, called)):
            if made < count:
                made += 1
                yield leg_line(end, seq, leg_type, cid, s, peer, cause, text, c, d, origin).encode()
