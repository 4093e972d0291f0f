"""The FTP collector against real clients (ftplib, curl) on loopback. No database."""

from __future__ import annotations

import asyncio
import contextlib
import ftplib
import hashlib
import io
import logging
import shutil
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from calltally.collectors.base import ConfigError, ConnectionConfig
from calltally.collectors.ftp import FtpCollector, check_password
from calltally.spool.services import SpoolFileResult
from calltally.spool.storage import Spool

SITE = "HQ"
USER, PASSWORD = "pbx", "s3cret-Pass"
TIMEOUT = 10


class SpoolSink:
    """In-test Sink over a Spool: whole files deduped by content hash."""

    def __init__(self, spool: Spool):
        self.spool = spool
        self.seen: set[str] = set()
        self.lock = threading.Lock()
        self.gate: threading.Event | None = None  # when set, append_file waits for it
        self.entered = threading.Event()

    def append(self, records, source):
        return self.spool.append(SITE, records, source).count if records else 0

    def append_file(self, path, name, source, complete=True):
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(TIMEOUT)
        data = Path(path).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        with self.lock:
            if digest in self.seen:
                return SpoolFileResult(name, 0, True, digest)
            lines = [line for line in data.splitlines() if line]
            count = self.spool.append(SITE, lines, f"{source}:{name}").count if lines else 0
            self.seen.add(digest)
            return SpoolFileResult(name, count, False, digest)


class RecordingStatus:
    def __init__(self):
        self.states: list[tuple[str, str]] = []
        self.count = 0
        self.warnings: list[str] = []

    def set(self, state, detail=""):
        self.states.append((state, detail))

    def received(self, count):
        self.count += count

    def warn(self, text):
        self.warnings.append(text)


def spooled(spool: Spool) -> list[bytes]:
    return [record.raw for day in spool.days(SITE) for record in spool.iter_day(SITE, day)]


def cdr_lines(count: int, tag: str) -> list[bytes]:
    return [f'"{tag}","2001","0039021234{i:04d}","2026-11-25 10:{i % 60:02d}:00",{i}'.encode() for i in range(count)]


class Server:
    """Runs the collector in an asyncio loop on a helper thread."""

    def __init__(self, collector: FtpCollector):
        self.collector = collector
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.task = None

    def __enter__(self):
        self.thread.start()
        self.task = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(TIMEOUT)
        deadline = time.monotonic() + TIMEOUT
        while self.collector.port is None:
            assert time.monotonic() < deadline, "the FTP server did not start"
            time.sleep(0.02)
        return self

    async def _start(self):
        return asyncio.ensure_future(self.collector.run())

    def __exit__(self, *exc):
        async def stop():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(TIMEOUT)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(TIMEOUT)
        self.loop.close()

    @property
    def port(self) -> int:
        return self.collector.port


@pytest.fixture
def env(tmp_path):
    spool = Spool(tmp_path / "spool")
    sink = SpoolSink(spool)
    status = RecordingStatus()

    def make(**options):
        parameters = {"port": 0, "username": USER, "password": PASSWORD, "folder": str(tmp_path / "ftp"),
                      **options}
        config = ConnectionConfig(7, SITE, "ftp", FtpCollector.validate(parameters))
        return FtpCollector(config, sink, status)

    return make, spool, sink, status, tmp_path


def login(port: int, password: str = PASSWORD) -> ftplib.FTP:
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", port, timeout=TIMEOUT)
    ftp.login(USER, password)
    return ftp


def wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


# --- validate ---------------------------------------------------------------

def test_validate_stores_only_a_hash():
    stored = FtpCollector.validate({"username": USER, "password": PASSWORD})
    assert "password" not in stored
    assert PASSWORD not in repr(stored)
    assert stored["password_hash"].startswith("scrypt$")
    assert check_password(PASSWORD, stored["password_hash"])
    assert not check_password("wrong", stored["password_hash"])
    # Validating again (editing the connection) keeps the hash.
    assert FtpCollector.validate(stored)["password_hash"] == stored["password_hash"]
    assert stored["bind"] == "127.0.0.1" and stored["port"] == 2121 and stored["keep_files"] is False


