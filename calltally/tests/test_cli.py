"""The console command's own rules, with real processes: where log lines go, a closed
pipe, and which data dir a command may use or create."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys

import pytest

from calltally import conf
from calltally.cli import CLOSED_PIPE_STATUS
from calltally.cliutil import WarningTally
from calltally.spool.storage import Spool


def asterisk_line(extension: int, account_code: str = "") -> str:
    return (
        f'"{account_code}","{extension}","00223456789","from-internal","""X"" <{extension}>","PJSIP/{extension}-1",'
        f'"PJSIP/trunk-2","Dial","PJSIP/00223456789@trunk,60","2026-03-02 10:00:00","2026-03-02 10:00:05",'
        f'"2026-03-02 10:02:05",125,120,"ANSWERED","DOCUMENTATION","{extension}.1",""\n'
    )


@pytest.fixture
def own_data_dir(cli_process, tmp_path):
    """The test database and spool, with a data dir (and so a log file) of the test's own."""
    data = tmp_path / "data"

    def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
        env = {**cli_process.env(), "CALLTALLY_DATA_DIR": str(data)}
        from django.db import connection

        connection.close()
        return subprocess.run([sys.executable, "-m", "calltally.cli", *args], capture_output=True, text=True,
                              env=env, timeout=120, **kwargs)

    run.log = data / "logs" / "calltally.log"
    return run


# --- log lines: the terminal shows the result, the file the details ---------------

@pytest.mark.django_db(transaction=True)
def test_an_import_that_acquires_many_extensions_shows_its_summary_and_logs_the_details_to_the_file(
        make_site, own_data_dir, tmp_path):
    make_site("HQ", auto_acquire=True)
    cdr = tmp_path / "many.csv"
    cdr.write_text("".join(asterisk_line(n) for n in range(300, 400)))

    result = own_data_dir("import", "--site", "HQ", str(cdr))

    assert result.returncode == 0, result.stderr
    assert re.search(r"^new extensions +100 ", result.stdout, re.MULTILINE)
    assert "acquired automatically" not in result.stdout + result.stderr
    assert " INFO " not in result.stdout + result.stderr
    assert result.stderr == ""  # nothing went wrong, so no summary either
    acquired = [line for line in own_data_dir.log.read_text().splitlines() if "acquired automatically" in line]
    assert acquired and " INFO calltally.miner: site HQ: " in acquired[0] and "300" in acquired[0]


@pytest.mark.django_db(transaction=True)
def test_a_commands_warnings_are_counted_at_the_end_with_the_first_five_shown(make_site, own_data_dir, tmp_path):
    make_site("HQ", auto_acquire=True)
    cdr = tmp_path / "codes.csv"
    # Account codes that match no account: the Miner warns about each.
    cdr.write_text("".join(asterisk_line(n, account_code="77") for n in range(300, 340)))

    result = own_data_dir("import", "--site", "HQ", str(cdr))

    assert result.returncode == 0, result.stderr
    first, *shown = result.stderr.splitlines()
    logged = own_data_dir.log.read_text().count(" WARNING ")
    assert logged > 5
    assert first == f"{logged} warnings (first 5 below; all in {own_data_dir.log})"
    assert len(shown) == 5 and all(line.startswith("  warning: site HQ: account code '77'") for line in shown)
    assert result.stdout.startswith(f"{cdr}: 40 records spooled")


@pytest.mark.django_db(transaction=True)
def test_a_service_still_logs_to_the_console_as_well_as_to_the_file(make_site, own_data_dir, settings):
    make_site("HQ", auto_acquire=True)
    Spool(settings.SPOOL_DIR).append("HQ", [asterisk_line(n).strip().encode() for n in range(300, 303)], "test")

    result = own_data_dir("miner", "--once")

    assert result.returncode == 0, result.stderr
    console = result.stderr.splitlines()
    assert any(" INFO calltally.miner: " in line and "acquired automatically" in line for line in console)
    assert set(console) <= set(own_data_dir.log.read_text().splitlines())


def test_a_few_warnings_are_all_shown_and_errors_are_counted_apart(tmp_path):
    logger = logging.getLogger("calltally.tests.tally")
    tally = WarningTally(tmp_path / "calltally.log")
    logger.addHandler(tally)
    try:
        logger.info("details for the file only")
        logger.warning("first line\nsecond line")
        logger.error("it broke")
    finally:
        logger.removeHandler(tally)
    assert tally.summary() == [
        f"1 error, 1 warning (also in {tmp_path / 'calltally.log'})",
        "  warning: first line",
        "  error: it broke",
    ]


# --- a closed pipe ------------------------------------------------------------------

