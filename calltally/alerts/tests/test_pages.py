"""The alert pages as their users see them: who sees which rule and alert, adding a rule through the
same form as the command, acknowledging and resetting (audited)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from calltally.alerts.models import Alert, AlertRule
from calltally.alerts.tests.conftest import rome
from calltally.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_sites(hq, make_site):
    mil = make_site("MIL", name="Milan", timezone="Europe/Rome")
    hq_rule = AlertRule.objects.create(name="HQ costly", kind="call-cost", cost=5, scope="site", site=hq)
    mil_rule = AlertRule.objects.create(name="MIL costly", kind="call-cost", cost=5, scope="site", site=mil)
    seen = rome(2026, 3, 4, 3, 0)
    Alert.objects.create(rule=hq_rule, key="HQ ext 101", site=hq, first_seen=seen, last_seen=seen, count=3,
                         sample_call_ids=[11, 12], details={"cost": "21.00"}, state="reset")
    hq_alert = Alert.objects.create(rule=hq_rule, key="HQ ext 205", site=hq, first_seen=seen,
                                    last_seen=seen - dt.timedelta(hours=1), count=2, sample_call_ids=[13])
    mil_alert = Alert.objects.create(rule=mil_rule, key="MIL ext 300", site=mil, first_seen=seen, last_seen=seen,
                                     count=1)
    return hq, mil, hq_alert, mil_alert


def rule_data(**values):
    data = {"name": "Night calls", "kind": "out-of-hours", "enabled": "on", "scope": "all",
            "business_hours": "Mon-Fri 08:00-18:00", "emails": "noc@example.org"}
    data.update(values)
    return data


def test_an_administrator_sees_every_rule_and_adds_one_with_the_form(role_client, two_sites):
    admin = role_client("administrator")
    page = admin.get(reverse("alerts:rule_list")).content.decode()
    assert "HQ costly" in page and "MIL costly" in page and "Site silent" in page
    assert admin.get(reverse("alerts:rule_add")).status_code == 200
    refused = admin.post(reverse("alerts:rule_add"), rule_data(business_hours="nights"))
    assert refused.status_code == 400 and "does not read as business hours" in refused.content.decode()
    added = admin.post(reverse("alerts:rule_add"), rule_data())
    assert added.status_code == 302
    rule = AlertRule.objects.get(name="Night calls")
    assert rule.business_hours == "Mon-Fri 08:00-18:00" and rule.email_list == ["noc@example.org"]
    assert AuditEvent.objects.filter(action="create", object_type="alerts.alertrule", object_id=str(rule.pk)).exists()
    edit = admin.get(reverse("alerts:rule_edit", args=[rule.pk])).content.decode()
    assert "Delete rule" in edit and "Mon-Fri 08:00-18:00" in edit
    confirm = admin.get(reverse("alerts:rule_delete", args=[rule.pk])).content.decode()
    assert f'href="{reverse("alerts:rule_edit", args=[rule.pk])}">Cancel' in confirm
    assert admin.post(reverse("alerts:rule_delete", args=[rule.pk])).status_code == 302
    assert not AlertRule.objects.filter(name="Night calls").exists()


def test_a_site_administrator_sees_and_changes_only_the_rules_and_alerts_of_their_sites(role_client, two_sites):
    hq, mil, hq_alert, mil_alert = two_sites
    local = role_client("site-admin", sites=[hq])
    rules = local.get(reverse("alerts:rule_list")).content.decode()
    assert "HQ costly" in rules and "MIL costly" not in rules and "Site silent" not in rules
    mil_rule = AlertRule.objects.get(name="MIL costly")
    assert local.get(reverse("alerts:rule_edit", args=[mil_rule.pk])).status_code == 404
    assert local.post(reverse("alerts:rule_delete", args=[mil_rule.pk])).status_code == 404
    everywhere = local.post(reverse("alerts:rule_add"), rule_data())
    assert everywhere.status_code == 400 and AlertRule.objects.filter(name="Night calls").count() == 0
    other_site = local.post(reverse("alerts:rule_add"), rule_data(scope="site", site="MIL"))
    assert other_site.status_code == 400 and "there is no site with code" in other_site.content.decode()
    assert local.post(reverse("alerts:rule_add"), rule_data(scope="site", site="HQ")).status_code == 302

    alerts = local.get(reverse("alerts:alert_list")).content.decode()
    assert "HQ ext 205" in alerts and "MIL ext 300" not in alerts
    assert alerts.index("HQ ext 205") < alerts.index("HQ ext 101")  # open first, then the reset one
    assert 'form="alert-actions"' in alerts and "Acknowledge" in alerts
    assert local.post(reverse("alerts:alert_action", args=[mil_alert.pk]), {"action": "ack"}).status_code == 404


def test_acknowledge_and_reset_are_buttons_that_post_and_are_audited(role_client, two_sites):
    hq, mil, hq_alert, mil_alert = two_sites
    local = role_client("site-admin", sites=[hq], username="rosa")
    url = reverse("alerts:alert_action", args=[hq_alert.pk])
    assert local.get(url).status_code == 405
    done = local.post(url, {"action": "ack", "next": reverse("alerts:alert_list") + "?state=acknowledged"})
    assert done.status_code == 302 and done["Location"].endswith("?state=acknowledged")
    hq_alert.refresh_from_db()
    assert hq_alert.state == "acknowledged" and hq_alert.acknowledged_by.username == "rosa"
    page = local.get(reverse("alerts:alert_list")).content.decode()
    assert "by rosa" in page
    local.post(url, {"action": "reset"})
    hq_alert.refresh_from_db()
    assert hq_alert.state == "reset" and hq_alert.reset_by.username == "rosa"
    events = AuditEvent.objects.filter(object_type="alerts.alert", object_id=str(hq_alert.pk), username="rosa")
    assert sorted(event.after["state"] for event in events) == ["acknowledged", "reset"]
    outside = local.post(url, {"action": "reset", "next": "https://elsewhere.example.org/"})
    assert outside["Location"] == reverse("alerts:alert_list")


def test_sample_calls_link_to_the_calls_and_times_show_in_the_sites_zone(role_client, two_sites):
    hq, mil, hq_alert, mil_alert = two_sites
    page = role_client("administrator").get(reverse("alerts:alert_list")).content.decode()
    assert f'href="{reverse("calls:call_detail", args=[13])}"' in page
    assert "?site=HQ&amp;date_from=2026-03-04&amp;date_to=2026-03-04" in page
    assert "2026-03-04 03:00:00 +01:00" in page


@pytest.mark.parametrize("role", ["manager", "user"])
def test_managers_and_users_have_no_alert_pages(role_client, two_sites, role):
    client = role_client(role)
    for name in ("alerts:alert_list", "alerts:rule_list", "alerts:rule_add"):
        assert client.get(reverse(name)).status_code == 403
