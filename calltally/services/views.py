"""The operations pages of the services app: system status, the service manager, diagnostics.

Each page shows what the CLI shows, from the same code: the status page reads
``status.site_status`` and ``control.services`` as `calltally status` does, the
service manager asks through ``control.ask`` as `calltally service` does (a
request on the service's row that `calltally up` acts on), and the diagnostics
download is the bundle ``diagnostics.build`` writes for `calltally diagnose`.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.calls.choices import DiscardReason
from calltally.sites.models import Site
from calltally.webkit.views import Page

from . import control, diagnostics, status, today
from .management.commands.status import size_text


def plain(text: str) -> str:
    """A CLI sentence for a page: the backticks around command names are a terminal's quotes."""
    return text.replace("`", "")


# The status pages fetch themselves again this often (calltally.js, data-refresh).
REFRESH_SECONDS = 10
# What each service does, said beside its buttons.
ROLES = {
    "web": "this web interface",
    "recorder": "receives the raw records from the PBXs into the spool",
    "miner": "turns new raw records into calls and discarded calls",
    "scheduler": "periodic jobs: the silent-site alarm, the directory sync, report e-mails",
    control.SUPERVISOR: "`calltally up` itself, which starts, stops and restarts the others",
}
# The states' meanings, as `calltally service list --help` gives them.
STATES = {state: plain(meaning) for state, meaning in control.STATES.items()}
# Connection states the Recorder writes that mean "working" or "not yet", for their badge colour.
CONNECTION_OK = {"listening", "connected", "polling", "receiving"}


def url_or_none(name: str, *args, query: str = "") -> str | None:
    """A page's URL, or None while the app that owns it has no such page."""
    try:
        return reverse(name, args=args) + (f"?{query}" if query else "")
    except NoReverseMatch:
        return None


def service_rows(now: dt.datetime) -> tuple[list[dict], bool]:
    """Every service as `calltally service list` describes it, with what the pages add; and
    whether `calltally up` runs (its own row, read in the same query)."""
    rows = control.services(now)
    supervised = any(item["name"] == control.SUPERVISOR and item["state"] == control.RUNNING for item in rows)
    for item in rows:
        item["role"] = plain(ROLES.get(item["name"], ""))
        item["age_text"] = control.format_seconds(item["heartbeat_age_seconds"])
        item["uptime_text"] = control.format_seconds(item["uptime_seconds"])
        item["error_line"] = ((item["last_error"] or "").strip().splitlines()[-1:] or [""])[0]
        item["controllable"] = item["name"] in control.SERVICES
    return rows, supervised


@method_decorator(never_cache, name="dispatch")
class StatusView(Page):
    """Every site the account runs and every service, as `calltally status` reports them."""

    title = "System status"
    audience = "runs-sites"
    template_name = "services/status.html"

    def breadcrumbs(self):
        return [("Home", reverse("home")), (self.title, None)]

    def get(self, request):
        now = control.now()
        sites = list(Site.objects.filter(self.scope.sites()).order_by("code"))
        reasons = dict(DiscardReason.choices)
        links = {
            "discarded": url_or_none("calls:discarded_list"),
            "undefined": url_or_none("directory:undefined_list"),
            "connections": url_or_none("collectors:connection_list"),
            "spool": url_or_none("spool:viewer"),
        }
        rows = []
        # site_status keeps the order of the sites it is given; its few queries do not grow with them.
        for site, item in zip(sites, status.site_status(now, sites=sites), strict=True):
            item["zone"] = site.zone
            item["today_label"] = today.label(site)
            item["discards"] = [
                {"reason": reason, "label": reasons.get(reason, reason), "count": count}
                for reason, count in sorted(item["discarded_today"].items())]
            item["discarded_total"] = sum(item["discarded_today"].values())
            item["spool_text"] = size_text(item["spool_bytes"])
            item["backlog_text"] = size_text(item["backlog_bytes_today"]) if item["backlog_bytes_today"] else ""
            for conn in item["connections"]:
                conn["tone"] = "ok" if conn["state"] in CONNECTION_OK else conn["state"]
                conn["error_line"] = (conn["last_error"].strip().splitlines()[-1:] or [""])[0]
            code = site.code
            item["links"] = {
                "site": url_or_none("sites:site_detail", code),
                "discarded": links["discarded"] and f"{links['discarded']}?site={code}",
                "undefined": links["undefined"] and f"{links['undefined']}?site={code}",
                "connections": links["connections"] and f"{links['connections']}?site={code}",
                "spool": links["spool"] and f"{links['spool']}?site={code}",
            }
            rows.append(item)
        services, supervised = service_rows(now)
        return render(request, self.template_name, self.context(
            sites=rows, silent=[row for row in rows if row["silent"]],
            problems=[row for row in rows if row["reading_problem"]],
            services=services, supervised=supervised, states=STATES,
            # Service errors may name any site's data: only administrators read them.
            show_errors=self.scope.is_administrator, now=now, server_zone=timezone.get_current_timezone(),
            refresh=REFRESH_SECONDS, today_rule=today.RULE, stale_seconds=control.STALE_SECONDS,
            manager_url=url_or_none("services:manager") if self.scope.is_administrator else None,
        ))


