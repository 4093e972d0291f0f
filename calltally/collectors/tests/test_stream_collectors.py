"""tcp-listen, tcp-connect and serial, driven in-process by a real peer (sockets, a pty)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import struct
import tty

import pytest

from calltally.collectors.base import ConfigError, ConnectionConfig
from calltally.collectors.runtime import SpoolSink
from calltally.collectors.serial import SerialCollector
from calltally.collectors.tcp_connect import TcpConnectCollector
from calltally.collectors.tcp_listen import TcpListenCollector
from calltally.spool.storage import Spool

from .helpers import RecordingStatus, assert_once, async_wait_for, free_port, spooled

TIMEOUT = 20


def make(cls, spool: Spool, **parameters):
    status = RecordingStatus()
    config = ConnectionConfig(1, "HQ", cls.kind, cls.validate(parameters))
    return cls(config, SpoolSink("HQ", spool), status), status


async def stop(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def records(prefix: str, count: int) -> list[bytes]:
    return [f"{prefix} {i:05d} 2026-11-25 10:00:00 201 0612345678 00:01:05".encode() for i in range(count)]


async def closed_by_peer(reader) -> bool:
    try:
        return await asyncio.wait_for(reader.read(), 5) == b""
    except ConnectionResetError:
        return True


# --- tcp-listen ----------------------------------------------------------------
def test_tcp_listen_concurrent_clients_every_record_once(tmp_path):
    spool = Spool(tmp_path)
    port = free_port()

    async def scenario():
        collector, status = make(TcpListenCollector, spool, port=port, framing="crlf")
        task = asyncio.create_task(collector.run())
        await async_wait_for(lambda: status.state == "listening", what="listening")
        sent = []

        async def client(name: str, count: int):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            batch = records(name, count)
            sent.extend(batch)
            data = b"".join(record + b"\r\n" for record in batch)
            for i in range(0, len(data), 997):  # chunks that cut records anywhere
                writer.write(data[i:i + 997])
                await writer.drain()
            writer.close()

        await asyncio.gather(*(client(f"client{n}", 500) for n in range(4)))
        await async_wait_for(lambda: status.count == len(sent), what="every record spooled")
        await stop(task)
        return sent, status

    sent, status = asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
    assert_once(spooled(spool, "HQ"), sent)
    assert status.count == 2000
    assert any(state == "connected" for state, _ in status.states)
    assert spool.iter_day("HQ", spool.days("HQ")[0]).__next__().source == "tcp:127.0.0.1"


def test_tcp_listen_refuses_addresses_outside_allow_and_closes_idle_clients(tmp_path):
    spool = Spool(tmp_path)
    port = free_port()

    async def scenario():
        collector, status = make(TcpListenCollector, spool, port=port, allow="10.9.9.0/24")
        task = asyncio.create_task(collector.run())
        await async_wait_for(lambda: status.state == "listening")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"refused 1\n")
        assert await closed_by_peer(reader)
        await stop(task)

        collector, status = make(TcpListenCollector, spool, port=port, idle_timeout=1)
        task = asyncio.create_task(collector.run())
        await async_wait_for(lambda: status.state == "listening")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"kept 1\nunterminated")
        assert await closed_by_peer(reader)  # idle → closed
        await stop(task)

    asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
    assert spooled(spool, "HQ") == [b"kept 1"]


def reset(writer) -> None:
    """Close with a TCP reset, as a link that breaks does (not the clean end of a stream)."""
    writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def test_tcp_listen_keeps_the_last_record_a_pbx_ends_by_closing_and_reports_one_cut_by_a_reset(tmp_path, caplog):
    spool = Spool(tmp_path)
    port = free_port()

    async def scenario():
        collector, status = make(TcpListenCollector, spool, port=port)
        task = asyncio.create_task(collector.run())
        await async_wait_for(lambda: status.state == "listening")
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"one\r\ntwo 2026-11-25 10:00")  # the last record has no line end…
        await writer.drain()
        writer.close()  # …and the PBX closes: that ends it
        await async_wait_for(lambda: status.count == 2, what="the last record")
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"three\nfou")
        await writer.drain()
        await async_wait_for(lambda: status.count == 3, what="the complete record")
        reset(writer)  # the link breaks in the middle of a record
        await async_wait_for(lambda: collector.clients == 0, what="the broken link closed")
        await stop(task)

    with caplog.at_level(logging.WARNING, logger="calltally"):
        asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
    assert spooled(spool, "HQ") == [b"one", b"two 2026-11-25 10:00", b"three"]
    cut = [record.getMessage() for record in caplog.records if "dropped" in record.getMessage()]
    assert len(cut) == 1 and "3 bytes" in cut[0] and "connection error" in cut[0]


def test_tcp_listen_bad_options_and_busy_port(tmp_path):
    with pytest.raises(ConfigError, match="port"):
        TcpListenCollector.validate({})
    with pytest.raises(ConfigError, match="framing"):
        TcpListenCollector.validate({"port": 5000, "framing": "xml"})
    with pytest.raises(ConfigError, match="unknown option"):
        TcpListenCollector.validate({"port": 5000, "prot": 1})
    assert TcpListenCollector.validate({"port": "5000"})["bind"] == "127.0.0.1"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        collector, _ = make(TcpListenCollector, Spool(tmp_path), port=busy.getsockname()[1])
        assert asyncio.run(collector.test()).startswith("FAILED")
        with pytest.raises(ConfigError, match="cannot listen"):
            asyncio.run(asyncio.wait_for(collector.run(), 5))


# --- tcp-connect ---------------------------------------------------------------
class FakePbx:
    """A PBX CDR port: asks for a password, then streams records; can drop the link."""

    def __init__(self, password: bytes = b"pccsmdr"):
        self.password = password
        self.connections = 0
        self.logins = 0
        self.batches: list[list[bytes]] = []
        self.sent: list[bytes] = []
        self.server = None
        self.delivered = lambda: 200  # records the collector has spooled; set by a test that resets the link

    async def handle(self, reader, writer):
        self.connections += 1
        number = self.connections
        writer.write(b"MiVoice SMDR\r\nPassword: ")
        await writer.drain()
        line = await asyncio.wait_for(reader.readuntil(b"\r"), 5)
        if line.rstrip(b"\r") != self.password:
            writer.write(b"Access denied\r\n")
            writer.close()
            return
        self.logins += 1
        batch = records(f"link{number}", 300)
        data = b"".join(record + b"\r\n" for record in batch)
        if number == 1:
            # the first link drops in the middle of a record: that one never completed
            cut = data.index(batch[200]) + 10
            writer.write(data[:cut])
            self.sent.extend(batch[:200])
            await writer.drain()
            # Once those are read: a reset makes the reader drop what it has not read yet.
            await async_wait_for(lambda: self.delivered() >= 200, what="the first link's records")
            reset(writer)  # a reset, not the clean end of the stream that would end record 200
            return
        writer.write(data)
        self.sent.extend(batch)
        await writer.drain()
        await asyncio.sleep(30)  # stays connected, silent

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]


def test_tcp_connect_logs_in_and_reconnects_after_a_dropped_link(tmp_path):
    spool = Spool(tmp_path)

    async def scenario():
        pbx = FakePbx()
        port = await pbx.start()
        collector, status = make(TcpConnectCollector, spool, host="127.0.0.1", port=port,
                                 login_script=r"expect:Password:|send:pccsmdr\r", login_timeout=5)
        pbx.delivered = lambda: status.count
        task = asyncio.create_task(collector.run())
        await async_wait_for(lambda: pbx.logins == 2 and status.count == 500, what="second link's records")
        await stop(task)
        pbx.server.close()
        return pbx, status

    pbx, status = asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
    assert_once(spooled(spool, "HQ"), pbx.sent)
    assert any(state == "waiting" for state, _ in status.states)


def test_tcp_connect_dead_link_detection_and_failed_login(tmp_path, monkeypatch):
    spool = Spool(tmp_path)

    async def scenario():
        pbx = FakePbx(password=b"other")
        port = await pbx.start()
        collector, _ = make(TcpConnectCollector, spool, host="127.0.0.1", port=port,
                            login_script=r"expect:Password:|send:pccsmdr\r|expect:Welcome", login_timeout=1)
        assert (await collector.test()).startswith("FAILED")

        monkeypatch.setenv("PBX_PASSWORD", "other")
        collector, status = make(TcpConnectCollector, spool, host="127.0.0.1", port=port, keepalive=1,
                                 login_script=r"expect:Password:|send-env:PBX_PASSWORD|send:\r")
        assert (await collector.test()).startswith("OK")
        task = asyncio.create_task(collector.run())
        # link 2 (after the test's links) streams 300 records then goes silent: the keepalive
        # notices after 1 s and reconnects.
        await async_wait_for(lambda: any("nothing received" in detail for _, detail in status.states),
                             what="dead link detected")
        await stop(task)
        pbx.server.close()

    asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))


def test_tcp_connect_keeps_the_last_record_before_the_pbx_closes_and_reports_one_cut_by_a_reset(tmp_path, caplog):
    spool = Spool(tmp_path)

    async def scenario():
        links = []
        status = None

        async def pbx(reader, writer):
            links.append(writer)
            if len(links) == 1:
                writer.write(b"a 1\r\nb 2\r\nlast 3")  # closed cleanly right after a record without CRLF
                await writer.drain()
                writer.close()
            elif len(links) == 2:
                writer.write(b"c 4\r\nhalf of d")
                await writer.drain()
                await async_wait_for(lambda: status.count == 4, what="c")
                reset(writer)  # the link breaks in the middle of d
            else:
                await asyncio.sleep(30)  # connected, silent

        server = await asyncio.start_server(pbx, "127.0.0.1", 0)
        collector, status = make(TcpConnectCollector, spool, host="127.0.0.1", port=server.sockets[0].getsockname()[1])
        collector.backoff.first = collector.backoff.current = 0.01
        task = asyncio.create_task(collector.run())
        await async_wait_for(lambda: len(links) == 3, what="the third link")
        await stop(task)
        server.close()

    with caplog.at_level(logging.WARNING, logger="calltally"):
        asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
    assert spooled(spool, "HQ") == [b"a 1", b"b 2", b"last 3", b"c 4"]
    cut = [record.getMessage() for record in caplog.records if "dropped" in record.getMessage()]
    assert len(cut) == 1 and "9 bytes" in cut[0]


def test_tcp_connect_waits_when_the_pbx_is_down(tmp_path):
    async def scenario():
        collector, status = make(TcpConnectCollector, Spool(tmp_path), host="127.0.0.1", port=free_port())
        assert (await collector.test()).startswith("FAILED")
        task = asyncio.create_task(collector.run())
        await async_wait_for(lambda: status.state == "waiting", what="waiting")
        await stop(task)

    asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))


# --- serial --------------------------------------------------------------------
def test_serial_through_a_pty(tmp_path):
    spool = Spool(tmp_path)
    master, slave = os.openpty()
    tty.setraw(master)
    device = os.ttyname(slave)
    sent = records("serial", 400)

    async def scenario():
        collector, status = make(SerialCollector, spool, device=device, baud=9600, parity="e", data_bits=7,
                                 stop_bits=1, flow="none", framing="lf")
        assert collector.p["parity"] == "E"
        task = asyncio.create_task(collector.run())
        await async_wait_for(lambda: status.state == "connected", what="port open")
        data = b"".join(record + b"\n" for record in sent)
        for i in range(0, len(data), 512):
            os.write(master, data[i:i + 512])
            await asyncio.sleep(0.001)
        await async_wait_for(lambda: status.count == len(sent), what="every record")
        await stop(task)
        return status

    try:
        asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
    finally:
        os.close(master)
        os.close(slave)
    assert_once(spooled(spool, "HQ"), sent)


def test_serial_keeps_the_last_record_when_the_line_hangs_up(tmp_path):
    spool = Spool(tmp_path)
    master, slave = os.openpty()
    tty.setraw(master)
    device = os.ttyname(slave)

    async def scenario():
        nonlocal master
        collector, status = make(SerialCollector, spool, device=device, framing="crlf")
        task = asyncio.create_task(collector.run())
        await async_wait_for(lambda: status.state == "connected", what="port open")
        os.write(master, b"first 1\r\nlast 2")
        await async_wait_for(lambda: status.count == 1, what="the first record")
        os.close(master)  # the PBX side of the line goes away
        master = -1
        await async_wait_for(lambda: status.count == 2, what="the last record")
        await stop(task)

    try:
        asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
    finally:
        for fd in (master, slave):
            if fd >= 0:
                os.close(fd)
    assert spooled(spool, "HQ") == [b"first 1", b"last 2"]


def test_serial_options_and_missing_device(tmp_path):
    with pytest.raises(ConfigError, match="parity"):
        SerialCollector.validate({"device": "/dev/ttyS0", "parity": "X"})
    with pytest.raises(ConfigError, match="flow"):
        SerialCollector.validate({"device": "/dev/ttyS0", "flow": "dtr"})
    collector, status = make(SerialCollector, Spool(tmp_path), device=str(tmp_path / "ttyNONE"))
    assert asyncio.run(collector.test()).startswith("FAILED")

    async def scenario():
        task = asyncio.create_task(collector.run())
        await async_wait_for(lambda: status.state == "waiting", what="waiting")
        await stop(task)

    asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
