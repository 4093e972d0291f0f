"""The SFTP pull collector against a real in-process asyncssh SFTP server on loopback. No database."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import threading
from pathlib import Path

import asyncssh
import pytest

from calltally.collectors.base import ConfigError, ConnectionConfig
from calltally.collectors.sftp_pull import SftpPullCollector
from calltally.spool.services import SpoolFileResult
from calltally.spool.storage import Spool

SITE = "HQ"
USER, PASSWORD = "cdr", "pull-Pass-1"
TIMEOUT = 20


class SpoolSink:
    """In-test Sink over a Spool: whole files deduped by content hash."""

    def __init__(self, spool: Spool):
        self.spool = spool
        self.seen: set[str] = set()
        self.lock = threading.Lock()
        self.calls = 0

    def append(self, records, source):
        return self.spool.append(SITE, records, source).count if records else 0

    def append_file(self, path, name, source, complete=True):
        data = Path(path).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        with self.lock:
            self.calls += 1
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


class _SSHServer(asyncssh.SSHServer):
    def begin_auth(self, username):
        return True

    def password_auth_supported(self):
        return True

    def validate_password(self, username, password):
        return username == USER and password == PASSWORD


@contextlib.asynccontextmanager
async def sftp_server(root: Path, tmp_path: Path, server_factory=_SSHServer):
    key = asyncssh.generate_private_key("ssh-ed25519")
    server = await asyncssh.listen(
        "127.0.0.1", 0, server_host_keys=[key], server_factory=server_factory,
        sftp_factory=functools.partial(asyncssh.SFTPServer, chroot=str(root).encode()))
    port = server.sockets[0].getsockname()[1]
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_bytes(f"[127.0.0.1]:{port} ".encode() + key.export_public_key())
    try:
        yield port, known_hosts
    finally:
        server.close()
        await server.wait_closed()


def spooled(spool: Spool) -> list[bytes]:
    return [record.raw for day in spool.days(SITE) for record in spool.iter_day(SITE, day)]


def cdr_file(folder: Path, name: str, count: int) -> list[bytes]:
    lines = [f"{name},2001,00390212{i:04d},{i}".encode() for i in range(count)]
    (folder / name).write_bytes(b"\r\n".join(lines) + b"\r\n")
    return lines


@pytest.fixture
def env(tmp_path):
    root = tmp_path / "remote"
    (root / "cdr").mkdir(parents=True)
    spool = Spool(tmp_path / "spool")
    sink = SpoolSink(spool)
    status = RecordingStatus()

    def make(port, known_hosts, **options):
        parameters = {"host": "127.0.0.1", "port": port, "username": USER, "password": PASSWORD,
                      "known_hosts": str(known_hosts), "remote_path": "/cdr", "pattern": "cdr_*",
                      "settle": 0, "interval": 60, "state_dir": str(tmp_path / "state"), **options}
        return SftpPullCollector(ConnectionConfig(3, SITE, "sftp-pull", SftpPullCollector.validate(parameters)),
                                 sink, status)

    return make, root, spool, sink, status, tmp_path


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, TIMEOUT))


def test_after_delete(env):
    make, root, spool, sink, status, tmp_path = env
    expected = cdr_file(root / "cdr", "cdr_001", 300) + cdr_file(root / "cdr", "cdr_002", 5)
    (root / "cdr" / "other.txt").write_text("not a CDR\n")

    async def scenario():
        async with sftp_server(root, tmp_path) as (port, known_hosts):
            collector = make(port, known_hosts, after="delete")
            assert await collector.poll() == 2
            assert await collector.poll() == 0

    run(scenario())
    assert sorted(spooled(spool)) == sorted(expected)
    assert sorted(path.name for path in (root / "cdr").iterdir()) == ["other.txt"]
    assert status.count == 305


def test_after_keep_remembers_across_restarts(env):
    make, root, spool, sink, status, tmp_path = env
    first = cdr_file(root / "cdr", "cdr_001", 40)

    async def scenario():
        async with sftp_server(root, tmp_path) as (port, known_hosts):
            collector = make(port, known_hosts)  # after=keep is the default
            assert await collector.poll() == 1
            assert await collector.poll() == 0
            calls = sink.calls
            # A new collector (the Recorder restarted) reads the seen list: nothing is downloaded again.
            assert await make(port, known_hosts).poll() == 0
            assert sink.calls == calls
            second = cdr_file(root / "cdr", "cdr_002", 7)
            assert await make(port, known_hosts).poll() == 1
            return second

    second = run(scenario())
    assert spooled(spool) == first + second
    assert sorted(path.name for path in (root / "cdr").iterdir()) == ["cdr_001", "cdr_002"]
    assert (tmp_path / "state" / "3.json").is_file()


def test_after_keep_lost_state_still_spools_once(env):
    make, root, spool, sink, status, tmp_path = env
    lines = cdr_file(root / "cdr", "cdr_001", 10)

    async def scenario():
        async with sftp_server(root, tmp_path) as (port, known_hosts):
            await make(port, known_hosts).poll()
            (tmp_path / "state" / "3.json").unlink()
            await make(port, known_hosts).poll()  # downloads again; the Sink's hash dedupe refuses it

    run(scenario())
    assert spooled(spool) == lines


def test_after_move(env):
    make, root, spool, sink, status, tmp_path = env
    (root / "done").mkdir()
    lines = cdr_file(root / "cdr", "cdr_001", 12)

    async def scenario():
        async with sftp_server(root, tmp_path) as (port, known_hosts):
            assert await make(port, known_hosts, after="move:/done").poll() == 1

    run(scenario())
    assert spooled(spool) == lines
    assert list((root / "cdr").iterdir()) == []
    assert (root / "done" / "cdr_001").is_file()


def test_settle_skips_a_growing_file(env):
    make, root, spool, sink, status, tmp_path = env
    cdr_file(root / "cdr", "cdr_001", 3)

    async def scenario():
        async with sftp_server(root, tmp_path) as (port, known_hosts):
            collector = make(port, known_hosts, settle=1.5, after="delete")
            poll = asyncio.ensure_future(collector.poll())
            await asyncio.sleep(0.5)
            with open(root / "cdr" / "cdr_001", "ab") as handle:  # the PBX is still writing
                handle.write(b"more,1\r\n")
            assert await poll == 0
            assert await make(port, known_hosts, settle=0, after="delete").poll() == 1

    run(scenario())
    assert len(spooled(spool)) == 4


def test_wrong_password_reports_error_and_spools_nothing(env):
    make, root, spool, sink, status, tmp_path = env
    cdr_file(root / "cdr", "cdr_001", 3)

    async def scenario():
        async with sftp_server(root, tmp_path) as (port, known_hosts):
            collector = make(port, known_hosts, password="wrong", after="delete", interval=30)
            task = asyncio.ensure_future(collector.run())
            for _ in range(200):
                if any(state == "error" for state, _ in status.states):
                    break
                await asyncio.sleep(0.05)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            with pytest.raises(ConfigError, match="authentication failed"):
                await collector.test()

    run(scenario())
    errors = [detail for state, detail in status.states if state == "error"]
    assert errors and "authentication failed" in errors[0]
    assert status.states[-1][0] == "stopped"
    assert spooled(spool) == []
    assert (root / "cdr" / "cdr_001").exists()


def test_run_polls_and_waits(env):
    make, root, spool, sink, status, tmp_path = env
    lines = cdr_file(root / "cdr", "cdr_001", 5)

    async def scenario():
        async with sftp_server(root, tmp_path) as (port, known_hosts):
            collector = make(port, known_hosts, interval=1)
            assert "1 file(s)" in await collector.test()
            task = asyncio.ensure_future(collector.run())
            for _ in range(200):
                if any(state == "waiting" for state, _ in status.states):
                    break
                await asyncio.sleep(0.05)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    run(scenario())
    assert [state for state, _ in status.states][:2] == ["polling", "waiting"]
    assert spooled(spool) == lines


def test_unknown_host_key_is_refused(env):
    make, root, spool, sink, status, tmp_path = env
    cdr_file(root / "cdr", "cdr_001", 3)
    other = tmp_path / "other_known_hosts"

    async def scenario():
        async with sftp_server(root, tmp_path) as (port, known_hosts):
            other.write_bytes(f"[127.0.0.1]:{port} ".encode()
                              + asyncssh.generate_private_key("ssh-ed25519").export_public_key())
            with pytest.raises(ConfigError):
                await make(port, other).test()

    run(scenario())
    assert spooled(spool) == []


@pytest.mark.parametrize("parameters, message", [
    ({"username": "u", "password": "p"}, "host"),
    ({"host": "h", "username": "u"}, "password"),
    ({"host": "h", "username": "u", "password": "p", "after": "archive"}, "after"),
    ({"host": "h", "username": "u", "password": "p", "known_hosts": "/nonexistent"}, "known_hosts"),
    ({"host": "h", "username": "u", "private_key": "/nonexistent"}, "private_key"),
    ({"host": "h", "username": "u", "password": "p", "interval": "0"}, "interval"),
])
def test_validate_rejects(parameters, message):
    with pytest.raises(ConfigError, match=message):
        SftpPullCollector.validate(parameters)