@pytest.mark.parametrize("parameters, message", [
    ({"username": USER}, "password"),
    ({"password": PASSWORD}, "username"),
    ({"username": USER, "password": PASSWORD, "tls": "true"}, "certfile"),
    ({"username": USER, "password": PASSWORD, "tls": "true", "certfile": "/nonexistent.pem"}, "certfile"),
    ({"username": USER, "password": PASSWORD, "passive_ports": "60100-60000"}, "passive_ports"),
    ({"username": USER, "password": PASSWORD, "port": "ftp"}, "port"),
    ({"username": USER, "password": PASSWORD, "colour": "blue"}, "colour"),
])
def test_validate_rejects(parameters, message):
    with pytest.raises(ConfigError, match=message):
        FtpCollector.validate(parameters)


# --- uploads ----------------------------------------------------------------

def test_stor_spools_once_and_deletes_file(env):
    make, spool, sink, status, tmp_path = env
    collector = make()
    lines = cdr_lines(300, "a")
    payload = b"\r\n".join(lines) + b"\r\n"
    with Server(collector) as server:
        ftp = login(server.port)
        assert ftp.storbinary("STOR cdr_0001.txt", io.BytesIO(payload)).startswith("226")
        # The same file pushed again (the PBX retrying) is acknowledged but stored once.
        assert ftp.storbinary("STOR cdr_0001_again.txt", io.BytesIO(payload)).startswith("226")
        ftp.quit()
    assert spooled(spool) == lines
    assert status.count == 300
    assert list(collector.home.iterdir()) == []  # keep_files=false
    assert status.states[-1][0] == "stopped"


def test_keep_files(env):
    make, spool, sink, status, tmp_path = env
    collector = make(keep_files="true")
    with Server(collector) as server:
        ftp = login(server.port)
        ftp.storbinary("STOR kept.cdr", io.BytesIO(b"x,1\ny,2\n"))
        ftp.quit()
    assert (collector.home / "kept.cdr").read_bytes() == b"x,1\ny,2\n"
    assert spooled(spool) == [b"x,1", b"y,2"]


def test_226_only_after_sink_returned(env):
    make, spool, sink, status, tmp_path = env
    sink.gate = threading.Event()
    replies: list[str] = []
    with Server(make()) as server:
        ftp = login(server.port)
        worker = threading.Thread(target=lambda: replies.append(ftp.storbinary("STOR slow.cdr", io.BytesIO(b"r,1\n"))))
        worker.start()
        assert sink.entered.wait(TIMEOUT)
        time.sleep(0.5)
        assert replies == []  # the data is complete, but the sink has not returned: no 226 yet
        assert spooled(spool) == []
        sink.gate.set()
        worker.join(TIMEOUT)
        assert replies and replies[0].startswith("226")
        assert spooled(spool) == [b"r,1"]
        ftp.quit()


def test_sink_failure_is_451_and_nothing_kept(env):
    make, spool, sink, status, tmp_path = env

    def broken(path, name, source):
        raise OSError(28, "No space left on device")

    sink.append_file = broken
    collector = make(keep_files="true")
    with Server(collector) as server:
        ftp = login(server.port)
        with pytest.raises(ftplib.error_temp, match="451"):
            ftp.storbinary("STOR full.cdr", io.BytesIO(b"r,1\n"))
        ftp.quit()
    assert list(collector.home.iterdir()) == []
    assert any(state == "error" and "No space" in detail for state, detail in status.states)


def _partial_upload(port: int, name: str):
    ftp = login(port)
    ftp.voidcmd("TYPE I")
    data = ftp.transfercmd(f"STOR {name}")
    data.sendall(b"\n".join(cdr_lines(50, "partial")) + b"\n" + b'"partial","20')  # mid-record
    time.sleep(0.3)
    return ftp, data


def test_partial_upload_aborted_never_reaches_spool(env):
    make, spool, sink, status, tmp_path = env
    collector = make(keep_files="true")
    with Server(collector) as server:
        ftp, data = _partial_upload(server.port, "partial.cdr")
        ftp.putcmd("ABOR")  # plain ABOR on the control connection, data connection still open
        replies = [ftp.getline()]
        while not replies[-1].startswith(("225", "226")):
            replies.append(ftp.getline())
        data.close()
        wait_for(lambda: not (collector.home / "partial.cdr").exists(), "the partial file was not removed")
        ftp.quit()
    assert spooled(spool) == []
    assert not sink.entered.is_set()


