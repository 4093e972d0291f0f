"""Fixtures shared by every app's tests."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from calltally.spool.storage import Spool

REPO = Path(__file__).resolve().parent.parent
# Debian's chromium, which the test command installs (never a browser Playwright downloads).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SAMPLES = REPO.parent / "shared" / "samples"
DRIVER_FIXTURES = Path(__file__).resolve().parent / "drivers" / "tests" / "fixtures"


@pytest.fixture
def spool(tmp_path, settings) -> Spool:
    """A private spool folder for the test."""
    settings.SPOOL_DIR = tmp_path / "spool"
    return Spool(settings.SPOOL_DIR)


@pytest.fixture
def make_site(db):
    from calltally.sites.models import Site

    def make(code="HQ", **fields):
        values = {"name": f"Site {code}", "country": "IT", "timezone": "Europe/Rome", "currency": "EUR",
                  "driver": "asterisk_csv", "internal_digits_min": 3, "internal_digits_max": 4,
                  "access_codes": ["0"]}
        values.update(fields)
        site = Site(code=code, **values)
        site.full_clean()
        site.save()
        return site

    return make


@pytest.fixture
def cli():
    """Runs a calltally command in-process; returns its standard output."""

    def run(*args: str) -> str:
        out, err = io.StringIO(), io.StringIO()
        call_command(*args, stdout=out, stderr=err)
        return out.getvalue()

    return run


@pytest.fixture
def cli_process(tmp_path, settings):
    """Runs ``calltally`` as a separate process on the test database and spool.

    For tests that need a real process: exit codes, tracebacks, kill -9. The
    test must use ``django_db(transaction=True)`` so the child sees its data.
    """
    settings.SPOOL_DIR = tmp_path / "spool"

    def env() -> dict:
        db = connection.settings_dict
        values = dict(os.environ)
        values["CALLTALLY_SPOOL_DIR"] = str(settings.SPOOL_DIR)
        if connection.vendor == "sqlite":
            values["CALLTALLY_DATABASE_URL"] = "sqlite:///" + str(db["NAME"])
        else:
            values["CALLTALLY_DATABASE_URL"] = (
                f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
            )
        return values

    def run(*args: str, check: bool = False, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
        connection.close()  # SQLite: let the child take the write lock
        return subprocess.run(
            [sys.executable, "-m", "calltally.cli", *args], capture_output=True, text=True, env=env(),
            timeout=timeout, check=check, **kwargs,
        )

    def popen(*args: str, **kwargs) -> subprocess.Popen:
        connection.close()
        return subprocess.Popen([sys.executable, "-m", "calltally.cli", *args], env=env(), **kwargs)

    run.popen = popen
    run.env = env
    return run


def sample(relative: str) -> Path:
    """A capture from ../shared/samples, or skip: a user's fresh clone has no ../shared."""
    path = SAMPLES / relative
    if not path.exists():
        pytest.skip(f"{path} is absent: the anonymised samples live beside the project only on developer machines")
    return path


@pytest.fixture
def role_client(db):
    """A signed-in test client for a new account of one role::

        client = role_client("site-admin", sites=[rome])
        client = role_client("user", person=alice)
        client = role_client("manager", cost_center=sales)

    The account does not have to change its password; ``client.user`` is its user.
    """
    from django.contrib.auth import get_user_model
    from django.test import Client

    from calltally.accounts.models import Account

    made = 0

    def make(role: str, *, person=None, sites=(), cost_center=None, username: str | None = None):
        nonlocal made
        made += 1
        user = get_user_model().objects.create_user(username or f"{role}-{made}", password="s3cret-Pa55")
        account = Account.objects.get(user=user)
        account.role = role
        account.person = person
        account.cost_center = cost_center
        account.must_change_password = False
        account.save()
        account.sites.set(sites)
        user = get_user_model().objects.get(pk=user.pk)  # without the account cached at creation
        client = Client()
        client.force_login(user)
        client.user = user
        return client

    return make


@pytest.fixture
def browser():
    """Headless Debian chromium under Playwright, for a test that looks at a page as a user would."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()
