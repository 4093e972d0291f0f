"""Alert tests: a site in Rome, people, calls made at chosen instants, the mail settings pointed at
a real SMTP server, and a local web server that keeps the JSON posted to it."""

from __future__ import annotations

import datetime as dt
import http.server
import itertools
import json
import threading
import zoneinfo
from decimal import Decimal

import pytest

from calltally.alerts.models import AlertRule
from calltally.calls.choices import Direction, Disposition
from calltally.calls.models import Call
from calltally.spool.models import SpoolSegment

UTC = dt.UTC
ROME = zoneinfo.ZoneInfo("Europe/Rome")
_offsets = itertools.count(0, 100)


def rome(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ROME)


def make_call(site, start: dt.datetime, **fields) -> Call:
    values = {"direction": Direction.OUTBOUND, "disposition": Disposition.ANSWERED, "answered": True,
              "extension_number": "101", "remote_number": "0612345678", "dialled_number": "00612345678",
              "e164": "+390612345678", "category": "national", "talk_seconds": 60, "currency": site.currency,
              "cost": Decimal("0.10")}
    values.update(fields)
    segment, _ = SpoolSegment.objects.get_or_create(site=site, day=start.astimezone(UTC).date())
    return Call.objects.create(site=site, start=start, segment=segment, raw_offset=next(_offsets), **values)


@pytest.fixture(autouse=True)
def storage_key(monkeypatch):
    from cryptography.fernet import Fernet

    from calltally import secretstore

    monkeypatch.setenv(secretstore.KEY_VARIABLE, Fernet.generate_key().decode())


@pytest.fixture(autouse=True)
def default_rule(request):
    """The "Site silent" rule the migrations make, made again where a transactional test before
    this one flushed it."""
    if "db" not in request.fixturenames and "transactional_db" not in request.fixturenames:
        return None
    rule, _ = AlertRule.objects.get_or_create(name="Site silent", defaults={"kind": "silent-site", "scope": "all"})
    return rule


@pytest.fixture
def no_default_rule(default_rule):
    """Without the "Site silent" rule every database starts with (its own test says what it does)."""
    AlertRule.objects.filter(kind="silent-site").delete()


@pytest.fixture
def hq(make_site, spool):
    site = make_site("HQ", name="Head office", timezone="Europe/Rome", currency="EUR")
    type(site).objects.filter(pk=site.pk).update(created=rome(2026, 3, 2, 8, 0))
    site.refresh_from_db()
    return site


@pytest.fixture
def mail(smtp_server):
    """A real SMTP server, with CallTally's mail settings pointed at it; returns the server."""
    from calltally.system.forms import MailSettingsForm
    from calltally.system.models import Security
    from calltally.system.services import save_settings

    server = smtp_server()
    form = MailSettingsForm({"host": "127.0.0.1", "port": server.port, "security": Security.NONE,
                             "verify_certificate": True, "username": "", "password": "", "password_env": "",
                             "from_address": "calltally@example.org", "reply_to": "", "timeout": 5})
    assert form.is_valid(), form.errors
    save_settings(None, form)
    return server


class Hook:
    """A local web server that keeps what is posted to it; ``failing`` makes it answer 500."""

    def __init__(self):
        self.posts: list[dict] = []
        self.failing = False
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.failing:
                    self.send_response(500)
                    self.end_headers()
                    return
                hook.posts.append({"json": json.loads(body), "content_type": self.headers["Content-Type"]})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    hook = Hook()
    yield hook
    hook.close()