@method_decorator(never_cache, name="dispatch")
class ManagerView(Page):
    """Start, stop and restart the services of `calltally up`, as `calltally service` does."""

    title = "Service manager"
    audience = "administrator"
    template_name = "services/manager.html"

    def breadcrumbs(self):
        return [("Home", reverse("home")), (self.title, None)]

    def get(self, request):
        now = control.now()
        services, supervised = service_rows(now)
        return render(request, self.template_name, self.context(
            services=[item for item in services if item["controllable"]],
            supervisor=next((item for item in services if item["name"] == control.SUPERVISOR), None),
            supervised=supervised, states=STATES, now=now, refresh=REFRESH_SECONDS,
            server_zone=timezone.get_current_timezone(), data_dir=settings.DATA_DIR,
        ))

    def post(self, request):
        name, action = request.POST.get("service", ""), request.POST.get("action", "")
        try:
            before = control.ask(name, action)
        except control.Refused as exc:
            messages.error(request, f"Nothing was done: {plain(str(exc))}")
            return redirect("services:manager")
        audit.record(request, Action.CONFIGURATION, what="service", service=name, service_action=action,
                     pid=before.pid if before else None)
        if name == "web" and action == "stop":
            messages.warning(request, "The web service is stopping: these pages stop answering. Start it again "
                                      "from a shell with: calltally service start web")
        else:
            messages.success(request, f"{action.capitalize()} of {name} requested: calltally up acts on it "
                                      "within a second; this page shows the new state.")
        return redirect("services:manager")


class DiagnosticsView(Page):
    """The support bundle of `calltally diagnose`, downloaded from the browser."""

    title = "Diagnostics"
    audience = "administrator"
    template_name = "services/diagnostics.html"

    def breadcrumbs(self):
        return [("Home", reverse("home")), (self.title, None)]

    def get(self, request):
        return render(request, self.template_name, self.context(
            contents=diagnostics.CONTENTS, redacted=diagnostics.REDACTED))

    def post(self, request):
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        name = f"calltally-diagnostics-{stamp}.zip"
        folder = tempfile.mkdtemp(prefix="calltally-diagnose-")
        path = os.path.join(folder, name)
        try:
            files = diagnostics.build(Path(path))
            handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it once sent
            size = os.fstat(handle.fileno()).st_size
        finally:
            # The open handle keeps the content readable; nothing is left on disk after the response.
            if os.path.exists(path):
                os.unlink(path)
            os.rmdir(folder)
        audit.record(request, Action.DOWNLOAD, what="diagnostics bundle", file=name, files=len(files), bytes=size)
        return FileResponse(handle, as_attachment=True, filename=name, content_type="application/zip")

