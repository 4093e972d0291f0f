"""Secrets stored encrypted, run by a real Recorder process that decrypts them with the storage key of the
data dir: they still log in to the test PBX and the test SFTP server; and a lost key stops the connection
with a clear word, no traceback."""

from __future__ import annotations

import asyncio
import subprocess
import threading

import pytest
from cryptography.fernet import Fernet

from calltally import secretstore
from calltally.collectors import schema
from calltally.collectors.models import Connection, ConnectionState
from calltally.spool.storage import Spool

from .helpers import free_port, spooled, wait_for
from .test_secrets import KEY, LOGIN_PASSWORD, LOGIN_SCRIPT, PRIVATE_KEY, leaked
from .test_sftp_pull import PASSWORD as SFTP_PASSWORD
from .test_sftp_pull import USER, _SSHServer, sftp_server
from .test_stream_collectors import FakePbx

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class ServerThread:
    """An event loop of its own for the test's servers, while the Recorder runs in another process."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout: float = 20):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


class _PasswordOrKeyServer(_SSHServer):
    """The SFTP pull tests' server, which also lets in the planted private key."""

    def public_key_auth_supported(self):
        return True

    def validate_public_key(self, username, key):
        return username == USER and key.export_public_key() == KEY.export_public_key()


@pytest.fixture
def servers():
    thread = ServerThread()
    yield thread
    thread.stop()


def start_recorder(cli_process, tmp_path):
    log = open(tmp_path / "recorder.out", "ab")  # noqa: SIM115 - closed with the process by the test
    return cli_process.popen("recorder", stdout=log, stderr=subprocess.STDOUT)


def stop_recorder(process) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=20)


def test_a_login_script_stored_encrypted_still_logs_in_to_the_pbx(make_site, cli, cli_process, servers, tmp_path,
                                                                   settings):
    make_site("HQ")
    pbx = FakePbx(password=LOGIN_PASSWORD.encode())
    port = servers.run(pbx.start())
    cli("connection", "add", "--site", "HQ", "--kind", "tcp-connect", "--option", "host=127.0.0.1",
        "--option", f"port={port}", "--option", f"login_script={LOGIN_SCRIPT}")
    assert schema.is_sealed(Connection.objects.get().parameters["login_script"])
    spool = Spool(settings.SPOOL_DIR)
    recorder = start_recorder(cli_process, tmp_path)
    try:
        wait_for(lambda: pbx.logins >= 1 and len(spooled(spool, "HQ")) >= 200, timeout=60,
                 what="the Recorder logged in and spooled the PBX's records")
    finally:
        stop_recorder(recorder)
        servers.run(_close(pbx.server))
    assert set(pbx.sent[:200]) <= set(spooled(spool, "HQ"))
    assert not leaked((tmp_path / "recorder.out").read_bytes())


async def _close(server) -> None:
    server.close()
    await server.wait_closed()


def test_an_sftp_password_and_an_inline_key_stored_encrypted_still_log_in(make_site, cli, cli_process, servers,
                                                                          tmp_path, settings):
    make_site("HQ")
    make_site("BR")
    root = tmp_path / "remote"
    (root / "cdr").mkdir(parents=True)
    lines = [f"cdr_001,201,0039021234{i:04d},{i}".encode() for i in range(20)]
    (root / "cdr" / "cdr_001").write_bytes(b"\r\n".join(lines) + b"\r\n")
    server = sftp_server(root, tmp_path, server_factory=_PasswordOrKeyServer)
    port, known_hosts = servers.run(server.__aenter__())
    common = ["--kind", "sftp-pull", "--option", "host=127.0.0.1", "--option", f"port={port}",
              "--option", f"username={USER}", "--option", f"known_hosts={known_hosts}",
              "--option", "remote_path=/cdr", "--option", "pattern=cdr_*", "--option", "settle=0",
              "--option", "interval=1", "--option", f"state_dir={tmp_path / 'state'}"]
    # The same server and file for two sites: each site's spool shows that its connection logged in.
    cli("connection", "add", "--site", "HQ", *common, "--option", f"password={SFTP_PASSWORD}")
    cli("connection", "add", "--site", "BR", *common, "--option", f"private_key={PRIVATE_KEY}")
    stored = {row.site.code: row.parameters for row in Connection.objects.select_related("site")}
    assert schema.is_sealed(stored["HQ"]["password"]) and schema.is_sealed(stored["BR"]["private_key"])
    spool = Spool(settings.SPOOL_DIR)
    recorder = start_recorder(cli_process, tmp_path)
    try:
        wait_for(lambda: len(spooled(spool, "HQ")) == 20 and len(spooled(spool, "BR")) == 20, timeout=60,
                 what="both sites' files pulled")
    finally:
        stop_recorder(recorder)
        servers.run(server.__aexit__(None, None, None))
    assert sorted(spooled(spool, "HQ")) == sorted(spooled(spool, "BR")) == sorted(lines)
    assert not leaked((tmp_path / "recorder.out").read_bytes())


def test_a_lost_storage_key_stops_the_connection_with_a_clear_error_naming_it(make_site, cli, cli_process, tmp_path,
                                                                               settings, monkeypatch):
    make_site("HQ")
    cli("connection", "add", "--site", "HQ", "--kind", "tcp-connect", "--option", "host=127.0.0.1",
        "--option", f"port={free_port()}", "--option", f"login_script={LOGIN_SCRIPT}")
    pk = Connection.objects.get().pk
    # The Recorder is given another key than the one that encrypted the script.
    monkeypatch.setenv(secretstore.KEY_VARIABLE, Fernet.generate_key().decode())
    recorder = cli_process("recorder", "--once-for", "3")
    assert recorder.returncode == 0, recorder.stderr
    output = recorder.stdout + recorder.stderr
    expected = (f"connection {pk} (HQ/tcp-connect): the login_script cannot be decrypted: the key in "
                f"{secretstore.KEY_VARIABLE} is not the key it was encrypted with (the key was lost or replaced). "
                f"A lost key cannot be recovered: enter it again (calltally connection set {pk} "
                "--option login_script=…)")
    assert expected in output and "Traceback" not in output
    log_text = (settings.LOG_DIR / "calltally.log").read_text()
    assert expected in log_text
    # What `connection list` and `status` show of it (its state is "stopped" since the Recorder stopped).
    state = ConnectionState.objects.get(connection_id=pk)
    assert "the login_script cannot be decrypted" in state.last_error
    assert "calltally connection set" in state.last_error and "Traceback" not in state.last_error
