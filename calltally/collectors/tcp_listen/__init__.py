"""tcp-listen: the PBX connects to CallTally and streams its records."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..base import Collector, ConfigError
from ..common import (
    FRAMING_HELP,
    MAX_RECORD_HELP,
    Framer,
    address_allowed,
    check_unknown,
    framing_options,
    int_option,
    parse_allow,
    str_option,
)

log = logging.getLogger("calltally.recorder")
READ_SIZE = 65536


class TcpListenCollector(Collector):
    kind = "tcp-listen"
    description = "TCP listener: the PBX connects and streams records (Avaya IP Office, Panasonic, Alcatel)"
    options = {
        "port": "TCP port to listen on (required)",
        "bind": "address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)",
        "allow": "comma-separated source addresses or CIDRs allowed to connect (default: any)",
        "framing": FRAMING_HELP,
        "idle_timeout": "close a client that sends nothing for this many seconds (default 0: never)",
        "max_record": MAX_RECORD_HELP,
    }

    @classmethod
    def validate(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        check_unknown(parameters, cls.options)
        result = dict(parameters)
        result["port"] = int_option(parameters, "port", None, 1, 65535, required=True)
        result["bind"] = str_option(parameters, "bind", "127.0.0.1")
        parse_allow(parameters.get("allow"))
        result["framing"], result["max_record"] = framing_options(parameters)
        result["idle_timeout"] = int_option(parameters, "idle_timeout", 0, 0)
        return result

    def __init__(self, config, sink, status):
        super().__init__(config, sink, status)
        p = self.validate(config.parameters)
        self.port, self.bind = p["port"], p["bind"]
        self.allow = parse_allow(p.get("allow"))
        self.framing, self.max_record = p["framing"], p["max_record"]
        self.idle_timeout = p["idle_timeout"] or None
        self.clients = 0
        self.server: asyncio.base_events.Server | None = None

    async def run(self) -> None:
        try:
            self.server = await asyncio.start_server(self.handle, self.bind, self.port, reuse_address=True)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {self.bind}:{self.port}: {exc.strerror or exc}") from None
        self.status.set("listening", f"{self.bind}:{self.port}")
        async with self.server:
            try:
                await self.server.serve_forever()
            finally:
                self.server.close()

    def _show(self) -> None:
        detail = f"{self.bind}:{self.port}" + (f", {self.clients} client(s)" if self.clients else "")
        self.status.set("connected" if self.clients else "listening", detail)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        address = str(peer[0])
        if not address_allowed(address, self.allow):
            log.warning("tcp-listen %s: refused %s (not in allow)", self.port, address)
            writer.close()
            return
        source = f"tcp:{address}"
        framer = Framer(self.framing, self.max_record)
        self.clients += 1
        self._show()
        cut_by = "the collector stopping"  # what ended the stream, when the PBX did not
        try:
            while True:
                try:
                    data = await asyncio.wait_for(reader.read(READ_SIZE), self.idle_timeout)
                except TimeoutError:
                    log.info("tcp-listen %s: %s idle for %ss, closed", self.port, address, self.idle_timeout)
                    cut_by = f"the idle timeout ({self.idle_timeout}s)"
                    break
                # The PBX closing the connection ends its last record, line end or not.
                records = framer.feed(data) if data else framer.end()
                if records:
                    # Spooled and fsync'd before the next read; shielded so that a stop
                    # in the middle still leaves the thread's append whole.
                    count = await asyncio.shield(asyncio.to_thread(self.sink.append, records, source))
                    self.status.received(count)
                if not data:
                    break
        except (ConnectionError, OSError) as exc:
            cut_by = f"a connection error ({exc})"
            log.info("tcp-listen %s: %s: %s", self.port, address, exc)
        finally:
            if framer.pending:
                log.warning("tcp-listen %s: %s: a record cut by %s was dropped (%d bytes, no record end)",
                            self.port, address, cut_by, framer.pending)
            self.clients -= 1
            self._show()
            writer.close()

    async def test(self) -> str:
        try:
            server = await asyncio.start_server(lambda r, w: w.close(), self.bind, self.port, reuse_address=True)
        except OSError as exc:
            return f"FAILED: cannot listen on {self.bind}:{self.port}: {exc.strerror or exc}"
        server.close()
        await server.wait_closed()
        return f"OK: can listen on {self.bind}:{self.port}"
