"""Synthetic Cisco Unified CM CDR lines, for benchmarks and tests.

:func:`synthesize` writes what a CUCM 12.x+ publisher pushes: every
:data:`FILE_ROWS` records a new "file" begins with the header and type lines.
About 45% of the calls are outbound (phone → SIP trunk or gateway), 35%
inbound (trunk → phone, some forwarded to voicemail) and 20% internal; about
20% are not answered (busy, no answer, a few failed).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator

from ..synthkit import DEFAULT_NUMBER_POOL, external_numbers

UTC = dt.UTC

# (name, type) of every column, in the order CUCM writes them. The first
# COLUMNS_10X are the 10.x set; later releases append the device type and
# session id columns.
_COLUMN_SPEC = """
cdrRecordType I|globalCallID_callManagerId I|globalCallID_callId I|origLegCallIdentifier I|
dateTimeOrigination I|origNodeId I|origSpan I|origIpAddr I|callingPartyNumber V50|
callingPartyUnicodeLoginUserID V128|origCause_location I|origCause_value I|origPrecedenceLevel I|
origMediaTransportAddress_IP I|origMediaTransportAddress_Port I|origMediaCap_payloadCapability I|
origMediaCap_maxFramesPerPacket I|origMediaCap_g723BitRate I|origVideoCap_Codec I|
origVideoCap_Bandwidth I|origVideoCap_Resolution I|origVideoTransportAddress_IP I|
origVideoTransportAddress_Port I|origRSVPAudioStat V64|origRSVPVideoStat V64|destLegIdentifier I|
destNodeId I|destSpan I|destIpAddr I|originalCalledPartyNumber V50|finalCalledPartyNumber V50|
finalCalledPartyUnicodeLoginUserID V128|destCause_location I|destCause_value I|destPrecedenceLevel I|
destMediaTransportAddress_IP I|destMediaTransportAddress_Port I|destMediaCap_payloadCapability I|
destMediaCap_maxFramesPerPacket I|destMediaCap_g723BitRate I|destVideoCap_Codec I|
destVideoCap_Bandwidth I|destVideoCap_Resolution I|destVideoTransportAddress_IP I|
destVideoTransportAddress_Port I|destRSVPAudioStat V64|destRSVPVideoStat V64|dateTimeConnect I|
dateTimeDisconnect I|lastRedirectDn V50|pkid U|originalCalledPartyNumberPartition V50|
callingPartyNumberPartition V50|finalCalledPartyNumberPartition V50|lastRedirectDnPartition V50|
duration I|origDeviceName V129|destDeviceName V129|origCallTerminationOnBehalfOf I|
destCallTerminationOnBehalfOf I|origCalledPartyRedirectOnBehalfOf I|lastRedirectRedirectOnBehalfOf I|
origCalledPartyRedirectReason I|lastRedirectRedirectReason I|destConversationId I|
globalCallId_ClusterID V50|joinOnBehalfOf I|comment V2048|authCodeDescription V50|
authorizationLevel I|clientMatterCode V32|origDTMFMethod I|destDTMFMethod I|callSecuredStatus I|
origConversationId I|origMediaCap_Bandwidth I|destMediaCap_Bandwidth I|authorizationCodeValue V32|
outpulsedCallingPartyNumber V50|outpulsedCalledPartyNumber V50|origIpv4v6Addr V64|destIpv4v6Addr V64|
origVideoCap_Codec_Channel2 I|origVideoCap_Bandwidth_Channel2 I|origVideoCap_Resolution_Channel2 I|
origVideoTransportAddress_IP_Channel2 I|origVideoTransportAddress_Port_Channel2 I|
origVideoChannel_Role_Channel2 I|destVideoCap_Codec_Channel2 I|destVideoCap_Bandwidth_Channel2 I|
destVideoCap_Resolution_Channel2 I|destVideoTransportAddress_IP_Channel2 I|
destVideoTransportAddress_Port_Channel2 I|destVideoChannel_Role_Channel2 I|IncomingProtocolID I|
IncomingProtocolCallRef V32|OutgoingProtocolID I|OutgoingProtocolCallRef V32|currentRoutingReason I|
origRoutingReason I|lastRedirectingRoutingReason I|huntPilotPartition V50|huntPilotDN V50|
calledPartyPatternUsage I|IncomingICID V50|IncomingOrigIOI V50|IncomingTermIOI V50|OutgoingICID V50|
OutgoingOrigIOI V50|OutgoingTermIOI V50|outpulsedOriginalCalledPartyNumber V50|
outpulsedLastRedirectingNumber V50|wasCallQueued I|totalWaitTimeInQueue I|callingPartyNumber_uri V254|
originalCalledPartyNumber_uri V254|finalCalledPartyNumber_uri V254|lastRedirectDn_uri V254|
mobileCallingPartyNumber V50|finalMobileCalledPartyNumber V50|origMobileDeviceName V129|
destMobileDeviceName V129|origMobileCallDuration I|destMobileCallDuration I|mobileCallType I|
originalCalledPartyPattern V50|finalCalledPartyPattern V50|lastRedirectingPartyPattern V50|
huntPilotPattern V50|origDeviceType V100|destDeviceType V100|origDeviceSessionID V128|
destDeviceSessionID V128
"""


def _column_spec() -> list[tuple[str, str]]:
    spec = []
    for item in _COLUMN_SPEC.replace("\n", "").split("|"):
        name, kind = item.split()
        if kind == "I":
            sql = "INTEGER"
        elif kind == "U":
            sql = "UNIQUEIDENTIFIER"
        else:
            sql = f"VARCHAR({kind[1:]})"
        spec.append((name, sql))
    return spec


COLUMN_TYPES = _column_spec()
COLUMNS = [name for name, _ in COLUMN_TYPES]
COLUMNS_10X = COLUMNS[: COLUMNS.index("huntPilotPattern") + 1]
FILE_ROWS = 5000  # records per simulated pushed file


def header_lines(columns: list[str] | None = None) -> tuple[str, str]:
    """The two lines that start every CDR file: quoted names, then types."""
    columns = columns or COLUMNS
    types = dict(COLUMN_TYPES)
    return (
        ",".join(f'"{name}"' for name in columns),
        ",".join(types.get(name, "VARCHAR(50)") for name in columns),
    )


def _template() -> list[str]:
    row = ['""' if sql.startswith("VARCHAR") else "0" for _, sql in COLUMN_TYPES]
    fixed = {
        "cdrRecordType": "1", "origNodeId": "1", "destNodeId": "1",
        "origPrecedenceLevel": "4", "destPrecedenceLevel": "4",
        "origMediaCap_payloadCapability": "4", "destMediaCap_payloadCapability": "4",
        "origMediaCap_maxFramesPerPacket": "20", "destMediaCap_maxFramesPerPacket": "20",
        "origRSVPAudioStat": '"0"', "origRSVPVideoStat": '"0"',
        "destRSVPAudioStat": '"0"', "destRSVPVideoStat": '"0"',
        "globalCallId_ClusterID": '"StandAloneCluster"',
        "origDTMFMethod": "3", "destDTMFMethod": "3",
        "origMediaCap_Bandwidth": "64", "destMediaCap_Bandwidth": "64",
        "origDeviceType": '"Cisco 8865"', "destDeviceType": '"Cisco 8865"',
    }
    for name, value in fixed.items():
        row[COLUMNS.index(name)] = value
    return row


_GATEWAYS = ("CUBE-PSTN-01", "CUBE-PSTN-02", "HQ-VG450-GW", "SIP_Trunk_Telco")
_CAUSE_TERM = {0: "0", 16: "12", 17: "12", 19: "12"}  # cause → destCallTerminationOnBehalfOf


def _phone_of(ext: int) -> str:
    if ext % 9 == 0:
        return f"CSFU{ext}"
    return f"SEP{(ext * 2654435761) & 0xFFFFFFFFFFFF:012X}"


def _ip(rng: random.Random) -> tuple[str, str]:
    c, d = rng.randrange(1, 30), rng.randrange(2, 250)
    signed = (10 | (20 << 8) | (c << 16) | (d << 24))
    if signed >= 1 << 31:
        signed -= 1 << 32
    return str(signed), f'"10.20.{c}.{d}"'




def synthesize(
    count: int,
    *,
    seed: int = 0,
    extensions: Iterable[int] = range(1000, 1200),
    start: dt.datetime = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    number_pool: int | None = DEFAULT_NUMBER_POOL,
) -> Iterator[bytes]:
    """Yield ``count`` CDR rows (plus header and type lines) as raw bytes."""
    rng = random.Random(seed)
    external = external_numbers(rng, number_pool)
    exts = [int(e) for e in extensions]
    phones = {e: _phone_of(e) for e in exts}
    template = _template()
    col = {name: i for i, name in enumerate(COLUMNS)}
    header, types = header_lines()
    header_b, types_b = header.encode(), types.encode()
    (i_cm, i_call, i_oleg, i_orig, i_oip, i_calling, i_ocause, i_dleg, i_dip, i_ocalled, i_fcalled,
     i_dcause, i_connect, i_disc, i_redir, i_pkid, i_opart, i_cpart, i_fpart, i_duration, i_odev,
     i_ddev, i_oterm, i_dterm, i_cmc, i_outp, i_oip4, i_dip4, i_inproto, i_outproto, i_usage,
     i_redirreason) = (
        col[n] for n in (
            "globalCallID_callManagerId", "globalCallID_callId", "origLegCallIdentifier",
            "dateTimeOrigination", "origIpAddr", "callingPartyNumber", "origCause_value",
            "destLegIdentifier", "destIpAddr", "originalCalledPartyNumber", "finalCalledPartyNumber",
            "destCause_value", "dateTimeConnect", "dateTimeDisconnect", "lastRedirectDn", "pkid",
            "originalCalledPartyNumberPartition", "callingPartyNumberPartition",
            "finalCalledPartyNumberPartition", "duration", "origDeviceName", "destDeviceName",
            "origCallTerminationOnBehalfOf", "destCallTerminationOnBehalfOf", "clientMatterCode",
            "outpulsedCalledPartyNumber", "origIpv4v6Addr", "destIpv4v6Addr", "IncomingProtocolID",
            "OutgoingProtocolID", "calledPartyPatternUsage", "lastRedirectRedirectReason",
        )
    )
    gw_ip = ("-1139627840", '"192.168.18.188"')
    now = int(start.timestamp())
    call_id = 1_000_000 + rng.randrange(1000)
    leg = 20_000_000 + rng.randrange(1000) * 4
    for n in range(count):
        if n % FILE_ROWS == 0:
            yield header_b
            yield types_b
        now += rng.randrange(0, 7)
        call_id += 1
        leg += 2
        row = template[:]
        row[i_cm] = str(1 + call_id % 3)
        row[i_call] = str(call_id)
        row[i_oleg] = str(leg)
        row[i_dleg] = str(leg + 1)
        row[i_orig] = str(now)
        row[i_pkid] = (
            f'"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-{0x4000 | rng.getrandbits(12):04x}-'
            f'{0x8000 | rng.getrandbits(14):04x}-{rng.getrandbits(48):012x}"'
        )
        ext = rng.choice(exts)
        pick = rng.random()
        if pick < 0.45:  # outbound
            number = external()
            row[i_calling] = f'"{ext}"'
            row[i_ocalled] = row[i_fcalled] = f'"{number}"'
            row[i_odev] = f'"{phones[ext]}"'
            row[i_ddev] = f'"{rng.choice(_GATEWAYS)}"'
            row[i_cpart] = row[i_opart] = row[i_fpart] = '"PT_Internal"'
            row[i_oip], row[i_oip4] = _ip(rng)
            row[i_dip], row[i_dip4] = gw_ip
            row[i_outproto] = "1"
            row[i_usage] = "5"
            if rng.random() < 0.1:
                row[i_cmc] = f'"{rng.randrange(100, 1000)}"'
            if number.startswith("0039") and rng.random() < 0.5:
                row[i_outp] = f'"+39{number[4:]}"'  # a called party transformation to E.164
            talk_mean = 150.0
        elif pick < 0.80:  # inbound
            row[i_calling] = f'"{external()}"'
            row[i_ocalled] = row[i_fcalled] = f'"{ext}"'
            row[i_opart] = row[i_fpart] = '"PT_Internal"'
            row[i_odev] = f'"{rng.choice(_GATEWAYS)}"'
            row[i_ddev] = f'"{phones[ext]}"'
            row[i_oip], row[i_oip4] = gw_ip
            row[i_dip], row[i_dip4] = _ip(rng)
            row[i_inproto] = "1"
            row[i_usage] = "2"
            talk_mean = 180.0
        else:  # internal
            other = rng.choice(exts)
            row[i_calling] = f'"{ext}"'
            row[i_ocalled] = row[i_fcalled] = f'"{other}"'
            row[i_cpart] = row[i_opart] = row[i_fpart] = '"PT_Internal"'
            row[i_odev] = f'"{phones[ext]}"'
            row[i_ddev] = f'"{phones[other]}"'
            row[i_oip], row[i_oip4] = _ip(rng)
            row[i_dip], row[i_dip4] = _ip(rng)
            row[i_usage] = "2"
            talk_mean = 90.0
        ring = rng.randrange(2, 25)
        if rng.random() < 0.2:  # not answered
            odds = rng.random()
            if odds < 0.25:
                dest_cause, ring = 17, rng.randrange(0, 3)
            elif odds < 0.35:
                dest_cause = rng.choice((1, 21, 27, 34, 38))
            else:
                dest_cause = 0
                if 0.45 <= pick < 0.80 and odds > 0.8:
                    # forwarded to voicemail, which took it
                    row[i_fcalled] = '"8000"'
                    row[i_redir] = row[i_ocalled]
                    row[i_ddev] = f'"CiscoUM1-VI{rng.randrange(1, 9)}"'
                    row[i_redirreason] = "2"
                    talk = rng.randrange(5, 60)
                    row[i_connect] = str(now + ring + 1)
                    row[i_disc] = str(now + ring + 1 + talk)
                    row[i_duration] = str(talk)
                    row[i_dcause] = "16"
                    row[i_ocause] = "0"
                    row[i_oterm] = "12"
                    yield ",".join(row).encode()
                    continue
            row[i_dcause] = str(dest_cause)
            row[i_ocause] = "16" if dest_cause == 0 else "0"
            row[i_oterm] = "12" if dest_cause == 0 else "0"
            row[i_dterm] = "0" if dest_cause == 0 else "12"
            row[i_disc] = str(now + ring)
        else:
            talk = min(int(rng.expovariate(1.0 / talk_mean)) + 1, 7200)
            row[i_connect] = str(now + ring)
            row[i_disc] = str(now + ring + talk)
            row[i_duration] = str(talk)
            row[i_ocause] = "16" if rng.random() < 0.5 else "0"
            row[i_dcause] = "0" if row[i_ocause] == "16" else "16"
            row[i_oterm] = "12"
            row[i_dterm] = "12"
        yield ",".join(row).encode()