def run_into_a_closed_pipe(args: list[str], env: dict) -> subprocess.CompletedProcess:
    """Runs a command whose standard output is a pipe nobody reads any more, as after `| head -1`."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run([sys.executable, "-m", "calltally.cli", *args], stdout=writer,
                              stderr=subprocess.PIPE, text=True, env=env, timeout=120)
    finally:
        os.close(writer)


def test_a_listing_piped_into_a_reader_that_has_gone_ends_quietly(tmp_path):
    result = run_into_a_closed_pipe(["drivers"], {**os.environ, "CALLTALLY_DATA_DIR": str(tmp_path)})
    assert result.returncode == CLOSED_PIPE_STATUS == 141
    assert result.stderr == ""


@pytest.mark.django_db(transaction=True)
def test_status_piped_into_a_reader_that_has_gone_ends_quietly(make_site, cli_process):
    for code in ("HQ", "BR", "NY"):
        make_site(code)
    result = run_into_a_closed_pipe(["status"], cli_process.env())
    assert result.returncode == CLOSED_PIPE_STATUS
    assert result.stderr == ""


def test_status_piped_into_head_prints_its_first_line_and_nothing_on_standard_error(tmp_path):
    env = {**os.environ, "CALLTALLY_DATA_DIR": str(tmp_path)}
    env.pop("CALLTALLY_DATABASE_URL", None)
    env.pop("CALLTALLY_SPOOL_DIR", None)
    result = subprocess.run(f"{sys.executable} -m calltally.cli status | head -1", shell=True,
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout == f"Data dir: {tmp_path}\n"
    assert result.stderr == ""


# --- which data dir -----------------------------------------------------------------

@pytest.fixture
def elsewhere(tmp_path):
    """A copy of the package in a folder of its own, run from yet another folder.

    With ``checkout=True`` the copy has the project's pyproject.toml beside it, as a
    clone has; without, it stands for an installed package.
    """

    def make(checkout: bool):
        root = tmp_path / "install"
        shutil.copytree(conf.PACKAGE_DIR, root / "calltally", ignore=shutil.ignore_patterns("__pycache__", "tests"))
        if checkout:
            shutil.copy(conf.PACKAGE_DIR.parent / "pyproject.toml", root / "pyproject.toml")
        cwd = tmp_path / "somewhere-else"
        cwd.mkdir()
        env = {key: value for key, value in os.environ.items() if not key.startswith("CALLTALLY_")}
        env.update(PYTHONPATH=str(root), HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "xdg"))

        def run(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "calltally.cli", *args], cwd=cwd, env=env,
                                  capture_output=True, text=True, timeout=120)

        run.root, run.cwd = root, cwd
        return run

    return make


def test_site_list_without_a_data_dir_creates_nothing_and_says_where_it_looked(elsewhere, tmp_path):
    calltally = elsewhere(checkout=True)
    result = calltally("site", "list")
    assert result.returncode == 1
    assert result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message
    assert f"no CallTally data dir at {calltally.root / 'var'}" in message
    assert "Set CALLTALLY_DATA_DIR" in message and "calltally up" in message
    assert not (calltally.root / "var").exists()
    assert list(calltally.cwd.iterdir()) == []


def test_an_installed_package_looks_in_the_users_data_folder_not_the_current_one(elsewhere, tmp_path):
    calltally = elsewhere(checkout=False)
    result = calltally("status")
    assert result.returncode == 1
    assert f"no CallTally data dir at {tmp_path / 'xdg' / 'calltally'}" in result.stderr
    assert not (tmp_path / "xdg").exists() and list(calltally.cwd.iterdir()) == []


def test_commands_that_read_no_data_work_without_a_data_dir_and_leave_nothing_behind(elsewhere):
    calltally = elsewhere(checkout=True)
    assert "asterisk_csv" in calltally("drivers").stdout
    assert "--site" in calltally("import", "--help").stdout
    assert not (calltally.root / "var").exists()
    assert list(calltally.cwd.iterdir()) == []


@pytest.mark.slow
def test_migrate_starts_the_installation_beside_the_checkout_and_other_commands_then_find_it(elsewhere):
    calltally = elsewhere(checkout=True)
    assert calltally("migrate", "-v", "0").returncode == 0
    assert (calltally.root / "var" / "calltally.sqlite3").is_file()
    result = calltally("site", "list")
    assert result.returncode == 0, result.stderr
    assert result.stdout.lower().startswith("no sites yet")
    assert list(calltally.cwd.iterdir()) == []


def test_an_explicit_data_dir_is_created_when_missing(tmp_path):
    data = tmp_path / "new" / "data"
    env = {**os.environ, "CALLTALLY_DATA_DIR": str(data)}
    env.pop("CALLTALLY_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "calltally.cli", "site", "list"], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (data / "calltally.sqlite3").is_file()


def test_the_default_data_dir_of_a_checkout_is_beside_it_whatever_the_current_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert conf.checkout_dir() == conf.PACKAGE_DIR.parent
    assert conf.default_data_dir() == conf.PACKAGE_DIR.parent / "var"


def test_the_database_is_described_without_its_password(tmp_path):
    assert conf.describe_database(conf.database_sqlite(tmp_path / "calltally.sqlite3")) == (
        f"SQLite {tmp_path / 'calltally.sqlite3'}")
    described = conf.describe_database(conf.database_url("postgres://calls:s3cret@db.example:5433/calltally"))
    assert described == "PostgreSQL calls@db.example:5433/calltally"
