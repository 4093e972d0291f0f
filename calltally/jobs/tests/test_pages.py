"""The job pages: recalculate, the list, a job's progress and result, reprocess, cancel — by role."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from calltally.audit.models import AuditEvent
from calltally.calls.models import Call
from calltally.jobs import services
from calltally.jobs.models import Job, Kind, State
from calltally.services.models import ServiceHeartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def rome(make_site):
    return make_site("ROME")


def test_recalculation_via_the_page_changes_costs_after_a_tariff_change(priced, cli, admin_client):
    priced.plan_file.write_text(priced.plan_file.read_text().replace('"0.0300"', '"0.0600"'))
    cli("tariff", "load", str(priced.plan_file))
    response = admin_client.post(reverse("jobs:recalculate"), {"site": "HQ", "first": "2026-03-02",
                                                                 "last": "2026-03-02"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("jobs:job_detail", args=[job.pk])
    assert (job.kind, job.site, job.first, job.last) == (Kind.RECALCULATE, priced, dt.date(2026, 3, 2),
                                                         dt.date(2026, 3, 2))
    assert Call.objects.get(direction="outbound").cost == Decimal("0.1100")  # queued, not run yet
    assert cli("job", "run").startswith(f"job #{job.pk} recalculate")
    assert Call.objects.get(direction="outbound").cost == Decimal("0.1700")
    page = admin_client.get(reverse("jobs:job_detail", args=[job.pk])).content.decode()
    assert 'data-progress="100"' in page and "Succeeded" in page
    assert "Calls stored" in page and "data-refresh" not in page  # finished: the page stops refreshing
    event = AuditEvent.objects.get(action="recalculate", details__stage="submitted")
    assert event.username == "admin" and event.object_id == str(job.pk)


def test_the_recalculate_form_comes_filled_in_from_the_link_other_pages_make(priced, admin_client):
    page = admin_client.get(reverse("jobs:recalculate") + "?site=HQ&from=2026-03-01&to=2026-03-31").content.decode()
    assert '<option value="HQ" selected>' in page
    assert 'value="2026-03-01"' in page and 'value="2026-03-31"' in page


def test_a_period_ending_before_it_starts_is_refused_on_the_page(priced, admin_client):
    response = admin_client.post(reverse("jobs:recalculate"), {"site": "HQ", "first": "2026-03-02",
                                                                 "last": "2026-03-01"})
    assert response.status_code == 400 and "ends before it starts" in response.content.decode()
    assert not Job.objects.exists()


def test_the_same_recalculation_twice_is_refused_naming_the_first(priced, admin_client):
    admin_client.post(reverse("jobs:recalculate"), {"site": "HQ"})
    response = admin_client.post(reverse("jobs:recalculate"), {"site": "HQ"})
    first = Job.objects.get()
    assert response.status_code == 400 and f"job #{first.pk}" in response.content.decode()


def test_a_running_job_shows_its_progress_and_refreshes(priced, admin_client):
    job = services.submit(Kind.RECALCULATE, priced)
    services.claim(job, "elsewhere:1")
    Job.objects.filter(pk=job.pk).update(done=1, total=4)
    page = admin_client.get(reverse("jobs:job_detail", args=[job.pk])).content.decode()
    assert 'id="job-progress" data-refresh="2"' in page and 'data-progress="25"' in page
    assert "1 of 4 records made again" in page


def test_without_a_scheduler_the_page_says_the_job_waits_and_how_to_start_it(priced, admin_client):
    job = services.submit(Kind.RECALCULATE, priced)
    page = admin_client.get(reverse("jobs:job_detail", args=[job.pk])).content.decode()
    assert "waits for the Scheduler" in page and "calltally up" in page and "calltally job run" in page


def test_with_a_scheduler_running_the_page_does_not_say_it_waits(priced, admin_client):
    import os
    import socket

    now = services.now()
    ServiceHeartbeat.objects.create(name="scheduler", pid=os.getpid(), host=socket.gethostname(), started=now,
                                    beat=now)
    job = services.submit(Kind.RECALCULATE, priced)
    page = admin_client.get(reverse("jobs:job_detail", args=[job.pk])).content.decode()
    assert "waits for the Scheduler" not in page and "starts it within seconds" in page


def test_a_failed_job_keeps_its_message(priced, admin_client):
    job = services.submit(Kind.RECALCULATE, priced)
    Job.objects.filter(pk=job.pk).update(state=State.FAILED, message="Failed after 3 records: OSError: disk full")
    page = admin_client.get(reverse("jobs:job_detail", args=[job.pk])).content.decode()
    assert "OSError: disk full" in page and "Cancel job" not in page


def test_reprocess_posts_a_job_for_the_site_and_shows_it(priced, admin_client):
    response = admin_client.post(reverse("jobs:reprocess"), {"site": "HQ", "reason": "extension_not_configured"})
    job = Job.objects.get()
    assert response["Location"] == reverse("jobs:job_detail", args=[job.pk])
    assert (job.kind, job.site, job.reason) == (Kind.REPROCESS, priced, "extension_not_configured")
    assert AuditEvent.objects.filter(action="reprocess", details__stage="submitted").count() == 1
    # Posted again while it waits: the page of the same job, no second one.
    again = admin_client.post(reverse("jobs:reprocess"), {"site": "HQ", "reason": "extension_not_configured"})
    assert again["Location"] == reverse("jobs:job_detail", args=[job.pk]) and Job.objects.count() == 1


def test_reprocess_answers_no_get(priced, admin_client):
    assert admin_client.get(reverse("jobs:reprocess")).status_code == 405


def test_the_reprocess_button_snippet_posts_the_site_and_reason(priced, rf):
    from django.template.loader import render_to_string

    html = render_to_string("jobs/_reprocess_button.html", {"site": priced, "reason": "extension_not_configured"})
    assert f'action="{reverse("jobs:reprocess")}"' in html
    assert 'name="site" value="HQ"' in html and 'name="reason" value="extension_not_configured"' in html
    assert "data-confirm=" in html


def test_cancelling_a_queued_job_from_its_page(priced, admin_client):
    job = services.submit(Kind.RECALCULATE, priced)
    assert "Cancel job" in admin_client.get(reverse("jobs:job_detail", args=[job.pk])).content.decode()
    admin_client.post(reverse("jobs:job_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == State.CANCELLED and "Cancelled by admin" in job.message


# --- roles -------------------------------------------------------------------------------------
def test_a_site_administrator_submits_for_their_site_but_not_for_another(priced, rome, role_client):
    client = role_client("site-admin", sites=[priced])
    assert client.post(reverse("jobs:recalculate"), {"site": "HQ"}).status_code == 302
    refused = client.post(reverse("jobs:recalculate"), {"site": "ROME"})
    assert refused.status_code == 400 and Job.objects.filter(site=rome).count() == 0
    # Every site is an administrator's choice.
    assert client.post(reverse("jobs:recalculate"), {"site": ""}).status_code == 400
    assert client.post(reverse("jobs:reprocess"), {"site": "ROME"}).status_code == 403
    assert Job.objects.count() == 1


def test_a_site_administrator_is_offered_only_their_sites(priced, rome, role_client):
    page = role_client("site-admin", sites=[rome]).get(reverse("jobs:recalculate")).content.decode()
    assert 'value="ROME"' in page and 'value="HQ"' not in page and "Every site" not in page


def test_a_site_administrator_sees_only_their_sites_jobs(priced, rome, role_client):
    theirs = services.submit(Kind.REPROCESS, rome)
    other = services.submit(Kind.REPROCESS, priced)
    everywhere = services.submit(Kind.REPROCESS, None)
    client = role_client("site-admin", sites=[rome])
    listing = client.get(reverse("jobs:job_list")).content.decode()
    assert f"#{theirs.pk}<" in listing and f"#{other.pk}<" not in listing and f"#{everywhere.pk}<" not in listing
    assert client.get(reverse("jobs:job_detail", args=[other.pk])).status_code == 404
    assert client.post(reverse("jobs:job_cancel", args=[other.pk])).status_code == 404
    export = b"".join(client.get(reverse("jobs:job_list") + "?export=csv").streaming_content).decode()
    assert export.count("\n") == 2  # the header and their one job


@pytest.mark.parametrize("role", ["manager", "user"])
def test_managers_and_users_have_no_job_pages(priced, role, role_client, make_site):
    from calltally.directory.models import CostCenter, Person

    person = Person.objects.create(username="ann", last_name="Ann")
    center = CostCenter.objects.create(code="SALES", name="Sales")
    client = role_client(role, person=person, cost_center=center)
    job = services.submit(Kind.REPROCESS, priced)
    for url in (reverse("jobs:recalculate"), reverse("jobs:job_list"), reverse("jobs:job_detail", args=[job.pk])):
        assert client.get(url).status_code == 403
    assert client.post(reverse("jobs:recalculate"), {"site": "HQ"}).status_code == 403
    assert client.post(reverse("jobs:reprocess"), {"site": "HQ"}).status_code == 403
    assert client.post(reverse("jobs:job_cancel", args=[job.pk])).status_code == 403
    assert Job.objects.count() == 1


def test_the_job_list_makes_as_many_queries_for_many_jobs_as_for_one(priced, admin_client,
                                                                    django_assert_max_num_queries,
                                                                    django_user_model):
    user = django_user_model.objects.create_user("ops")
    services.submit(Kind.REPROCESS, priced, user=user)
    with django_assert_max_num_queries(50) as one:
        admin_client.get(reverse("jobs:job_list"))
    for day in range(1, 29):
        services.submit(Kind.RECALCULATE, priced, first=dt.date(2026, 2, day), user=user)
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = admin_client.get(reverse("jobs:job_list")).content.decode()
    assert page.count("text-bg-secondary") >= 29


def test_an_administrator_may_reprocess_every_site_and_a_site_administrator_may_not(priced, admin_client,
                                                                                    role_client):
    from django.template.loader import render_to_string

    html = render_to_string("jobs/_reprocess_button.html", {"site": None})
    assert 'name="site"' not in html and "every site" in html
    admin_client.post(reverse("jobs:reprocess"), {})
    assert Job.objects.get().site is None
    assert role_client("site-admin", sites=[priced]).post(reverse("jobs:reprocess"), {}).status_code == 403
    assert Job.objects.count() == 1


def test_reprocess_with_a_reason_that_does_not_exist_is_a_bad_request(priced, admin_client):
    assert admin_client.post(reverse("jobs:reprocess"), {"site": "HQ", "reason": "bogus"}).status_code == 400
    assert not Job.objects.exists()
