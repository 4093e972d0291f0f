"""Connection secrets: declared once per kind, encrypted or hashed at rest, never shown back.

The planted secrets below must never be found, byte for byte, in what CallTally writes or shows:
`connection list` (and --json), the support bundle, the log file, the database file and the admin pages.
"""

from __future__ import annotations

import json
import stat
import zipfile

import asyncssh
import pytest
from cryptography.fernet import Fernet
from django.core.management.base import CommandError
from django.db import connection as db
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from calltally import secretstore
from calltally.collectors import COLLECTOR_PATHS, schema
from calltally.collectors.base import ConfigError
from calltally.collectors.common import validate_connection
from calltally.collectors.models import Connection, ConnectionState

from .helpers import free_port

SFTP_PASSWORD = "sftp-Pa55-planted-1"
LOGIN_PASSWORD = "smdr-Pa55-planted-2"
LOGIN_SCRIPT = rf"expect:Password:|send:{LOGIN_PASSWORD}\r"
FTP_PASSWORD = "ftp-Pa55-planted-3"
PUSH_TOKEN = "push-t0ken-planted-4-abcdefgh"
KEY = asyncssh.generate_private_key("ssh-ed25519")
PRIVATE_KEY = KEY.export_private_key().decode()
# The lines of the key's text that hold the key itself: its armour and its first lines (the format's
# header, the same in every ed25519 key) are no secret and may be found anywhere.
_ANOTHER_KEY = asyncssh.generate_private_key("ssh-ed25519").export_private_key().decode()
PRIVATE_KEY_LINES = [line for line in PRIVATE_KEY.splitlines() if line not in _ANOTHER_KEY]
PLANTED = [SFTP_PASSWORD, LOGIN_PASSWORD, LOGIN_SCRIPT, FTP_PASSWORD, PUSH_TOKEN, *PRIVATE_KEY_LINES]


def leaked(data: bytes) -> list[str]:
    """The planted secrets found in ``data``, as they are and as JSON or HTML would escape them."""
    found = []
    for secret in PLANTED:
        spellings = {secret, json.dumps(secret)[1:-1], secret.replace("\\", "\\\\")}
        if any(spelling.encode() in data for spelling in spellings):
            found.append(secret)
    return found


