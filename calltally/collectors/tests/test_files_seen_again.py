"""A file that grows, received again by FTP, SFTP or a folder, through the Recorder's real sink:
only what it adds is spooled."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging

import pytest

from calltally.collectors.base import ConnectionConfig
from calltally.collectors.folder import FolderCollector
from calltally.collectors.ftp import FtpCollector
from calltally.collectors.runtime import SpoolSink
from calltally.collectors.sftp_pull import SftpPullCollector

from .helpers import RecordingStatus, assert_once, async_wait_for, spooled
from .test_folder_and_push import no_persistent_connections
from .test_ftp import PASSWORD, USER, Server, login
from .test_sftp_pull import PASSWORD as SFTP_PASSWORD
from .test_sftp_pull import USER as SFTP_USER
from .test_sftp_pull import sftp_server

pytestmark = pytest.mark.django_db(transaction=True)
TIMEOUT = 20


def lines(first: int, count: int) -> list[bytes]:
    return [f'"","201","0612{n:06d}","from-internal","","","","Dial","","2026-03-02 10:00:00",,,"5","3"'.encode()
            for n in range(first, first + count)]


def content(records: list[bytes], tail: bytes = b"") -> bytes:
    return b"".join(record + b"\n" for record in records) + tail


@pytest.fixture
def hq(make_site, spool, monkeypatch):
    no_persistent_connections(monkeypatch)
    make_site("HQ")
    return SpoolSink("HQ", spool), spool


def test_a_pbx_that_sends_its_growing_file_again_by_ftp_has_only_the_new_lines_spooled(hq, tmp_path, caplog):
    sink, spool = hq
    status = RecordingStatus()
    parameters = FtpCollector.validate({"port": 0, "username": USER, "password": PASSWORD,
                                        "folder": str(tmp_path / "ftp")})
    collector = FtpCollector(ConnectionConfig(7, "HQ", "ftp", parameters), sink, status)
    edited = lines(0, 1100)
    edited[5] = edited[5].replace(b'"5","3"', b'"8","6"')
    with Server(collector) as server:
        ftp = login(server.port)
        for payload in (content(lines(0, 1000)), content(lines(0, 1100)), content(lines(0, 1100))):
            assert ftp.storbinary("STOR Master.csv", io.BytesIO(payload)).startswith("226")
        assert spooled(spool, "HQ") == lines(0, 1100)
        # A file edited rather than appended to: acknowledged, its changed line spooled, and said.
        with caplog.at_level(logging.WARNING, logger="calltally"):
            assert ftp.storbinary("STOR Master.csv", io.BytesIO(content(edited))).startswith("226")
        ftp.quit()
    assert spooled(spool, "HQ") == lines(0, 1100) + [edited[5]]
    assert status.count == 1101
    assert len(status.warnings) == 1 and "Master.csv does not continue" in status.warnings[0]
    assert any("does not continue" in record.getMessage() for record in caplog.records)


def test_an_sftp_pull_that_sees_the_grown_file_again_spools_only_the_new_lines(hq, tmp_path):
    sink, spool = hq
    root = tmp_path / "remote"
    (root / "cdr").mkdir(parents=True)
    remote = root / "cdr" / "cdr_master"
    status = RecordingStatus()

    async def scenario():
        async with sftp_server(root, tmp_path) as (port, known_hosts):
            parameters = SftpPullCollector.validate({
                "host": "127.0.0.1", "port": port, "username": SFTP_USER, "password": SFTP_PASSWORD,
                "known_hosts": str(known_hosts), "remote_path": "/cdr", "pattern": "cdr_*", "settle": 0,
                "state_dir": str(tmp_path / "state")})
            collector = SftpPullCollector(ConnectionConfig(3, "HQ", "sftp-pull", parameters), sink, status)
            cut = lines(300, 1)[0][:25]
            remote.write_bytes(content(lines(0, 300), tail=cut))  # pulled while the PBX was writing a line
            assert await collector.poll() == 1
            assert spooled(spool, "HQ") == lines(0, 300)
            remote.write_bytes(content(lines(0, 310)))
            assert await collector.poll() == 1
            assert await collector.poll() == 0  # unchanged: not fetched again
            # Rotated at midnight with what came after the last pull; a new log begins.
            (root / "cdr" / "cdr_master.1").write_bytes(content(lines(0, 330)))
            remote.write_bytes(content(lines(900, 2), tail=lines(902, 1)[0]))
            assert await collector.poll() == 2
            # Its last line had no line end: fetched again, unchanged, it is taken as complete.
            assert await collector.poll() == 1
            assert await collector.poll() == 0

    asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
    assert_once(spooled(spool, "HQ"), lines(0, 330) + lines(900, 3))
    assert status.count == 333 and status.warnings == []


def test_a_folder_pickup_of_a_file_dropped_again_longer_spools_only_its_new_lines(hq, tmp_path):
    sink, spool = hq
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    parameters = FolderCollector.validate({"path": str(inbox), "pattern": "*.csv", "stable_seconds": 0,
                                           "poll_seconds": 0.05})
    status = RecordingStatus()
    collector = FolderCollector(ConnectionConfig(1, "HQ", "folder", parameters), sink, status)

    async def scenario():
        task = asyncio.create_task(collector.run())
        for count in (100, 150, 150):  # a tool copying the whole log into the folder every hour
            (inbox / ".Master.csv").write_bytes(content(lines(0, count)))
            (inbox / ".Master.csv").rename(inbox / "Master.csv")
            await async_wait_for(lambda: not (inbox / "Master.csv").exists(), what="file taken")
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
    assert spooled(spool, "HQ") == lines(0, 150)
    assert status.count == 150
    assert sorted(path.name for path in (inbox / "processed").iterdir()) == ["Master.1.csv", "Master.2.csv",
                                                                             "Master.csv"]


def test_a_warning_is_kept_as_the_connections_last_error_without_changing_its_state(hq):
    from calltally.collectors.models import Connection, ConnectionState
    from calltally.collectors.runtime import BufferedStatus
    from calltally.sites.models import Site

    connection = Connection.objects.create(site=Site.objects.get(code="HQ"), kind="folder", parameters={})
    status = BufferedStatus(connection.pk)
    status.set("polling", "/srv/cdr")
    status.warn("Master.csv does not continue what was spooled from it before")
    status.flush()
    state = ConnectionState.objects.get(connection=connection)
    assert (state.state, state.detail) == ("polling", "/srv/cdr")
    assert state.last_error == "warning: Master.csv does not continue what was spooled from it before"
    assert state.last_error_at is not None
