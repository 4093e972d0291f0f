"""tcp-connect: CallTally connects to the PBX's CDR port (Mitel 1752, NEC, Panasonic)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Any

from ..base import Collector, ConfigError, Secret
from ..common import (
    FRAMING_HELP,
    MAX_RECORD_HELP,
    Backoff,
    Framer,
    check_unknown,
    expand_env,
    float_option,
    framing_options,
    int_option,
    str_option,
)

log = logging.getLogger("calltally.recorder")
READ_SIZE = 65536
_ESCAPES = {"r": "\r", "n": "\n", "t": "\t", "\\": "\\", "|": "|"}


def parse_login_script(text: str | None) -> list[tuple[str, str]]:
    """``expect:Password:|send:secret\\r|sleep:1`` → [(verb, argument), …].

    Steps are separated by ``|``; ``\\r``, ``\\n``, ``\\t``, ``\\|`` and ``\\\\`` are escapes.
    ``send-env:NAME`` sends the value of the environment variable NAME (a password kept
    out of the database)."""
    steps: list[tuple[str, str]] = []
    if not text:
        return steps
    text = str(text)
    parts, current, i = [], "", 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            current += _ESCAPES.get(text[i + 1], "\\" + text[i + 1])
            i += 2
            continue
        if char == "|":
            parts.append(current)
            current = ""
        else:
            current += char
        i += 1
    parts.append(current)
    # The script is a secret: a message names a step by its number, never repeats its text (a
    # step that lacks its "send:" may be the password itself).
    for number, part in enumerate((part for part in parts if part), 1):
        verb, sep, argument = part.partition(":")
        if not sep or verb not in {"expect", "send", "send-env", "sleep"}:
            raise ConfigError(f"login_script step {number} must be expect:TEXT, send:TEXT, send-env:NAME "
                              "or sleep:SECONDS (steps are separated by |).")
        if verb == "sleep":
            try:
                float(argument)
            except ValueError:
                raise ConfigError(f"login_script step {number}: sleep takes seconds.") from None
        steps.append((verb, argument))
    return steps


def login_secrets(text: str) -> list[str]:
    """What a login script sends, which is its secret part (a password): each send: text, without its
    line ends, and the value of each send-env: variable."""
    sent = []
    for verb, argument in parse_login_script(text):
        if verb == "send":
            sent.append(argument.strip())
        elif verb == "send-env" and os.environ.get(argument):
            sent.append(os.environ[argument].strip())
    return [text for text in sent if text]


class TcpConnectCollector(Collector):
    kind = "tcp-connect"
    description = "TCP client: CallTally connects to the PBX's CDR port and reads the stream"
    options = {
        "host": "PBX address (required)",
        "port": "PBX CDR port (required), e.g. 1752 for Mitel MiVoice",
        "login_script": Secret("steps after connecting, separated by |: expect:TEXT, send:TEXT (\\r, \\n escapes), "
                               "send-env:VARIABLE, sleep:SECONDS; e.g. expect:Password:|send:pccsmdr\\r (stored "
                               "encrypted)", pieces=login_secrets),
        "login_timeout": "seconds to wait for each expect step (default 15)",
        "keepalive": "seconds: TCP keepalive, and reconnect when nothing arrives for this long (default 0: off)",
        "connect_timeout": "seconds to wait for the connection (default 10)",
        "framing": FRAMING_HELP,
        "max_record": MAX_RECORD_HELP,
    }

    @classmethod
    def validate(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        check_unknown(parameters, cls.options)
        result = dict(parameters)
        result["host"] = str_option(parameters, "host", required=True)
        result["port"] = int_option(parameters, "port", None, 1, 65535, required=True)
        parse_login_script(parameters.get("login_script"))
        result["login_timeout"] = float_option(parameters, "login_timeout", 15.0, 0.1)
        result["keepalive"] = int_option(parameters, "keepalive", 0, 0)
        result["connect_timeout"] = float_option(parameters, "connect_timeout", 10.0, 0.1)
        result["framing"], result["max_record"] = framing_options(parameters)
        return result

    def __init__(self, config, sink, status):
        super().__init__(config, sink, status)
        p = self.validate(config.parameters)
        self.host, self.port = p["host"], p["port"]
        self.script = parse_login_script(p.get("login_script"))
        self.login_timeout, self.keepalive = p["login_timeout"], p["keepalive"]
        self.connect_timeout = p["connect_timeout"]
        self.framing, self.max_record = p["framing"], p["max_record"]
        self.backoff = Backoff()

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.connect_timeout)
        sock = writer.get_extra_info("socket")
        if sock is not None and self.keepalive:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            for name, value in (("TCP_KEEPIDLE", self.keepalive), ("TCP_KEEPINTVL", max(1, self.keepalive // 3)),
                                ("TCP_KEEPCNT", 3)):
                if hasattr(socket, name):
                    sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
        try:
            leftover = await self.login(reader, writer)
        except BaseException:
            writer.close()
            raise
        return reader, writer, leftover

    async def login(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        """Play the login script; returns the bytes received after the last expected text."""
        seen = b""
        for verb, argument in self.script:
            if verb == "expect":
                wanted = argument.encode()
                loop = asyncio.get_running_loop()
                deadline = loop.time() + self.login_timeout
                while wanted not in seen:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        raise TimeoutError(f"login: {argument!r} did not come within {self.login_timeout:g}s")
                    try:
                        data = await asyncio.wait_for(reader.read(READ_SIZE), remaining)
                    except TimeoutError:
                        raise TimeoutError(
                            f"login: {argument!r} did not come within {self.login_timeout:g}s") from None
                    if not data:
                        raise ConnectionError(f"login: the PBX closed the connection before {argument!r}")
                    seen = (seen + data)[-(self.max_record + len(wanted)):]
                seen = seen[seen.index(wanted) + len(wanted):]
            elif verb in {"send", "send-env"}:
                text = expand_env("env:" + argument) if verb == "send-env" else argument
                writer.write(text.encode())
                await writer.drain()
            elif verb == "sleep":
                await asyncio.sleep(float(argument))
        # what followed the last prompt ("Password: ") is the start of the stream, minus blanks
        return seen.lstrip() if self.script else b""

    async def run(self) -> None:
        where = f"{self.host}:{self.port}"
        while True:
            self.status.set("starting", f"connecting to {where}")
            try:
                reader, writer, leftover = await self.connect()
            except (OSError, TimeoutError, ConnectionError) as exc:
                delay = self.backoff.next()
                self.status.set("waiting", f"{where}: {exc or type(exc).__name__}; retry in {delay:g}s")
                await asyncio.sleep(delay)
                continue
            self.status.set("connected", where)
            framer = Framer(self.framing, self.max_record)
            source = f"tcp:{self.host}"
            reason = "closed by the PBX"
            cut_by = "the collector stopping"  # what ended the stream, when the PBX did not
            try:
                data = leftover
                ended = False
                while True:
                    if data or ended:
                        # The PBX closing the connection ends its last record, line end or not.
                        records = framer.end() if ended else framer.feed(data)
                        if records:
                            count = await asyncio.shield(asyncio.to_thread(self.sink.append, records, source))
                            self.status.received(count)
                            self.backoff.reset()
                    if ended:
                        break
                    try:
                        data = await asyncio.wait_for(reader.read(READ_SIZE), self.keepalive or None)
                    except TimeoutError:
                        reason = cut_by = f"nothing received for {self.keepalive}s"
                        break
                    ended = not data
            except (OSError, ConnectionError) as exc:
                reason = str(exc) or type(exc).__name__
                cut_by = f"a connection error ({reason})"
            finally:
                writer.close()
                if framer.pending:
                    log.warning("tcp-connect %s: a record cut by %s was dropped (%d bytes, no record end)", where,
                                cut_by, framer.pending)
            delay = self.backoff.next()
            log.info("tcp-connect %s: %s; reconnecting in %gs", where, reason, delay)
            self.status.set("waiting", f"{where}: {reason}; reconnect in {delay:g}s")
            await asyncio.sleep(delay)

    async def test(self) -> str:
        try:
            reader, writer, _ = await self.connect()
        except (OSError, TimeoutError, ConnectionError, ConfigError) as exc:
            return f"FAILED: {self.host}:{self.port}: {exc or type(exc).__name__}"
        writer.close()
        return f"OK: connected to {self.host}:{self.port}" + (" and logged in" if self.script else "")