def test_partial_upload_client_vanishes(env):
    make, spool, sink, status, tmp_path = env
    collector = make(keep_files="true")
    with Server(collector) as server:
        ftp, data = _partial_upload(server.port, "vanished.cdr")
        # The PBX dies: control connection dropped while the data connection is still open.
        ftp.sock.shutdown(socket.SHUT_RDWR)
        ftp.close()
        wait_for(lambda: not (collector.home / "vanished.cdr").exists(), "the partial file was not removed")
        data.close()
        time.sleep(0.3)
    assert spooled(spool) == []
    assert not sink.entered.is_set()


def test_max_file_size(env):
    make, spool, sink, status, tmp_path = env
    collector = make(max_file_size="1000", keep_files="true")
    with Server(collector) as server:
        ftp = login(server.port)
        with pytest.raises(ftplib.error_perm, match="552"):
            ftp.storbinary("STOR big.cdr", io.BytesIO(b"x" * 100 + b"\n" * 5000))
        ftp.quit()
    assert spooled(spool) == []
    assert list(collector.home.iterdir()) == []


def test_an_upload_over_max_file_size_gets_its_552_even_while_the_client_is_still_sending(env, caplog):
    make, spool, sink, status, tmp_path = env
    collector = make(max_file_size="1000", keep_files="true")
    with Server(collector) as server:
        ftp = login(server.port)
        # Far more than the socket buffers hold: the client is still sending when the limit is passed.
        with caplog.at_level(logging.WARNING, logger="calltally"), pytest.raises(ftplib.error_perm, match="^552"):
            ftp.storbinary("STOR huge.cdr", io.BytesIO(b"x,1\n" * 5_000_000))
        assert ftp.voidcmd("NOOP").startswith("200")  # the session goes on
        assert ftp.storbinary("STOR small.cdr", io.BytesIO(b"y,2\n")).startswith("226")
        ftp.quit()
    assert spooled(spool) == [b"y,2"]
    assert sorted(path.name for path in collector.home.iterdir()) == ["small.cdr"]
    assert any("huge.cdr" in record.getMessage() and "552" in record.getMessage() for record in caplog.records)


def test_failed_logins_go_to_the_log_file_with_the_address_and_the_third_one_ends_the_session(env):
    from django.conf import settings

    make, spool, sink, status, tmp_path = env
    # A name no other run writes (the log file outlives one run of the suite: the test command
    # runs it on SQLite and then on PostgreSQL with the same data dir).
    user = f"intruder-{uuid.uuid4().hex[:12]}"
    with Server(make()) as server:
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", server.port, timeout=TIMEOUT)
        replies = []
        for _ in range(3):
            with pytest.raises(ftplib.error_perm, match="^530") as failed:
                ftp.login(user, "guess")
            replies.append(str(failed.value))
        assert "Disconnecting" in replies[2] and "Disconnecting" not in replies[1]
        with pytest.raises((EOFError, OSError)):
            ftp.voidcmd("NOOP")
        ftp.close()
    logged = [line for line in settings.LOG_FILE.read_text().splitlines() if user in line]
    assert len(logged) == 3
    assert all("WARNING" in line and "failed FTP login" in line and "from 127.0.0.1" in line for line in logged)
    assert "session closed" in logged[2]


def test_wrong_password_is_530(env):
    make, spool, sink, status, tmp_path = env
    with Server(make()) as server:
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", server.port, timeout=TIMEOUT)
        with pytest.raises(ftplib.error_perm, match="530"):
            ftp.login(USER, "wrong")
        ftp.close()
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", server.port, timeout=TIMEOUT)
        with pytest.raises(ftplib.error_perm, match="530"):
            ftp.login("someone", PASSWORD)
        ftp.close()
    assert spooled(spool) == []


def test_names_cannot_escape_the_folder(env):
    make, spool, sink, status, tmp_path = env
    collector = make(keep_files="true")
    with Server(collector) as server:
        ftp = login(server.port)
        for index, name in enumerate(["../escape.cdr", "../../escape2.cdr", "/../../../tmp-escape.cdr"]):
            # pyftpdlib's virtual root confines the name to the connection's folder.
            assert ftp.storbinary(f"STOR {name}", io.BytesIO(f"e,{index}\n".encode())).startswith("226")
        with pytest.raises(ftplib.error_perm):
            ftp.mkd("sub")  # no mkdir permission
        ftp.quit()
    stray = [path for path in tmp_path.rglob("*escape*") if collector.home not in path.parents]
    assert stray == []
    assert sorted(path.name for path in collector.home.iterdir()) == ["escape.cdr", "escape2.cdr",
                                                                       "tmp-escape.cdr"]
    assert sorted(spooled(spool)) == [b"e,0", b"e,1", b"e,2"]


