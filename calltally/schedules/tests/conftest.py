"""The reports' small world (two sites, a cost-center tree, people and March 2026 calls), with
managers and e-mail addresses, and CallTally's mail settings pointed at a test SMTP server."""

from __future__ import annotations

import datetime as dt

import pytest

from calltally.reports.tests.conftest import make_call, world  # noqa: F401  (fixtures shared with the reports)
from calltally.system.forms import MailSettingsForm
from calltally.system.services import save_settings

UTC = dt.UTC
# 1 April 2026, 07:00 in Rome: the first monthly occurrence after March, whose "last month" is March.
APRIL_FIRST = dt.datetime(2026, 4, 1, 5, 0, tzinfo=UTC)


def configure_mail(port: int, **fields):
    data = {"host": "127.0.0.1", "port": port, "security": "none", "verify_certificate": True, "username": "",
            "password": "", "password_env": "", "from_address": "calltally@example.org", "reply_to": "",
            "timeout": 5}
    data.update(fields)
    form = MailSettingsForm(data)
    assert form.is_valid(), form.errors
    return save_settings(None, form)


@pytest.fixture
def office(world):  # noqa: F811
    """The world, with Alice managing SALES (and so NORTH below it) and Mark managing MARKETING."""
    for name in ("alice", "nora", "mark"):
        person = world[name]
        person.email = f"{name}@example.org"
        person.save()
    world["sales"].manager = world["alice"]
    world["sales"].save()
    world["marketing"].manager = world["mark"]
    world["marketing"].save()
    return world


@pytest.fixture
def mail_server(smtp_server):
    server = smtp_server()
    configure_mail(server.port)
    return server
