"""Settings from the environment: good values are used, wrong ones refused with a fix."""

import subprocess
import sys

import pytest

from calltally import conf


def test_a_postgres_url_becomes_django_database_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("CALLTALLY_DATABASE_URL", "postgres://calls:s%40cret@db.example:5433/calltally?sslmode=require")
    db = conf.database(tmp_path)
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "calltally", "calls", "s@cret", "db.example", "5433")
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_without_a_url_the_database_is_sqlite_in_wal_mode_in_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("CALLTALLY_DATABASE_URL", raising=False)
    db = conf.database(tmp_path)
    assert db["NAME"] == str(tmp_path / "calltally.sqlite3")
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.parametrize(
    ("url", "message"),
    [("mysql://x@y/z", "only postgres://"), ("postgres://x@y:5432/", "names no database"),
     ("sqlite:///", "names no file")],
)
def test_a_wrong_database_url_is_refused_with_a_message(monkeypatch, tmp_path, url, message):
    monkeypatch.setenv("CALLTALLY_DATABASE_URL", url)
    with pytest.raises(conf.SettingError, match=message):
        conf.database(tmp_path)


@pytest.mark.parametrize(("value", "expected"), [("yes", True), ("0", False), ("", False)])
def test_booleans_accept_the_usual_words(monkeypatch, value, expected):
    monkeypatch.setenv("CALLTALLY_X", value)
    assert conf.env_bool("CALLTALLY_X") is expected


def test_a_number_that_is_not_one_is_refused(monkeypatch):
    monkeypatch.setenv("CALLTALLY_X", "many")
    with pytest.raises(conf.SettingError, match="CALLTALLY_X='many' is not a whole number"):
        conf.env_int("CALLTALLY_X", 1)


def test_the_secret_key_is_generated_once_and_kept_private(monkeypatch, tmp_path):
    monkeypatch.delenv("CALLTALLY_SECRET_KEY", raising=False)
    first = conf.secret_key(tmp_path)
    assert conf.secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_the_command_line_reports_a_wrong_setting_without_a_traceback(tmp_path):
    env = {"CALLTALLY_DATA_DIR": str(tmp_path), "CALLTALLY_MINER_BATCH": "lots", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "calltally.cli", "site", "list"], capture_output=True,
                            text=True, env=env, timeout=60)
    assert result.returncode == 1
    assert "CALLTALLY_MINER_BATCH='lots' is not a whole number" in result.stderr
    assert "Traceback" not in result.stderr
