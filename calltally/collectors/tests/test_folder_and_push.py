"""folder and http-push, with real files and real HTTP clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import urllib.error
import urllib.request

import pytest

from calltally.collectors.base import ConfigError, ConnectionConfig
from calltally.collectors.folder import FolderCollector
from calltally.collectors.http_push import HttpPushCollector, hash_token
from calltally.collectors.models import Connection
from calltally.collectors.runtime import SpoolSink

from .helpers import RecordingStatus, assert_once, async_wait_for, spooled

TOKEN = "test-token-0123456789abcdef"


def no_persistent_connections(monkeypatch):
    """Worker threads close their database connections at once (PostgreSQL's test database
    cannot be dropped while they hold one)."""
    from django.db import connections

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@pytest.mark.django_db(transaction=True)
def test_folder_spools_stable_files_once_then_moves_them(make_site, spool, tmp_path, monkeypatch):
    no_persistent_connections(monkeypatch)
    make_site("HQ")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    parameters = FolderCollector.validate({"path": str(inbox), "pattern": "*.csv", "stable_seconds": 0.3,
                                           "poll_seconds": 0.05})
    status = RecordingStatus()
    collector = FolderCollector(ConnectionConfig(1, "HQ", "folder", parameters), SpoolSink("HQ", spool), status)
    first = [f"a,{i}".encode() for i in range(100)]
    second = [f"b,{i}".encode() for i in range(50)]

    async def scenario():
        task = asyncio.create_task(collector.run())
        (inbox / "ignored.txt").write_bytes(b"not a csv\n")
        growing = inbox / "day1.csv"
        with open(growing, "wb") as handle:  # written slowly: must not be taken half-written
            for i in range(0, 100, 20):
                handle.write(b"\r\n".join(first[i:i + 20]) + b"\r\n")
                handle.flush()
                await asyncio.sleep(0.1)
        (inbox / "day2.csv").write_bytes(b"\n".join(second))  # no final line end
        await async_wait_for(lambda: not list(inbox.glob("*.csv")), what="files taken")
        (inbox / "day1-again.csv").write_bytes(growing.read_bytes() if growing.exists() else
                                               (inbox / "processed" / "day1.csv").read_bytes())
        await async_wait_for(lambda: not (inbox / "day1-again.csv").exists(), what="duplicate taken")
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(scenario(), 20))
    assert_once(spooled(spool, "HQ"), first + second)
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["day1-again.csv", "day1.csv", "day2.csv"]
    assert (inbox / "ignored.txt").exists()
    assert status.count == 150


def test_folder_options(tmp_path):
    with pytest.raises(ConfigError, match="absolute"):
        FolderCollector.validate({"path": "relative/dir"})
    assert FolderCollector.validate({"path": str(tmp_path)})["processed"] == str(tmp_path / "processed")


def push_connection(site, **extra) -> Connection:
    return Connection.objects.create(site=site, kind="http-push",
                                     parameters=HttpPushCollector.validate({"token": TOKEN, **extra}))


def test_push_token_is_stored_hashed():
    stored = HttpPushCollector.validate({"token": TOKEN})
    assert "token" not in stored and stored["token_sha256"] == hash_token(TOKEN)
    with pytest.raises(ConfigError):
        HttpPushCollector.validate({})
    with pytest.raises(ConfigError):
        HttpPushCollector.validate({"token": "short"})


def test_push_with_the_django_test_client(make_site, spool, client):
    site = make_site("HQ")
    connection = push_connection(site, max_body=2048)
    url = f"/push/{connection.pk}/"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    body = b"r1,a\r\nr2,b\nr3,c\rr4,d"
    response = client.post(url, body, content_type="text/plain", **auth)
    assert response.status_code == 200 and response.json() == {"records": 4}
    assert spooled(spool, "HQ") == [b"r1,a", b"r2,b", b"r3,c", b"r4,d"]
    assert connection.state.records_total == 4
    assert client.get(url, **auth).status_code == 405
    assert client.post(url, body, content_type="text/plain").status_code == 401
    assert client.post(url, body, content_type="text/plain", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.post("/push/9999/", body, content_type="text/plain", **auth).status_code == 401
    assert client.post(url, b"x" * 3000, content_type="text/plain", **auth).status_code == 413
    connection.enabled = False
    connection.save()
    assert client.post(url, body, content_type="text/plain", **auth).status_code == 401
    assert len(spooled(spool, "HQ")) == 4


def test_push_answers_an_unknown_connection_exactly_as_a_wrong_token(make_site, spool, client):
    site = make_site("HQ")
    known = push_connection(site)
    disabled = push_connection(site)
    disabled.enabled = False
    disabled.save()
    other_kind = Connection.objects.create(site=site, kind="tcp-listen", parameters={"port": 5100})

    def answer(connection_id, token):
        response = client.post(f"/push/{connection_id}/", b"r1,a\n", content_type="text/plain",
                                HTTP_AUTHORIZATION=f"Bearer {token}")
        return response.status_code, response.content, response.get("WWW-Authenticate"), response.get(
            "Content-Type")

    wrong_token = answer(known.pk, "not-the-token-of-this-connection")
    assert wrong_token[0] == 401
    for connection_id in (9999, disabled.pk, other_kind.pk):
        assert answer(connection_id, TOKEN) == wrong_token
    assert spooled(spool, "HQ") == []


def post(url: str, body: bytes, token: str = TOKEN) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {}


@pytest.mark.django_db(transaction=True)
def test_push_through_waitress_with_a_real_http_client(make_site, spool, monkeypatch):
    no_persistent_connections(monkeypatch)
    from django.core.wsgi import get_wsgi_application
    from waitress.server import create_server

    site = make_site("HQ")
    connection = push_connection(site)
    server = create_server(get_wsgi_application(), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.effective_port}/push/{connection.pk}/"
        sent = []
        for batch in range(20):
            lines = [f"call {batch:02d}-{i:03d}".encode() for i in range(50)]
            status, reply = post(url, b"\n".join(lines) + b"\n")
            assert status == 200 and reply == {"records": 50}
            sent.extend(lines)
        assert post(url, b"x\n", token="not-the-token-at-all")[0] == 401
    finally:
        server.close()
    assert_once(spooled(spool, "HQ"), sent)
