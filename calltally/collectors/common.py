"""Helpers shared by the collectors: option parsing, framing, back-off."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
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
    the unterminated tail stays in memory, never longer than ``max_record``. When the
    peer ends the stream, :meth:`end` gives that tail as the last record; when the stream
    is cut (an error, a timeout, a stop), ``pending`` says how much is lost."""

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

    @property
    def pending(self) -> int:
        """Bytes of a record begun but not ended."""
        if self.framing == "stx-etx":
            return len(self.buffer) if self.in_record else 0
        return len(self.buffer)

    def end(self) -> list[bytes]:
        """The peer ended the stream: a record it ended by ending the stream is a record."""
        tail = self.buffer if self.pending else b""
        self.buffer, self.in_record = b"", False
        if self.framing == "crlf" and tail.endswith(b"\r"):
            tail = tail[:-1]  # the first half of the record end
        elif self.framing == "stx-etx":
            tail = tail.strip(b"\r\n")
        return [tail] if tail else []

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


# --- one port, one listener --------------------------------------------------------------
# Only the kinds that listen hold ports. An FTP connection also holds its passive data
# range; two FTP connections may share one (pyftpdlib skips a data port in use), but a
# listener inside a passive range would fail whenever FTP had taken its port first.
LISTENING_KINDS = ("tcp-listen", "ftp")


def validate_connection(kind: str, parameters: dict[str, Any], connection_id: int | None = None,
                        enabled: bool = True) -> dict[str, Any]:
    """The one check of a connection's parameters before they are stored (`connection add|set`,
    and any form): the kind's own validation, then, for an enabled connection, that no other
    enabled connection listens on its port. ``parameters`` may mix secrets already stored
    (encrypted) with new ones in clear. Returns the parameters to store, secrets sealed
    (encrypted or hashed: see schema.py)."""
    from . import collector_class, schema

    cls = collector_class(kind)
    checked = cls.validate(schema.opened(kind, parameters, connection_id))
    if enabled:
        check_port_free(kind, checked, connection_id)
    return schema.sealed(kind, checked)


def check_port_free(kind: str, parameters: dict[str, Any], connection_id: int | None = None) -> None:
    """Raise :class:`ConfigError` naming the enabled connection that already holds this one's port."""
    if kind not in LISTENING_KINDS:
        return
    from .models import Connection

    mine = _Listener(parameters)
    others = (Connection.objects.filter(enabled=True, kind__in=LISTENING_KINDS).exclude(pk=connection_id)
              .select_related("site").order_by("pk"))
    for other in others:
        try:
            theirs = _Listener(other.parameters or {})
        except (TypeError, ValueError):  # stored before validation existed: it cannot listen anyway
            continue
        clash = mine.clash(theirs)
        if clash:
            raise ConfigError(
                f"{clash} connection #{other.pk} (site {other.site.code}, {other.kind} on {theirs}): the two "
                f"cannot both listen. Choose another port, or disable or remove #{other.pk} first.")


class _Listener:
    """The address and ports a listening connection binds, from its validated parameters (which
    always hold ``port`` and ``bind``; port 0 is any free port, held by nobody)."""

    def __init__(self, parameters: dict[str, Any]):
        self.bind = str(parameters.get("bind") or "127.0.0.1")
        self.ports = {int(parameters.get("port") or 0)} - {0}
        low, _, high = str(parameters.get("passive_ports") or "").partition("-")
        self.passive = range(int(low), int(high or low) + 1) if low.strip().isdigit() else range(0)
        self.addresses = _addresses(self.bind)

    def __str__(self) -> str:
        return f"{self.bind}:{next(iter(self.ports), 0)}"

    def clash(self, other: _Listener) -> str:
        """How this listener collides with ``other`` ("" when it does not)."""
        if not _overlap(self.addresses, other.addresses):
            return ""
        for port in sorted(self.ports):
            if port in other.ports:
                return f"port {port} on {self.bind} is already taken by"
            if port in other.passive:
                return f"port {port} is in the passive range {other.passive[0]}-{other.passive[-1]} of"
        taken = [port for port in other.ports if port in self.passive]
        if taken:
            return f"the passive range {self.passive[0]}-{self.passive[-1]} holds port {taken[0]}, taken by"
        return ""


def _addresses(bind: str) -> set:
    """The IP addresses ``bind`` names (a host name resolved); itself when it resolves to nothing."""
    text = bind.strip().strip("[]")
    if text in ("", "*"):
        return {ipaddress.ip_address("::")}  # every address, both families
    try:
        return {ipaddress.ip_address(text.split("%")[0])}
    except ValueError:
        pass
    try:
        return {ipaddress.ip_address(info[4][0].split("%")[0])
                for info in socket.getaddrinfo(text, None, proto=socket.IPPROTO_TCP)}
    except (OSError, ValueError):
        return {text}


def _overlap(mine: set, theirs: set) -> bool:
    """Whether two binds share an address. 0.0.0.0 is every IPv4 address, and :: every address of
    both families (Linux listens dual-stack by default)."""
    for a in mine:
        for b in theirs:
            if a == b:
                return True
            if isinstance(a, str) or isinstance(b, str):
                continue
            if (a.is_unspecified and (a.version == 6 or b.version == 4)) or \
                    (b.is_unspecified and (b.version == 6 or a.version == 4)):
                return True
    return False
