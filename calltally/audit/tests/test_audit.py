"""The audit trail: what an event keeps, secrets blanked, client addresses, and `calltally audit list`."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.test import RequestFactory, override_settings

from calltally.audit import services as audit
from calltally.audit.addresses import client_address, valid_address
from calltally.audit.choices import Action
from calltally.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def request_from(address="192.0.2.5", user=None, **meta):
    request = RequestFactory().get("/", REMOTE_ADDR=address, **meta)
    request.user = user or SimpleNamespace(is_authenticated=False)
    return request


def test_an_event_keeps_the_account_the_address_and_the_object(make_site):
    user = get_user_model().objects.create_user("olga")
    site = make_site("ROM")
    before = audit.snapshot(site)
    site.name = "Roma"
    event = audit.record(request_from(user=user), Action.UPDATE, obj=site, before=before,
                         after=audit.snapshot(site), note="renamed")
    event.refresh_from_db()
    assert (event.user, event.username, event.address) == (user, "olga", "192.0.2.5")
    assert (event.object_type, event.object_id, event.object_text) == ("sites.site", str(site.pk), str(site))
    assert (event.before["name"], event.after["name"]) == ("Site ROM", "Roma")
    assert event.details == {"note": "renamed"}


def test_secrets_are_blanked_at_any_depth_but_an_empty_one_stays_empty():
    event = audit.record(None, Action.CONFIGURATION, before={"smtp": {"password": "", "host": "a"}},
                         after={"smtp": {"password": "hunter2", "host": "b"}, "api_key": "k"},
                         token="t0k3n")
    assert event.before == {"smtp": {"password": "", "host": "a"}}
    assert event.after == {"smtp": {"password": audit.REDACTED, "host": "b"}, "api_key": audit.REDACTED}
    assert event.details == {"token": audit.REDACTED}
    assert "hunter2" not in json.dumps(event.after)


def test_values_of_every_kind_are_kept_as_json():
    event = audit.record(None, Action.RECALCULATE, amount=Decimal("1.2500"), day=dt.date(2026, 3, 2),
                         raw=b"\x00\x01", ratio=float("nan"), codes={"b", "a"})
    event.refresh_from_db()
    assert event.details == {"amount": "1.2500", "day": "2026-03-02", "raw": "<2 bytes>", "ratio": "nan",
                             "codes": ["a", "b"]}


def test_an_unknown_action_is_refused():
    with pytest.raises(ValueError, match="not an audit action"):
        audit.record(None, "teleport")


def test_a_forwarded_address_is_believed_only_behind_the_proxy():
    request = request_from("10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.4, 10.0.0.1")
    assert client_address(request) == "10.0.0.1"
    with override_settings(BEHIND_PROXY=True):
        assert client_address(request) == "198.51.100.4"
        assert client_address(request_from("10.0.0.1", HTTP_X_FORWARDED_FOR="not an address")) is None


def test_addresses_are_normalised_and_garbage_is_dropped():
    assert valid_address("192.0.2.7:51234") == "192.0.2.7"
    assert valid_address("[2001:db8::1]:443") == "2001:db8::1"
    assert valid_address("2001:DB8:0::1") == "2001:db8::1"
    assert valid_address("<script>") is None


def test_audit_list_prints_json_newest_first_in_utc_and_filters(cli):
    old = audit.record(None, Action.SIGN_IN_FAILED, username="mallory")
    AuditEvent.objects.filter(pk=old.pk).update(when=dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC))
    audit.record(None, Action.EXPORT, username="olga", what="calls")
    rows = json.loads(cli("audit", "list", "--json"))
    assert [row["action"] for row in rows] == ["export", "sign_in_failed"]
    assert rows[1]["when"] == "2026-01-05T10:00:00Z"
    assert rows[0]["details"] == {"what": "calls"}
    assert set(rows[0]) >= {"id", "when", "username", "address", "action", "object_type", "before", "after"}
    assert [row["username"] for row in json.loads(cli("audit", "list", "--json", "--action", "sign_in_failed"))] \
        == ["mallory"]
    assert json.loads(cli("audit", "list", "--json", "--user", "mallory", "--since", "2026-02-01")) == []
    assert len(json.loads(cli("audit", "list", "--json", "--limit", "1"))) == 1
    text = cli("audit", "list")
    assert "sign_in_failed" in text and "2 audit events" in text


def test_audit_list_explains_a_wrong_date(cli):
    with pytest.raises(CommandError, match="not a date"):
        cli("audit", "list", "--since", "yesterday")
