"""Helpers shared by the collectors: option parsing, framing, back-off."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
from typing import Any

from .base import ConfigError

FRAMINGS = ("auto", "lf", "crlf", "cr", "stx-etx")
DEFAULT_MAX_RECORD = 64 * 1024
MAX_BACKOFF = 60.0
FRAMING_HELP = ("record framing: auto (LF, CRLF or CR ends a record; default), lf, crlf, cr, "
                "stx-etx (records between STX 0x02 and ETX 0x03)")
MAX_RECORD_HELP = "longest record in bytes (default 65536); a longer one is cut there (and will be discarded)"


def int_option(parameters: dict[str, Any], name: str, default: int | None = None, low: int | None = None,
               high: int | None = None, required: bool = False) -> int | None:
    value = parameters.get(name, default)
    if value is None or value == "":
        if required:
            raise ConfigError(f"option {name} is required (add --option {name}=VALUE).")
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"option {name}={value!r} must be a whole number.") from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise ConfigError(f"option {name}={number} must be between {low} and {high}.")
    return number


def float_option(parameters: dict[str, Any], name: str, default: float, low: float = 0.0) -> float:
    value = parameters.get(name, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"option {name}={value!r} must be a number of seconds.") from None
    if number < low:
        raise ConfigError(f"option {name}={number} must be at least {low}.")
    return number


def str_option(parameters: dict[str, Any], name: str, default: str | None = None, choices=None,
               required: bool = False) -> str | None:
    value = parameters.get(name, default)
    if value is None or value == "":
        if required:
            raise ConfigError(f"option {name} is required (add --option {name}=VALUE).")
        return default
    value = str(value)
    if choices is not None and value not in choices:
        raise ConfigError(f"option {name}={value!r} must be one of {', '.join(choices)}.")
    return value


def framing_options(parameters: dict[str, Any]) -> tuple[str, int]:
    framing = str_option(parameters, "framing", "auto", FRAMINGS)
    max_record = int_option(parameters, "max_record", DEFAULT_MAX_RECORD, 16, 16 * 1024 * 1024)
    return framing, max_record


def check_unknown(parameters: dict[str, Any], options: dict[str, str], extra: tuple[str, ...] = ()) -> None:
    unknown = sorted(set(parameters) - set(options) - set(extra))
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)}; this kind takes {', '.join(options)}.")


def parse_allow(text: str | None) -> list:
    networks = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ConfigError(f"allow entry {part!r} is not an address or CIDR such as 10.0.0.5 or 10.0.0.0/24.") \
                from None
    return networks


def address_allowed(address: str, networks: list) -> bool:
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)


class Framer:
    """Cuts a byte stream into records. Complete records come out of :meth:`feed`;
    the unterminated tail stays in memory, never longer than ``max_record``."""

    def __init__(self, framing: str = "auto", max_record: int = DEFAULT_MAX_RECORD):
        if framing not in FRAMINGS:
            raise ConfigError(f"framing {framing!r} must be one of {', '.join(FRAMINGS)}.")
        self.framing = framing
        self.max_record = max_record
        self.buffer = b""
        self.in_record = False  # stx-etx: between an STX and its ETX
        self.cut = 0  # records cut at max_record so far

    def feed(self, data: bytes) -> list[bytes]:
        if self.framing == "stx-etx":
            return self._feed_stx(data)
        buffer = self.buffer + data
        if self.framing == "auto":
            parts = re.split(rb"\r\n|\r|\n", buffer)
        else:
            parts = buffer.split({"lf": b"\n", "crlf": b"\r\n", "cr": b"\r"}[self.framing])
        tail = parts.pop()
        records = [part for part in parts if part]
        # auto: a CR that is half of a CRLF ends the record; the LF then ends an empty one, dropped.
        records.extend(self._cut_long(tail))
        return self._split_long(records)

    def _cut_long(self, tail: bytes) -> list[bytes]:
        out = []
        while len(tail) > self.max_record:
            out.append(tail[: self.max_record])
            tail = tail[self.max_record:]
            self.cut += 1
        self.buffer = tail
        return out

    def _split_long(self, records: list[bytes]) -> list[bytes]:
        if all(len(record) <= self.max_record for record in records):
            return records
        out = []
        for record in records:
            while len(record) > self.max_record:
                out.append(record[: self.max_record])
                record = record[self.max_record:]
                self.cut += 1
            if record:
                out.append(record)
        return out

    def _feed_stx(self, data: bytes) -> list[bytes]:
        records = []
        position = 0
        buffer = self.buffer
        while position < len(data):
            if not self.in_record:
                start = data.find(b"\x02", position)
                if start < 0:
                    break  # bytes outside a record are noise
                self.in_record = True
                buffer = b""
                position = start + 1
            else:
                end = data.find(b"\x03", position)
                stx = data.find(b"\x02", position)
                if stx >= 0 and (end < 0 or stx < end):
                    # a new STX before the ETX: the unfinished record is given as is
                    buffer += data[position:stx]
                    if buffer.strip():
                        records.append(buffer)
                    buffer = b""
                    position = stx + 1
                    continue
                if end < 0:
                    buffer += data[position:]
                    position = len(data)
                else:
                    buffer += data[position:end]
                    if buffer.strip(b"\r\n"):
                        records.append(buffer.strip(b"\r\n"))
                    buffer = b""
                    self.in_record = False
                    position = end + 1
            while len(buffer) > self.max_record:
                records.append(buffer[: self.max_record])
                buffer = buffer[self.max_record:]
                self.cut += 1
        self.buffer = buffer
        return self._split_long(records)


class Backoff:
    """1, 2, 4 … seconds up to ``maximum``; :meth:`reset` after a success."""

    def __init__(self, first: float = 1.0, maximum: float = MAX_BACKOFF):
        self.first = first
        self.maximum = maximum
        self.current = first

    def reset(self) -> None:
        self.current = self.first

    def next(self) -> float:
        delay = self.current
        self.current = min(self.current * 2, self.maximum)
        return delay

    async def sleep(self) -> float:
        delay = self.next()
        await asyncio.sleep(delay)
        return delay


def expand_env(value: str) -> str:
    """``env:NAME`` means the value of the environment variable NAME (secrets kept out of the database)."""
    if isinstance(value, str) and value.startswith("env:"):
        name = value[4:]
        if name not in os.environ:
            raise ConfigError(f"environment variable {name} is not set.")
        return os.environ[name]
    return value
