"""Fixtures shared by every app's tests."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import socket
import ssl
import subprocess
import sys
from dataclasses import dataclass, field
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


# The password of the accounts the browser tests sign in with.
BROWSER_PASSWORD = "a long browser passphrase"
# Where a browser test's screenshots are copied, besides its own tmp folder, when set.
KEEP_SCREENSHOTS = "CALLTALLY_KEEP_SCREENSHOTS"


@dataclass
class SignedIn:
    """A browser page signed in to the live server: ``go(path)`` opens a page, ``shoot(name)`` keeps a
    full-page screenshot, ``problems`` gathers the console errors (a Content-Security-Policy refusal
    is one) and uncaught page errors."""

    page: object
    base: str
    folder: Path
    problems: list = field(default_factory=list)

    def go(self, path: str):
        self.page.goto(self.base + path)
        return self.page

    def shoot(self, name: str) -> Path:
        path = self.folder / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        keep = os.environ.get(KEEP_SCREENSHOTS)
        if keep:
            shutil.copy(path, os.path.join(keep, path.name))
        return path


@pytest.fixture
def signed_in(browser, live_server, tmp_path):
    """``signed_in(username, width=1366)``: a page of the browser signed in as an account the test
    made with :data:`BROWSER_PASSWORD` (make the data before: Django refuses database work in the
    thread where Playwright's loop runs)."""
    from django.urls import reverse

    def open_as(username: str = "browser", width: int = 1366, height: int = 900) -> SignedIn:
        page = browser.new_page(viewport={"width": width, "height": height})
        session = SignedIn(page, live_server.url, tmp_path)
        page.on("console", lambda message: session.problems.append(message.text) if message.type == "error"
                else None)
        page.on("pageerror", lambda error: session.problems.append(str(error)))
        page.goto(live_server.url + reverse("login"))
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", BROWSER_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return session

    return open_as


# --- a real SMTP server for the mail tests (aiosmtpd, on a free loopback port), with optional
# sign-in, STARTTLS or TLS from the start, and a throwaway self-signed certificate.
SMTP_USERNAME, SMTP_PASSWORD = "reports@example.org", "smtp pass word"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 and its key, as files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "calltally-test-smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address(
                "127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("smtp-cert")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


@dataclass
class MailServer:
    port: int
    messages: list = field(default_factory=list)
    logins: list = field(default_factory=list)


@pytest.fixture
def smtp_server(certificate):
    """Starts aiosmtpd: ``smtp_server(auth=False, starttls=False, tls=False)`` → a MailServer whose
    ``messages`` are the mails received (email.message.Message) and ``logins`` the sign-ins tried."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message
    from aiosmtpd.smtp import AuthResult

    controllers = []

    def start(auth: bool = False, starttls: bool = False, tls: bool = False) -> MailServer:
        server = MailServer(port=free_port())

        class Keep(Message):
            def handle_message(self, message):
                server.messages.append(message)

        def authenticator(smtp, session, envelope, mechanism, data):
            login, password = data.login.decode(), data.password.decode()
            server.logins.append(login)
            # handled=False: aiosmtpd answers the refusal itself (535).
            return AuthResult(success=(login, password) == (SMTP_USERNAME, SMTP_PASSWORD), handled=False)

        context = None
        if starttls or tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*certificate)
        kwargs = {"hostname": "127.0.0.1", "port": server.port}
        if tls:
            kwargs["ssl_context"] = context
        elif starttls:
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = False
        if auth:
            kwargs.update(authenticator=authenticator, auth_require_tls=False)
        controller = Controller(Keep(), **kwargs)
        controller.start()
        controllers.append(controller)
        return server

    yield start
    for controller in controllers:
        controller.stop()
