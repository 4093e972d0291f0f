"""`calltally diagnose`: what the bundle holds, and that no credential leaks into it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from calltally import __version__
from calltally.collectors.models import Connection, ConnectionState
from calltally.directory.models import Extension

FIXTURE = Path(__file__).resolve().parents[2] / "miner" / "tests" / "fixtures" / "asterisk-hq.csv"
PASSWORD = "planted-Pa55word-1"
TOKEN = "planted-t0ken-2"
SECRET_KEY = "planted-secret-key-3-abcdefghijklmnopqrstuvwxyz"
DB_PASSWORD = "planted-db-pw-4"
pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
ENV_SECRET = "planted-env-secret-5"


@pytest.fixture
def bundle(make_site, spool, cli, settings, tmp_path, monkeypatch):
    site = make_site("HQ")
    Extension.objects.bulk_create([Extension(site=site, number="201"), Extension(site=site, number="202")])
    cli("import", "--site", "HQ", str(FIXTURE))
    conn = Connection.objects.create(site=site, kind="sftp-pull", parameters={
        "host": "pbx.example", "username": "cdr", "password": PASSWORD,
        "auth": {"api_token": TOKEN}, "url": f"sftp://cdr:{PASSWORD}@pbx.example/cdr"})
    ConnectionState.objects.create(connection=conn, state="error", last_error=f"login refused for {PASSWORD}")
    settings.SECRET_KEY = SECRET_KEY
    settings.DATABASES = {"default": {**settings.DATABASES["default"], "PASSWORD": DB_PASSWORD}}
    settings.LOG_DIR = tmp_path / "logs"
    settings.LOG_DIR.mkdir()
    (settings.LOG_DIR / "calltally.log").write_text(
        "2026-03-02 10:00:00 INFO calltally.miner: started\n"
        f"2026-03-02 10:00:01 ERROR calltally.collectors: sftp login with {PASSWORD} and {TOKEN} failed\n")
    monkeypatch.setenv("CALLTALLY_SMTP_PASSWORD", ENV_SECRET)
    monkeypatch.setenv("CALLTALLY_API_TOKEN", TOKEN)
    monkeypatch.setenv("CALLTALLY_DATABASE_URL", f"postgres://calltally:{DB_PASSWORD}@db:5432/calltally")
    output = tmp_path / "out" / "diag.zip"
    assert "passwords, tokens and keys removed" in cli("diagnose", "--output", str(output))
    return output


def members(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_the_bundle_holds_versions_services_counters_logs_raw_records_and_undefined_extensions(bundle):
    files = members(bundle)
    assert {"version.json", "settings.json", "environment.json", "services.json", "sites.json",
            "connections.json", "undefined-extensions.json", "logs/calltally.log", "raw/HQ.txt"} <= set(files)
    version = json.loads(files["version.json"])
    assert version["calltally"] == __version__ and version["python"] and version["platform"]
    assert {item["name"] for item in json.loads(files["services.json"])} >= {"web", "recorder", "miner"}
    site = json.loads(files["sites.json"])[0]
    assert site["site"] == "HQ" and site["records_today"] == 7
    assert len(files["raw/HQ.txt"].splitlines()) == 7
    assert "calltally.miner: started" in files["logs/calltally.log"]
    undefined = json.loads(files["undefined-extensions.json"])["HQ"]
    assert "203" in {item["extension"] for item in undefined}
    connection = json.loads(files["connections.json"])[0]
    assert connection["parameters"]["host"] == "pbx.example"
    assert connection["parameters"]["password"] == "[REDACTED]"


def test_no_password_token_or_secret_key_leaks_into_the_bundle(bundle):
    raw = bundle.read_bytes()
    files = members(bundle)
    for planted in (PASSWORD, TOKEN, SECRET_KEY, DB_PASSWORD, ENV_SECRET):
        assert planted.encode() not in raw
        for name, text in files.items():
            assert planted not in text, f"{planted} leaked into {name}"
    settings_dump = json.loads(files["settings.json"])
    assert settings_dump["SECRET_KEY"] == "[REDACTED]"
    assert settings_dump["DATABASES"]["default"]["PASSWORD"] == "[REDACTED]"
    environment = json.loads(files["environment.json"])
    assert environment["CALLTALLY_SMTP_PASSWORD"] == "[REDACTED]"
    assert "[REDACTED]@db:5432" in environment["CALLTALLY_DATABASE_URL"]
    assert "[REDACTED]" in files["logs/calltally.log"]


def test_diagnose_wants_a_zip_file_name(db, cli):
    with pytest.raises(CommandError, match="must end in .zip"):
        cli("diagnose", "--output", "bundle.tar")


def test_a_login_script_and_what_it_sends_are_redacted_and_scrubbed_from_every_file(make_site, spool, cli, settings,
                                                                                      tmp_path, monkeypatch):
    # The leak this guards against: a tcp-connect login script, whose name says nothing of a secret,
    # was in the bundle in clear. Its collector declares it secret, and that is enough.
    site = make_site("HQ")
    sent, from_environment = "smdr-Pa55-planted-7", "planted-pin-8"
    monkeypatch.setenv("CALLTALLY_MITEL_PIN", from_environment)  # dumped (CALLTALLY_), its name says no secret
    Connection.objects.create(site=site, kind="tcp-connect", parameters={
        "host": "pbx.example", "port": 1752,
        "login_script": rf"expect:Password:|send:{sent}\r|expect:PIN:|send-env:CALLTALLY_MITEL_PIN"})
    Connection.objects.create(site=site, kind="sftp-pull", parameters={
        "host": "files.example", "username": "cdr", "password": "env:CALLTALLY_MITEL_PIN"})
    spool.append("HQ", [f"Password: {sent}".encode()], "tcp:pbx.example")  # a PBX that echoes what it is sent
    settings.LOG_DIR = tmp_path / "logs"
    settings.LOG_DIR.mkdir()
    (settings.LOG_DIR / "calltally.log").write_text(f"INFO calltally.recorder: sent {sent} then {from_environment}\n")
    output = tmp_path / "diag.zip"
    cli("diagnose", "--output", str(output))
    files = members(output)
    for name, text in files.items():
        assert sent not in text and from_environment not in text, f"a secret leaked into {name}"
    connections = {item["kind"]: item["parameters"] for item in json.loads(files["connections.json"])}
    assert connections["tcp-connect"]["login_script"] == "[REDACTED]"
    assert connections["tcp-connect"]["host"] == "pbx.example"
    assert connections["sftp-pull"]["password"] == "env:CALLTALLY_MITEL_PIN"  # a variable's name is no secret
    assert json.loads(files["environment.json"])["CALLTALLY_MITEL_PIN"] == "[REDACTED]"
    assert "Password: [REDACTED]" in files["raw/HQ.txt"]