def test_curl_upload(env):
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    make, spool, sink, status, tmp_path = env
    lines = cdr_lines(200, "curl")
    source = tmp_path / "cdr_curl.txt"
    source.write_bytes(b"\n".join(lines) + b"\n")
    with Server(make(passive_ports=_free_range())) as server:
        url = f"ftp://{USER}:{PASSWORD}@127.0.0.1:{server.port}/"
        for _ in range(2):  # twice: stored once
            done = subprocess.run([curl, "-sS", "--max-time", str(TIMEOUT), "-T", str(source), url],
                                  capture_output=True, timeout=TIMEOUT + 5)
            assert done.returncode == 0, done.stderr
    assert spooled(spool) == lines


def _free_range() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    port = max(1024, min(port, 65500))
    return f"{port}-{port + 5}"


# --- run / test ---------------------------------------------------------------

def test_test_reports_bindable_and_busy(env):
    make, spool, sink, status, tmp_path = env
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    collector = make(port=port)
    assert "can be bound" in asyncio.run(collector.test())
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        with pytest.raises(ConfigError, match="cannot listen"):
            asyncio.run(collector.test())
    with Server(collector):
        assert "served by this collector" in asyncio.run(collector.test())


def test_port_in_use_is_a_config_error(env):
    make, spool, sink, status, tmp_path = env
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        collector = make(port=holder.getsockname()[1])
        with pytest.raises(ConfigError, match="already in use"):
            asyncio.run(asyncio.wait_for(collector.run(), TIMEOUT))
    assert status.states[-1][0] == "error"


# --- FTPS ---------------------------------------------------------------------

@pytest.fixture
def certificate(tmp_path):
    from calltally.directory.tests.slapd import make_certificate

    made = make_certificate(tmp_path)
    if made is None:
        pytest.skip("the openssl command is needed to make a throwaway certificate")
    return made


def test_ftps_encrypts_the_upload_and_checks_out_with_the_servers_certificate(env, certificate):
    import ssl

    make, spool, sink, status, tmp_path = env
    cert, key = certificate
    collector = make(tls="true", certfile=str(cert), keyfile=str(key))
    lines = cdr_lines(50, "tls")
    with Server(collector) as server:
        context = ssl.create_default_context(cafile=str(cert))  # verifies the name and the chain
        ftps = ftplib.FTP_TLS(context=context)
        ftps.connect("127.0.0.1", server.port, timeout=TIMEOUT)
        ftps.login(USER, PASSWORD)  # AUTH TLS first, then USER/PASS inside TLS
        assert isinstance(ftps.sock, ssl.SSLSocket)
        ftps.prot_p()
        assert ftps.storbinary("STOR secure.cdr", io.BytesIO(b"\n".join(lines) + b"\n")).startswith("226")
        ftps.quit()
    assert spooled(spool) == lines
    assert any("ftps://" in detail for _, detail in status.states)


def test_ftps_refuses_a_login_or_an_upload_in_clear_text(env, certificate):
    make, spool, sink, status, tmp_path = env
    cert, key = certificate
    collector = make(tls="true", certfile=str(cert), keyfile=str(key))
    with Server(collector) as server:
        plain = ftplib.FTP()
        plain.connect("127.0.0.1", server.port, timeout=TIMEOUT)
        with pytest.raises(ftplib.error_perm, match="^550"):
            plain.login(USER, PASSWORD)
        plain.close()
        # Logged in over TLS but with a clear data channel (PROT C): refused too.
        ftps = ftplib.FTP_TLS()
        ftps.connect("127.0.0.1", server.port, timeout=TIMEOUT)
        ftps.login(USER, PASSWORD)
        ftps.prot_p()
        ftps.prot_c()
        with pytest.raises(ftplib.error_perm, match="^550 SSL/TLS required on the data channel"):
            ftps.storbinary("STOR clear.cdr", io.BytesIO(b"x,1\n"))
        ftps.quit()
    assert spooled(spool) == []
