"""serial: the PBX prints its records on a serial port (RS-232, or a USB adapter)."""

from __future__ import annotations

import asyncio
import errno
import logging
from typing import Any

from ..base import Collector, ConfigError
from ..common import (
    FRAMING_HELP,
    MAX_RECORD_HELP,
    Backoff,
    Framer,
    check_unknown,
    framing_options,
    int_option,
    str_option,
)

log = logging.getLogger("calltally.recorder")
PARITIES = ("N", "E", "O")
FLOWS = ("none", "rtscts", "xonxoff")


def _hung_up(exc: BaseException) -> bool:
    """Whether a read failed because the other end went away (EIO: a pty's other side closed,
    a USB adapter pulled out; or a port ready to read that gives nothing): the stream's end."""
    # pyserial's SerialException is an OSError without errno; the OSError it wraps has one.
    for error in (exc, exc.__context__):
        if isinstance(error, OSError) and error.errno == errno.EIO:
            return True
    return "returned no data" in str(exc)


class SerialCollector(Collector):
    kind = "serial"
    description = "Serial port: the PBX prints its records on RS-232 (or a USB serial adapter)"
    options = {
        "device": "serial device (required), e.g. /dev/ttyUSB0 or /dev/ttyS0",
        "baud": "speed in bit/s (default 9600)",
        "parity": "N (none, default), E (even) or O (odd)",
        "data_bits": "7 or 8 (default 8)",
        "stop_bits": "1 or 2 (default 1)",
        "flow": "flow control: none (default), rtscts or xonxoff",
        "framing": FRAMING_HELP,
        "max_record": MAX_RECORD_HELP,
    }

    @classmethod
    def validate(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        check_unknown(parameters, cls.options)
        result = dict(parameters)
        result["device"] = str_option(parameters, "device", required=True)
        result["baud"] = int_option(parameters, "baud", 9600, 50, 4_000_000)
        result["parity"] = str_option({"parity": str(parameters.get("parity", "N")).upper()}, "parity", "N",
                                      PARITIES)
        result["data_bits"] = int_option(parameters, "data_bits", 8, 5, 8)
        result["stop_bits"] = int_option(parameters, "stop_bits", 1, 1, 2)
        result["flow"] = str_option(parameters, "flow", "none", FLOWS)
        result["framing"], result["max_record"] = framing_options(parameters)
        return result

    def __init__(self, config, sink, status):
        super().__init__(config, sink, status)
        self.p = self.validate(config.parameters)
        self.backoff = Backoff()

    def open(self):
        import serial  # pyserial

        p = self.p
        try:
            return serial.Serial(
                p["device"], baudrate=p["baud"], parity=p["parity"], bytesize=p["data_bits"],
                stopbits=p["stop_bits"], rtscts=p["flow"] == "rtscts", xonxoff=p["flow"] == "xonxoff", timeout=0,
            )
        except ValueError as exc:
            raise ConfigError(f"serial settings: {exc}") from None

    async def run(self) -> None:
        import serial  # pyserial

        device = self.p["device"]
        loop = asyncio.get_running_loop()
        while True:
            try:
                port = await asyncio.to_thread(self.open)
            except serial.SerialException as exc:
                delay = self.backoff.next()
                self.status.set("waiting", f"{device}: {exc}; retry in {delay:g}s")
                await asyncio.sleep(delay)
                continue
            self.status.set("connected", f"{device} {self.p['baud']} {self.p['data_bits']}{self.p['parity']}"
                                         f"{self.p['stop_bits']}")
            framer = Framer(self.p["framing"], self.p["max_record"])
            ready = asyncio.Event()
            fd = port.fileno()
            loop.add_reader(fd, ready.set)
            reason = "closed"
            cut_by = "the collector stopping"  # what ended the stream, when the line did not hang up
            source = f"serial:{device}"
            try:
                while True:
                    await ready.wait()
                    ready.clear()
                    try:
                        data = port.read(65536)  # non-blocking (timeout=0): only what is there
                    except (serial.SerialException, OSError) as exc:
                        if not _hung_up(exc):
                            raise
                        # The other end hung up: the stream ended, and with it its last record.
                        reason = f"the line hung up ({exc})"
                        records = framer.end()
                        if records:
                            count = await asyncio.shield(asyncio.to_thread(self.sink.append, records, source))
                            self.status.received(count)
                        break
                    if not data:
                        continue
                    records = framer.feed(data)
                    if records:
                        count = await asyncio.shield(asyncio.to_thread(self.sink.append, records, source))
                        self.status.received(count)
                        self.backoff.reset()
            except (serial.SerialException, OSError) as exc:
                reason = str(exc)
                cut_by = f"a read error ({exc})"
            finally:
                loop.remove_reader(fd)
                port.close()
                if framer.pending:
                    log.warning("serial %s: a record cut by %s was dropped (%d bytes, no record end)", device, cut_by,
                                framer.pending)
            delay = self.backoff.next()
            log.info("serial %s: %s; reopening in %gs", device, reason, delay)
            self.status.set("waiting", f"{device}: {reason}; reopen in {delay:g}s")
            await asyncio.sleep(delay)

    async def test(self) -> str:
        import serial  # pyserial

        try:
            port = await asyncio.to_thread(self.open)
        except (serial.SerialException, ConfigError) as exc:
            return f"FAILED: {exc}"
        port.close()
        return f"OK: opened {self.p['device']}"
