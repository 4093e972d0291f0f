"""The rules at work: silent sites, toll-fraud patterns, notifications by mail and webhook, and
two Schedulers checking at once."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal
from email.header import decode_header, make_header

import pytest

from calltally.alerts import services
from calltally.alerts.forms import AlertRuleForm
from calltally.alerts.models import Alert, AlertRule
from calltally.alerts.tests.conftest import make_call, rome
from calltally.directory.models import Person

pytestmark = pytest.mark.django_db


def add_rule(**data) -> AlertRule:
    values = {"enabled": True, "scope": "all"}
    values.update(data)
    form = AlertRuleForm(values)
    assert form.is_valid(), form.errors
    return services.save_rule(form)


def subjects(server) -> list[str]:
    return [str(make_header(decode_header(message["Subject"]))) for message in server.messages]


# --- silent site ----------------------------------------------------------------------------------
def test_the_default_rule_watches_every_site_with_its_own_threshold(hq):
    rule = AlertRule.objects.get(kind="silent-site")
    assert rule.name == "Site silent" and rule.scope == "all" and rule.hours is None
    assert "each site" in rule.parameters_text


def test_a_silent_site_alert_fires_once_and_re_arms_after_reset(hq, mail):
    rule = AlertRule.objects.get(kind="silent-site")
    rule.emails = "noc@example.org"
    rule.save()
    services.run_due(rome(2026, 3, 2, 11, 0))  # three business hours: not yet
    assert not Alert.objects.exists()
    services.run_due(rome(2026, 3, 2, 12, 30))
    services.run_due(rome(2026, 3, 2, 13, 0))
    services.run_due(rome(2026, 3, 2, 16, 0))
    [alert] = Alert.objects.all()
    assert alert.key == "HQ" and alert.state == "open" and alert.details["silent_hours"] == 8.0
    assert alert.last_seen == rome(2026, 3, 2, 16, 0) and alert.notified_at is not None
    assert subjects(mail) == ["CallTally alert: Site silent — HQ"]
    assert "business hours" in mail.messages[0].get_payload()

    services.reset(alert)
    services.run_due(rome(2026, 3, 2, 16, 30))
    assert Alert.objects.filter(state="open").count() == 1 and Alert.objects.count() == 2
    assert len(mail.messages) == 2


def test_a_silent_rule_can_name_its_own_hours_and_business_hours(hq, no_default_rule):
    add_rule(name="HQ quiet", kind="silent-site", scope="site", site="HQ", hours="1",
             business_hours="Mon-Sun 00:00-24:00")
    services.run_due(rome(2026, 3, 2, 9, 30))  # 1.5 hours: silent for the rule, not for the site's 4
    assert Alert.objects.get().details["threshold"] == 1


# --- toll fraud -----------------------------------------------------------------------------------
def normal_day(site, person=None):
    """A working day of ordinary calls: national and mobile, in office hours, a few cents each."""
    for hour in range(9, 18):
        make_call(site, rome(2026, 3, 3, hour, 10), person=person, cost=Decimal("0.12"))
        make_call(site, rome(2026, 3, 3, hour, 40), person=person, category="mobile", e164="+393471234567",
                  remote_number="3471234567", dialled_number="03471234567", cost=Decimal("0.20"))


def premium_burst(site, count=20, person=None):
    """Someone in the PBX at 3 a.m.: premium-rate calls one after another, and abroad."""
    calls = []
    for n in range(count):
        calls.append(make_call(site, rome(2026, 3, 4, 3, 0) + dt.timedelta(minutes=n), person=person,
                               category="premium", e164="+39899123456", remote_number="899123456",
                               dialled_number="0899123456", talk_seconds=900, cost=Decimal("9.50")))
        calls.append(make_call(site, rome(2026, 3, 4, 3, 0, 30) + dt.timedelta(minutes=n), person=person,
                               category="international", e164="+5372012345", remote_number="005372012345",
                               dialled_number="0005372012345", talk_seconds=600, cost=Decimal("6.00")))
    return calls


def test_a_toll_fraud_rule_fires_on_a_burst_of_premium_calls_and_not_on_a_normal_day(hq, mail, no_default_rule):
    add_rule(name="Premium", kind="destination", categories="premium", prefixes="0899, 00881",
             countries="CU", emails="noc@example.org, boss@example.org")
    add_rule(name="Abroad at night", kind="out-of-hours", business_hours="Mon-Fri 08:00-18:00",
             site_holidays="on", emails="noc@example.org")
    normal_day(hq)
    services.run_due(rome(2026, 3, 3, 18, 30))
    assert not Alert.objects.exists() and not mail.messages

    burst = premium_burst(hq)
    services.run_due(rome(2026, 3, 4, 3, 25))
    premium = Alert.objects.get(rule__name="Premium")
    assert premium.key == "HQ" and premium.count == 40  # the premium calls and the calls to Cuba
    assert premium.sample_call_ids == [call.pk for call in burst[:10]]
    assert set(premium.details["reasons"]) == {"prefix 0899", "country CU"}
    night = Alert.objects.get(rule__name="Abroad at night")
    assert night.count == 20 and night.first_seen == rome(2026, 3, 4, 3, 0, 30)
    assert sorted(subjects(mail)) == ["CallTally alert: Abroad at night — HQ", "CallTally alert: Premium — HQ"]
    assert mail.messages[0]["To"] in ("noc@example.org, boss@example.org", "noc@example.org")

    premium_burst(hq, count=3)  # the attack goes on: the open alert grows, nobody is told again
    services.run_due(rome(2026, 3, 4, 3, 40))
    assert Alert.objects.get(rule__name="Premium").count == 46 and len(mail.messages) == 2

    make_call(hq, rome(2026, 4, 6, 11, 0), category="international", e164="+5372012345")  # Easter Monday
    make_call(hq, rome(2026, 4, 7, 11, 0), category="international", e164="+5372012345")  # a working day
    services.run_due(rome(2026, 4, 7, 11, 5))
    assert Alert.objects.get(rule__name="Abroad at night").count == 23 + 1  # the holiday's call only


def test_a_prefix_matches_as_dialled_or_in_e164_and_a_country_is_told_apart_within_a_shared_code(
        hq, no_default_rule):
    add_rule(name="Satellite", kind="destination", prefixes="00881")
    add_rule(name="Caribbean", kind="destination", countries="JM")
    at = rome(2026, 3, 4, 10, 0)
    make_call(hq, at, e164="+881612345678", remote_number="", dialled_number="")  # only its E.164 form
    make_call(hq, at, e164="+18765551234", remote_number="0018765551234")  # Jamaica, in +1
    make_call(hq, at, e164="+12125551234", remote_number="0012125551234")  # New York, in +1 too
    services.run_due(at + dt.timedelta(minutes=5))
    satellite, caribbean = Alert.objects.get(rule__name="Satellite"), Alert.objects.get(rule__name="Caribbean")
    assert satellite.count == 1 and satellite.details["reasons"] == ["prefix 00881"]
    assert caribbean.count == 1 and caribbean.details["numbers"] == ["+18765551234"]


def test_many_calls_to_one_number_within_minutes_fire_once_but_a_day_of_calls_does_not(hq, mail, no_default_rule):
    add_rule(name="Dialler", kind="repeated-number", count="5", minutes="10", emails="noc@example.org")
    for hour in (9, 11, 13, 15, 17):  # the same customer five times in a day
        make_call(hq, rome(2026, 3, 3, hour, 0), e164="+390298765432", remote_number="0298765432")
    services.run_due(rome(2026, 3, 3, 18, 0))
    assert not Alert.objects.exists()

    for n in range(3):  # three calls, then three more in the next check: six within nine minutes
        make_call(hq, rome(2026, 3, 4, 2, n), e164="+882345678901", remote_number="00882345678901")
    services.run_due(rome(2026, 3, 4, 2, 4))
    assert not Alert.objects.exists()
    for n in range(3, 6):
        make_call(hq, rome(2026, 3, 4, 2, 2 * n - 2), e164="+882345678901", remote_number="00882345678901")
    services.run_due(rome(2026, 3, 4, 2, 15))
    alert = Alert.objects.get()
    assert alert.key == "+882345678901" and alert.count == 6 and alert.details["window_minutes"] == 10
    assert subjects(mail) == ["CallTally alert: Dialler — +882345678901"]


def test_a_persons_day_far_above_their_usual_fires_but_an_ordinary_day_does_not(hq, mail, no_default_rule):
    ann = Person.objects.create(username="ann", site=hq)
    for day in range(1, 31):  # a month of two euros a day
        make_call(hq, rome(2026, 3, day, 10, 0), person=ann, cost=Decimal("2.00"))
    add_rule(name="Spike", kind="cost-spike", factor="5", baseline_days="30", floor="20", currency="EUR",
             emails="noc@example.org")
    make_call(hq, rome(2026, 3, 31, 10, 0), person=ann, cost=Decimal("9.00"))  # a busy day, not a spike
    services.run_due(rome(2026, 3, 31, 12, 0))
    assert not Alert.objects.exists()

    make_call(hq, rome(2026, 3, 31, 23, 0), person=ann, cost=Decimal("45.00"))
    services.run_due(rome(2026, 3, 31, 23, 5))
    alert = Alert.objects.get()
    assert alert.key == "ann"
    assert alert.details["today"] == "54.00" and alert.details["usual"] == "2.00"
    assert alert.details["threshold"] == "20.00"  # the floor: 5 × 2.00 is less
    assert subjects(mail) == ["CallTally alert: Spike — ann"]


def test_costly_and_long_calls_are_alerted_per_person_in_the_rules_scope(hq, no_default_rule, make_site):
    other = make_site("MIL", timezone="Europe/Rome")
    add_rule(name="Costly", kind="call-cost", cost="5", currency="EUR", scope="site", site="HQ")
    add_rule(name="Long", kind="call-duration", duration="3600")
    make_call(hq, rome(2026, 3, 4, 10, 0), cost=Decimal("7.00"), extension_number="205")
    make_call(other, rome(2026, 3, 4, 10, 0), cost=Decimal("70.00"), talk_seconds=4000)
    services.run_due(rome(2026, 3, 4, 10, 5))
    assert [(a.rule.name, a.key) for a in Alert.objects.order_by("rule__name")] == [
        ("Costly", "HQ ext 205"), ("Long", "MIL ext 101")]


def test_a_new_rule_ignores_the_calls_already_stored_and_old_calls_made_again(hq, no_default_rule):
    make_call(hq, rome(2026, 3, 4, 10, 0), cost=Decimal("70.00"))
    add_rule(name="Costly", kind="call-cost", cost="5")
    make_call(hq, rome(2026, 2, 1, 10, 0), cost=Decimal("70.00"))  # a recalculation's new row of an old call
    services.run_due(rome(2026, 3, 4, 10, 5))
    assert not Alert.objects.exists()
    assert AlertRule.objects.get(name="Costly").last_call_id == services.last_call_id()


def test_the_checks_read_the_calls_in_a_few_queries_whatever_their_number(hq, no_default_rule,
                                                                          django_assert_max_num_queries):
    add_rule(name="Premium", kind="destination", categories="premium", prefixes="0899", countries="CU")
    add_rule(name="Dialler", kind="repeated-number", count="5", minutes="10")
    premium_burst(hq, count=6)  # both rules raise their alerts, as they will on the large burst
    with django_assert_max_num_queries(40) as few:
        services.run_due(rome(2026, 3, 4, 3, 25))
    Alert.objects.all().delete()
    premium_burst(hq, count=150)
    with django_assert_max_num_queries(len(few.captured_queries)):
        services.run_due(rome(2026, 3, 4, 5, 0))


def test_a_rule_far_behind_reads_the_calls_in_batches_and_misses_none(hq, no_default_rule, monkeypatch):
    monkeypatch.setattr(services, "BATCH", 7)
    rule = add_rule(name="Premium", kind="destination", categories="premium")
    burst = premium_burst(hq, count=12)  # 24 calls: four batches
    services.run_due(rome(2026, 3, 4, 3, 30))
    alert = Alert.objects.get()
    assert alert.count == 12 and alert.sample_call_ids == [call.pk for call in burst[::2][:10]]
    rule.refresh_from_db()
    assert rule.last_call_id == burst[-1].pk and rule.claimed_by == ""


# --- telling people -------------------------------------------------------------------------------
def test_the_webhook_receives_the_alert_as_json(hq, webhook, no_default_rule):
    add_rule(name="Costly", kind="call-cost", cost="5", webhook=webhook.url)
    call = make_call(hq, rome(2026, 3, 4, 10, 0), cost=Decimal("7.00"), extension_number="205")
    services.run_due(rome(2026, 3, 4, 10, 5))
    [post] = webhook.posts
    assert post["content_type"] == "application/json"
    body = post["json"]
    assert body["rule"] == "Costly" and body["kind"] == "call-cost" and body["key"] == "HQ ext 205"
    assert body["count"] == 1 and body["sample_call_ids"] == [call.pk] and body["site"] == "HQ"
    assert body["details"]["cost"] == "7.00" and body["state"] == "open"


def test_a_failing_webhook_is_tried_again_without_mailing_twice(hq, webhook, mail, no_default_rule):
    webhook.failing = True
    add_rule(name="Costly", kind="call-cost", cost="5", webhook=webhook.url, emails="noc@example.org")
    make_call(hq, rome(2026, 3, 4, 10, 0), cost=Decimal("7.00"))
    services.run_due(rome(2026, 3, 4, 10, 5))
    alert = Alert.objects.get()
    assert alert.notified_at is None and "webhook answered 500" in alert.notify_error
    assert len(mail.messages) == 1 and "email" in alert.delivered
    webhook.failing = False
    services.run_due(rome(2026, 3, 4, 10, 6))
    services.run_due(rome(2026, 3, 4, 10, 7))
    alert.refresh_from_db()
    assert alert.notified_at is not None and alert.notify_error == ""
    assert len(webhook.posts) == 1 and len(mail.messages) == 1


def test_an_smtp_failure_is_told_at_the_next_check(hq, mail, no_default_rule, settings):
    from calltally.system.models import MailSettings

    add_rule(name="Costly", kind="call-cost", cost="5", emails="noc@example.org")
    MailSettings.objects.update(port=1)  # nobody listens there
    make_call(hq, rome(2026, 3, 4, 10, 0), cost=Decimal("7.00"))
    services.run_due(rome(2026, 3, 4, 10, 5))
    alert = Alert.objects.get()
    assert alert.notified_at is None and alert.notify_error.startswith("email: the mail was not sent")
    MailSettings.objects.update(port=mail.port)
    services.run_due(rome(2026, 3, 4, 10, 6))
    services.run_due(rome(2026, 3, 4, 10, 7))
    assert len(mail.messages) == 1 and Alert.objects.get().notified_at is not None


def test_a_digest_rule_sends_one_mail_a_day_listing_its_alerts(hq, mail, no_default_rule):
    add_rule(name="Costly", kind="call-cost", cost="5", emails="noc@example.org", digest="on")
    make_call(hq, rome(2026, 3, 4, 10, 0), cost=Decimal("7.00"), extension_number="205")
    make_call(hq, rome(2026, 3, 4, 11, 0), cost=Decimal("8.00"), extension_number="206")
    services.run_due(rome(2026, 3, 4, 11, 5))  # after 07:00 UTC: the day's digest goes now
    services.run_due(rome(2026, 3, 4, 12, 0))
    make_call(hq, rome(2026, 3, 4, 13, 0), cost=Decimal("8.00"), extension_number="207")
    services.run_due(rome(2026, 3, 4, 13, 5))  # waits for tomorrow's digest
    assert subjects(mail) == ["CallTally alerts of 2026-03-04: Costly (2)"]
    services.run_due(rome(2026, 3, 5, 6, 0))  # 05:00 UTC: not yet
    services.run_due(rome(2026, 3, 5, 9, 0))
    assert subjects(mail)[1:] == ["CallTally alerts of 2026-03-05: Costly (1)"]
    assert "HQ ext 207" in mail.messages[1].get_payload()


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_checking_at_once_raise_and_notify_once(hq, mail, no_default_rule, monkeypatch):
    add_rule(name="Premium", kind="destination", categories="premium", emails="noc@example.org")
    add_rule(name="Costly", kind="call-cost", cost="5", emails="noc@example.org")
    premium_burst(hq, count=5)
    slow_deliver = services.deliver

    def deliver(*args, **kwargs):
        time.sleep(0.2)  # a slow SMTP server: the other Scheduler comes by meanwhile
        slow_deliver(*args, **kwargs)

    monkeypatch.setattr(services, "deliver", deliver)
    start = threading.Barrier(2)
    results = []

    def scheduler(name):
        start.wait()
        try:
            results.append(services.run_due(rome(2026, 3, 4, 3, 30), worker=name))
        finally:
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=scheduler, args=(name,)) for name in ("host-a:1", "host-b:2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 2
    assert Alert.objects.count() == 2 and sorted(subjects(mail)) == [
        "CallTally alert: Costly — HQ ext 101", "CallTally alert: Premium — HQ"]
    services.run_due(rome(2026, 3, 4, 3, 31), worker="host-a:1")
    assert len(mail.messages) == 2


def test_a_rule_another_scheduler_holds_is_left_alone(hq, no_default_rule):
    from calltally import claims

    rule = add_rule(name="Costly", kind="call-cost", cost="5")
    make_call(hq, rome(2026, 3, 4, 10, 0), cost=Decimal("7.00"))
    at = rome(2026, 3, 4, 10, 5)
    assert claims.claim(AlertRule.objects.all(), rule.pk, "other-host:99", at=at)
    assert services.run_due(at, worker="here:1").startswith("0 rules checked")
    assert not Alert.objects.exists()
    claims.release(AlertRule.objects.all(), rule.pk, "other-host:99")
    assert services.run_due(at, worker="here:1").startswith("1 rule checked, 1 alert raised")


def test_a_rule_left_by_a_killed_scheduler_is_checked_again_from_where_it_was(hq, no_default_rule, mail):
    import socket
    import subprocess
    import sys

    from calltally import claims

    rule = add_rule(name="Costly", kind="call-cost", cost="5", emails="noc@example.org")
    make_call(hq, rome(2026, 3, 4, 10, 0), cost=Decimal("7.00"))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    killed = f"{socket.gethostname()}:{gone.stdout.strip()}"  # a Scheduler of this host that is no more
    at = rome(2026, 3, 4, 10, 5)
    assert claims.claim(AlertRule.objects.all(), rule.pk, killed, at=at)
    assert services.run_due(at).startswith("1 rule checked, 1 alert raised")  # no need to wait for its lease
    rule.refresh_from_db()
    assert rule.claimed_by == "" and len(mail.messages) == 1