@pytest.fixture
def storage_key(settings, tmp_path, monkeypatch):
    """A storage key file of the test's own (the data dir's is shared by every test)."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    monkeypatch.delenv(secretstore.KEY_VARIABLE, raising=False)
    return settings.DATA_DIR / secretstore.KEY_FILE_NAME


def add_every_secret(cli, site_code: str = "HQ") -> dict[str, int]:
    """One connection per kind of secret, added as an administrator would; their ids by name."""
    closed = free_port()  # nothing listens there: the Recorder's attempts fail, and say so in the log
    added = {
        "sftp-password": ["--kind", "sftp-pull", "--option", "host=127.0.0.1", "--option", f"port={closed}",
                          "--option", "username=cdr", "--option", f"password={SFTP_PASSWORD}",
                          "--option", "known_hosts=ignore"],
        "sftp-key": ["--kind", "sftp-pull", "--option", "host=127.0.0.1", "--option", f"port={closed}",
                     "--option", "username=cdr", "--option", f"private_key={PRIVATE_KEY}",
                     "--option", "known_hosts=ignore"],
        "tcp-connect": ["--kind", "tcp-connect", "--option", "host=127.0.0.1", "--option", f"port={closed}",
                        "--option", f"login_script={LOGIN_SCRIPT}"],
        "ftp": ["--kind", "ftp", "--option", f"port={free_port()}", "--option", "username=pbx",
                "--option", f"password={FTP_PASSWORD}"],
        "http-push": ["--kind", "http-push", "--option", f"token={PUSH_TOKEN}"],
    }
    ids = {}
    for name, arguments in added.items():
        out = cli("connection", "add", "--site", site_code, *arguments)
        assert not leaked(out.encode()), out
        ids[name] = int(out.split("#", 1)[1].split()[0])
    return ids


# --- the declaration ----------------------------------------------------------------
def test_each_kind_declares_its_secrets_once_in_its_options():
    declared = {kind: set(schema.secrets(kind)) for kind in COLLECTOR_PATHS}
    assert declared == {"ftp": {"password"}, "sftp-pull": {"password", "private_key"},
                        "tcp-listen": set(), "tcp-connect": {"login_script"}, "serial": set(), "folder": set(),
                        "http-push": {"token"}}
    # What a hashed secret is stored as is a secret too, and so is what a kind does not declare.
    assert schema.is_secret("ftp", "password_hash") and schema.is_secret("http-push", "token_sha256")
    assert schema.is_secret("tcp-listen", "no_such_option") and schema.is_secret("no-such-kind", "port")
    assert not schema.is_secret("ftp", "username") and not schema.is_secret("tcp-connect", "host")


def test_redaction_shows_a_secret_as_set_its_hash_as_the_secret_and_a_variable_by_its_name():
    shown = schema.redacted("ftp", {"username": "pbx", "password_hash": "scrypt$x", "port": 2121})
    assert shown == {"username": "pbx", "password": "(set)", "port": 2121}
    assert schema.redacted("sftp-pull", {"host": "h", "password": "env:SFTP_PW", "private_key": ""}) == \
        {"host": "h", "password": "env:SFTP_PW", "private_key": ""}
    assert schema.redacted("tcp-connect", {"login_script": {"encrypted": "gAAA"}, "extra": "x"}, "[R]") == \
        {"login_script": "[R]", "extra": "[R]"}


def test_sealing_encrypts_what_is_replayed_hashes_what_is_verified_and_keeps_references(storage_key):
    sealed = schema.sealed("sftp-pull", {"host": "h", "password": SFTP_PASSWORD, "private_key": "env:KEY"})
    assert schema.is_sealed(sealed["password"]) and sealed["private_key"] == "env:KEY" and sealed["host"] == "h"
    assert schema.sealed("sftp-pull", sealed) == sealed  # sealing twice changes nothing
    assert schema.opened("sftp-pull", sealed)["password"] == SFTP_PASSWORD
    hashed = schema.sealed("http-push", {"token": PUSH_TOKEN})
    assert set(hashed) == {"token_sha256"} and not leaked(json.dumps(hashed).encode())
    assert stat.S_IMODE(storage_key.stat().st_mode) == 0o600


def test_a_login_script_in_error_is_never_repeated_in_the_message():
    # A step without its "send:" may well be the password itself.
    with pytest.raises(ConfigError) as error:
        validate_connection("tcp-connect", {"host": "pbx", "port": 1752,
                                            "login_script": f"expect:Password:|{LOGIN_PASSWORD}"})
    assert "step 2" in str(error.value) and not leaked(str(error.value).encode())
    with pytest.raises(ConfigError) as error:
        validate_connection("sftp-pull", {"host": "h", "username": "u",
                                          "private_key": PRIVATE_KEY.replace(PRIVATE_KEY_LINES[0], "x")})
    assert "not an unencrypted private key" in str(error.value) and not leaked(str(error.value).encode())


# --- what the database holds -----------------------------------------------------------
def test_whatever_writes_a_connection_its_secrets_reach_the_table_sealed(make_site, storage_key):
    site = make_site("HQ")
    # Even a row written without `connection add` (a script, the ORM): save() seals it.
    conn = Connection.objects.create(site=site, kind="tcp-connect",
                                     parameters={"host": "pbx", "port": 1752, "login_script": LOGIN_SCRIPT})
    pushed = Connection.objects.create(site=site, kind="http-push", parameters={"token": PUSH_TOKEN})
    with db.cursor() as cursor:
        cursor.execute("SELECT parameters FROM sites_connection WHERE id IN (%s, %s)", [conn.pk, pushed.pk])
        stored = " ".join(str(row[0]) for row in cursor.fetchall())
    assert not leaked(stored.encode()) and '"encrypted"' in stored and "token_sha256" in stored
    conn.refresh_from_db()
    assert schema.opened(conn.kind, conn.parameters, conn.pk)["login_script"] == LOGIN_SCRIPT


@pytest.mark.django_db(transaction=True)
def test_a_clear_text_secret_stored_before_the_upgrade_is_encrypted_by_the_migration(make_site, storage_key):
    site = make_site("HQ")
    executor = MigrationExecutor(db)
    executor.migrate([("collectors", "0002_connection_from_sites")])
    try:
        # As an earlier version stored them: straight into the table, in clear.
        with db.cursor() as cursor:
            for kind, parameters in (
                    ("sftp-pull", {"host": "h", "username": "u", "password": SFTP_PASSWORD,
                                   "private_key": PRIVATE_KEY}),
                    ("tcp-connect", {"host": "pbx", "port": 1752, "login_script": LOGIN_SCRIPT}),
                    ("tcp-listen", {"port": 1150})):
                cursor.execute("INSERT INTO sites_connection (site_id, kind, parameters, enabled, created, updated) "
                               "VALUES (%s, %s, %s, %s, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                               [site.pk, kind, json.dumps(parameters), True])
        assert leaked(database_text())
    finally:
        executor = MigrationExecutor(db)
        executor.migrate(executor.loader.graph.leaf_nodes("collectors"))
    assert not leaked(database_text()), "a clear-text secret outlived the migration"
    rows = {row.kind: row for row in Connection.objects.all()}
    assert schema.is_sealed(rows["tcp-connect"].parameters["login_script"])
    assert rows["tcp-listen"].parameters == {"port": 1150}
    opened = schema.opened("sftp-pull", rows["sftp-pull"].parameters)
    assert (opened["password"], opened["private_key"]) == (SFTP_PASSWORD, PRIVATE_KEY)


def database_text() -> bytes:
    """Everything the database holds: the SQLite file and its WAL, byte for byte; on PostgreSQL, every
    row of every table as text."""
    if db.vendor == "sqlite":
        name = db.settings_dict["NAME"]
        data = b""
        for path in (name, name + "-wal"):
            try:
                with open(path, "rb") as handle:
                    data += handle.read()
            except FileNotFoundError:
                pass
        return data
    with db.cursor() as cursor:
        texts = []
        for table in db.introspection.table_names(cursor):
            cursor.execute(f'SELECT CAST(t AS text) FROM "{table}" t')
            texts.extend(row[0] for row in cursor.fetchall())
    return "\n".join(texts).encode()


# --- the command line ---------------------------------------------------------------
def test_connection_set_replaces_a_secret_and_an_empty_value_clears_it(make_site, cli, storage_key):
    make_site("HQ")
    ids = add_every_secret(cli)
    sftp = ids["sftp-key"]
    out = cli("connection", "set", str(sftp), "--option", "password=new-Pa55-5")
    assert "password=(set)" in out and "private_key=(set)" in out and "new-Pa55-5" not in out
    cli("connection", "set", str(sftp), "--option", "private_key=")
    opened = schema.opened("sftp-pull", Connection.objects.get(pk=sftp).parameters)
    assert opened["password"] == "new-Pa55-5" and "private_key" not in opened
    with pytest.raises(CommandError, match="give a password"):
        cli("connection", "set", str(sftp), "--option", "password=")
    # A hashed secret is replaced by a new hash, and cleared with it.
    before = Connection.objects.get(pk=ids["http-push"]).parameters["token_sha256"]
    cli("connection", "set", str(ids["http-push"]), "--option", "token=another-t0ken-0123456789")
    assert Connection.objects.get(pk=ids["http-push"]).parameters["token_sha256"] != before
    with pytest.raises(CommandError, match="option token is required"):
        cli("connection", "set", str(ids["http-push"]), "--option", "token=")


def test_a_lost_storage_key_names_the_connection_and_what_to_do(make_site, cli, storage_key, monkeypatch):
    make_site("HQ")
    ids = add_every_secret(cli)
    pbx = ids["tcp-connect"]
    storage_key.unlink()  # the key is lost; a new one will be made for what is entered again
    expected = (rf"connection #{pbx}: the login_script cannot be decrypted: there is no storage key: .* A lost key "
                rf"cannot be recovered: enter it again \(calltally connection set {pbx} --option login_script=…\)")
    with pytest.raises(CommandError, match=expected):
        cli("connection", "test", str(pbx))
    with pytest.raises(CommandError, match=expected):
        cli("connection", "set", str(pbx), "--option", "keepalive=60")
    # Listing, hashed secrets and connections without secrets are not affected.
    listing = cli("connection", "list")
    assert f"#{pbx}" in listing and "login_script=(set)" in listing
    cli("connection", "set", str(ids["ftp"]), "--option", "max_file_size=1000")
    # Entering the secret again is the way out.
    cli("connection", "set", str(pbx), "--option", f"login_script={LOGIN_SCRIPT}", "--option", "keepalive=60")
    assert schema.opened("tcp-connect", Connection.objects.get(pk=pbx).parameters, pbx)["keepalive"] == 60
    # Another key in the environment than the one that encrypted them is said as such.
    monkeypatch.setenv(secretstore.KEY_VARIABLE, Fernet.generate_key().decode())
    with pytest.raises(CommandError, match=f"the key in {secretstore.KEY_VARIABLE} is not the key it was encrypted"):
        cli("connection", "test", str(pbx))


# --- nowhere to be seen -----------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_no_secret_is_in_the_listing_the_bundle_the_log_the_database_or_the_admin(
        make_site, cli, cli_process, tmp_path, settings, client, django_user_model, monkeypatch):
    make_site("HQ")
    ids = add_every_secret(cli)
    # The Recorder runs them all (in its own process, reading the storage key of the data dir), and
    # logs what it does at the most detailed level.
    monkeypatch.setenv("CALLTALLY_LOG_LEVEL", "DEBUG")
    recorder = cli_process("recorder", "--once-for", "4")
    assert recorder.returncode == 0, recorder.stderr
    assert "connection" in (recorder.stdout + recorder.stderr)  # it did log, to the console too
    assert not leaked((recorder.stdout + recorder.stderr).encode())
    assert ConnectionState.objects.filter(connection_id=ids["ftp"], state="stopped").exists()

    listing, as_json = cli("connection", "list"), cli("connection", "list", "--json")
    assert not leaked(listing.encode()) and not leaked(as_json.encode())
    rows = {row["id"]: row["parameters"] for row in json.loads(as_json)}
    assert rows[ids["sftp-key"]]["private_key"] == "(set)" and rows[ids["http-push"]]["token"] == "(set)"
    assert rows[ids["tcp-connect"]]["login_script"] == "(set)" and rows[ids["ftp"]]["password"] == "(set)"

    bundle = tmp_path / "diag.zip"
    cli("diagnose", "--output", str(bundle))
    with zipfile.ZipFile(bundle) as archive:
        for name in archive.namelist():
            assert not leaked(archive.read(name)), f"a secret leaked into {name} of the bundle"
        assert json.loads(archive.read("connections.json"))[0]["parameters"]  # the connections are there

    log_dir = settings.LOG_DIR
    log_text = b"".join(path.read_bytes() for path in log_dir.glob("calltally.log*"))
    assert b"connection" in log_text
    assert not leaked(log_text)

    assert not leaked(database_text())

    superuser = django_user_model.objects.create_superuser("root", password="root-Pa55-word")
    client.force_login(superuser)
    pages = [reverse("admin:index"), reverse("admin:collectors_connection_changelist")]
    for pk in ids.values():
        pages += [reverse(f"admin:collectors_connection_{view}", args=[pk]) for view in ("change", "history")]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert not leaked(response.content), f"a secret is shown on {page}"

