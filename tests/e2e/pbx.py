"""What the PBX of the journey sends, and how: an Avaya IP Office's SMDR lines, pushed by FTP.

The records are the driver's own test capture (calltally/drivers/tests/fixtures/avaya_ipo_smdr.txt),
moved to a recent day so that they land in "today" and "this month" where possible: 13 records of
extensions 4001-4004. With only 4001 in the directory they make 4 calls and 9 calls discarded for
the undefined extensions 4002, 4003 and 4004.
"""

from __future__ import annotations

import datetime as dt
import ftplib
import io
import time
from pathlib import Path
from zoneinfo import ZoneInfo

FIXTURE = Path(__file__).resolve().parents[2] / "calltally" / "drivers" / "tests" / "fixtures" / "avaya_ipo_smdr.txt"
FIXTURE_DAY = "2026/03/02"
ZONE = ZoneInfo("Europe/Warsaw")
UNDEFINED = ("4002", "4003", "4004")
CALLS_OF_4001 = 4
DISCARDED = 9


def call_day(now: dt.datetime | None = None) -> dt.date:
    """Today in Warsaw once the capture's last record (09:55) is past, else yesterday: never the future."""
    local = (now or dt.datetime.now(dt.UTC)).astimezone(ZONE)
    return local.date() if local.time() >= dt.time(10, 5) else local.date() - dt.timedelta(days=1)


def records(day: dt.date) -> bytes:
    return FIXTURE.read_bytes().replace(FIXTURE_DAY.encode(), day.strftime("%Y/%m/%d").encode())


def push(port: int, username: str, password: str, name: str, data: bytes, wait: float = 30) -> str:
    """Upload one file as a PBX's billing push does; the server's reply to the STOR (226 once spooled).

    The Recorder starts a new connection's server within seconds of its creation: until then the
    PBX's connection is refused, and it tries again, as a PBX does.
    """
    deadline = time.monotonic() + wait
    with ftplib.FTP() as ftp:
        while True:
            try:
                ftp.connect("127.0.0.1", port, timeout=30)
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        ftp.login(username, password)
        reply = ftp.storbinary(f"STOR {name}", io.BytesIO(data))
        ftp.quit()
    return reply


def plan_file(name: str) -> str:
    """The tariff plan the tests load, as TOML: Poland cheap with a connection fee, the rest of the world dear."""
    return f"""\
name = "{name}"
carrier = "Polish carrier"
currency = "PLN"
valid_from = "2026-01-01"
directions = ["outbound"]
default_band = "all"

[[rates]]
prefix = "*"
destination = "Rest of the world"
rate_per_minute = "1.2000"
first_increment = 60
next_increment = 60

[[rates]]
prefix = "48"
destination = "Poland"
category = "national"
rate_per_minute = "0.1500"
connection_fee = "0.0500"
"""
