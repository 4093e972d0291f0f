"""`calltally alert`: the same form as the web page validates the rules; errors in words."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from calltally.alerts.models import Alert, AlertRule
from calltally.alerts.tests.conftest import make_call
from calltally.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_toll_fraud_rule_is_added_listed_and_removed(cli, hq):
    out = cli("alert", "add", "Premium", "--kind", "destination", "--prefixes", "0900,00881",
              "--categories", "premium", "--countries", "cu", "--site", "HQ", "--email", "noc@example.org",
              "--email", "boss@example.org", "--webhook", "https://hooks.example.org/x", "--digest")
    assert out.startswith("rule Premium added: calls to premium or blocked destinations, prefixes 0900,00881")
    assert "site HQ" in out and "(daily digest)" in out
    rule = AlertRule.objects.get(name="Premium")
    assert rule.country_list == ["CU"] and rule.email_list == ["noc@example.org", "boss@example.org"]
    listed = {item["name"]: item for item in json.loads(cli("alert", "list", "--json"))}
    assert listed["Premium"]["site"] == "HQ" and listed["Premium"]["digest"] is True
    assert listed["Site silent"]["kind"] == "silent-site"
    assert "Premium: calls to premium" in cli("alert", "list")
    assert AuditEvent.objects.filter(action="create", object_type="alerts.alertrule", object_text="Premium").exists()
    assert "rule Premium removed" in cli("alert", "remove", "Premium")
    assert not AlertRule.objects.filter(name="Premium").exists()
    assert AuditEvent.objects.filter(action="delete", object_type="alerts.alertrule").exists()


@pytest.mark.parametrize(("args", "words"), [
    (("--kind", "call-cost"), "cost: Required for call cost above an amount"),
    (("--kind", "destination"), "prefixes: Name prefixes, countries or categories"),
    (("--kind", "repeated-number", "--count", "5"), "minutes: Required"),
    (("--kind", "out-of-hours", "--business-hours", "weekdays 8-6"), "does not read as business hours"),
    (("--kind", "destination", "--categories", "naughty"), "Unknown categories naughty"),
    (("--kind", "call-cost", "--cost", "5", "--email", "not-an-address"), "'not-an-address' is not an e-mail"),
    (("--kind", "call-cost", "--cost", "5", "--site", "NOPE"), "there is no site with code 'NOPE'"),
    (("--kind", "silent-site", "--person", "ann"), "there is no person"),
])
def test_a_wrong_rule_is_refused_in_words(cli, hq, args, words):
    with pytest.raises(CommandError) as refused:
        cli("alert", "add", "Wrong", *args)
    assert words in str(refused.value)
    assert not AlertRule.objects.filter(name="Wrong").exists()


def test_a_name_is_used_once(cli, hq):
    cli("alert", "add", "Costly", "--kind", "call-cost", "--cost", "5")
    with pytest.raises(CommandError, match="name: Alert rule with this Name already exists"):
        cli("alert", "add", "Costly", "--kind", "call-cost", "--cost", "9")


def test_alerts_are_checked_listed_acknowledged_and_reset(cli, hq, no_default_rule):
    cli("alert", "add", "Costly", "--kind", "call-cost", "--cost", "5", "--currency", "EUR")
    make_call(hq, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30), cost=Decimal("7.00"), extension_number="205")
    assert "1 rule checked, 1 alert raised" in cli("alert", "check")
    alert = Alert.objects.get()
    [listed] = json.loads(cli("alert", "alerts", "--open", "--json"))
    assert listed["id"] == alert.pk and listed["key"] == "HQ ext 205" and listed["state"] == "open"
    assert f"#{alert.pk} [open] Costly: HQ ext 205" in cli("alert", "alerts")
    assert "acknowledged" in cli("alert", "ack", str(alert.pk))
    with pytest.raises(CommandError, match="is acknowledged, not open"):
        cli("alert", "ack", str(alert.pk))
    assert "reset: the rule fires again" in cli("alert", "reset", str(alert.pk))
    assert json.loads(cli("alert", "alerts", "--open", "--json")) == []
    assert AuditEvent.objects.filter(action="update", object_type="alerts.alert", after__state="reset").exists()
    with pytest.raises(CommandError, match="no alert #999"):
        cli("alert", "reset", "999")


@pytest.mark.django_db(transaction=True)
def test_the_real_command_line_exits_non_zero_with_words_not_a_traceback(cli_process, hq):
    done = cli_process("alert", "add", "X", "--kind", "call-duration")
    assert done.returncode != 0 and "duration: Required" in done.stderr and "Traceback" not in done.stderr
    done = cli_process("alert", "add", "Long", "--kind", "call-duration", "--duration", "3600")
    assert done.returncode == 0, done.stderr
    assert "talk above 3600 s" in done.stdout
