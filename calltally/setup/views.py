"""The setup wizard (/setup/): a new PBX from its site to its tariff, for administrators.

Steps: the site's name and code → its PBX (the driver, detected from a sample if wanted) → how its
records arrive (a connection, tested) → extensions and internal calls → country, time zone, currency,
access codes → tariff → finish. Each step is checked by the form the rest of CallTally uses — the site
form of `calltally site add`, the connection form of `calltally connection add`, the tariff readers
of `calltally tariff load` — and kept in the session: nothing is written until the last step, which
stores the site, its connection and its tariff in one transaction, audits them, and says where the PBX
must send its records. The running Recorder starts the new connection within seconds.
"""

from __future__ import annotations

import json
import secrets

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.collectors import COLLECTOR_PATHS, endpoints, probe, schema
from calltally.collectors.base import ConfigError
from calltally.collectors.choices import ConnectionKind
from calltally.collectors.forms import ConnectionForm, checked_parameters
from calltally.collectors.models import Connection
from calltally.rating.models import TariffPlan
from calltally.rating.planfile import PlanFileError
from calltally.services.control import RUNNING, service_state
from calltally.services.models import ServiceHeartbeat
from calltally.sites.forms import BOOLEANS, IDENTITY, LOCALE, NUMBERING, PBX, SiteForm
from calltally.sites.models import Site
from calltally.webkit import views as kit

from .forms import DetectForm, TariffForm, forget_upload, store_tariff

STEPS = (
    ("site", "Site"),
    ("pbx", "PBX"),
    ("connection", "How records arrive"),
    ("numbering", "Extensions"),
    ("locale", "Country, time and money"),
    ("tariff", "Tariff"),
    ("review", "Finish"),
)
ORDER = [slug for slug, _ in STEPS]
SITE_FIELDS = {"site": IDENTITY, "pbx": PBX, "numbering": NUMBERING, "locale": LOCALE}
STATE = "setup-wizard"  # the session key of the wizard under way
FINISHED = "setup-finished"  # the session key of the last site set up (its secrets shown once)
LISTENERS = ("ftp", "tcp-listen")
# The secrets the PBX itself must be given (the others, CallTally's logins to the PBX, are only typed in).
GIVEN_TO_THE_PBX = {("ftp", "password"), ("http-push", "token")}


class Abort(Exception):
    """Something the last step cannot store: the transaction is rolled back and the message shown."""


def fresh_state() -> dict:
    site = SiteForm.data_of(Site())
    site.update(code="", driver="", country="")
    return {"site": site, "connection": None, "tariff": {"mode": TariffForm.NONE}, "reached": "site",
            "show_once": {}}


def initial_of(data: dict) -> dict:
    """The site data kept (as posted) as an unbound form's initial values."""
    initial = {}
    for name, value in data.items():
        if name in BOOLEANS:
            initial[name] = value == "true"
        elif name == "driver_options":
            try:
                initial[name] = json.loads(value or "{}")
            except ValueError:
                initial[name] = {}
        else:
            initial[name] = value
    return initial


def recorder_running() -> bool:
    return service_state(ServiceHeartbeat.objects.filter(name="recorder").first()) == RUNNING


def finished_context(request, finished: dict) -> dict:
    """What the page shows of the site just set up: where its PBX sends its records, with the password
    or token it must be given — those this once: they leave the session here."""
    site = Site.objects.filter(code=finished["site"]).first()
    connection = (Connection.objects.select_related("state").filter(pk=finished.get("connection")).first()
                  if finished.get("connection") else None)
    shown = finished.pop("show_once", {}) or {}
    finished["seen"] = True
    request.session[FINISHED] = finished
    receiving = None
    if connection is not None:
        receiving = endpoints.where_to_send(connection.kind, connection.parameters, connection.pk, request, shown)
    return {"finished_site": site, "connection": connection, "receiving": receiving, "tariff": finished.get("tariff"),
            "shown": bool(shown), "recorder_running": recorder_running(),
            "connection_state": getattr(connection, "state", None) if connection else None}


class WizardView(kit.Page):
    audience = "administrator"
    title = "Set up a PBX"

    # --- the state kept in the session ---------------------------------------------------------------
    def load(self) -> dict:
        state = self.request.session.get(STATE)
        return state if state else fresh_state()

    def keep(self, state: dict) -> None:
        self.request.session[STATE] = state
        self.request.session.modified = True

    def reach(self, state: dict, step: str) -> None:
        if ORDER.index(step) > ORDER.index(state["reached"]):
            state["reached"] = step

    def breadcrumbs(self):
        return [("Home", reverse("home")), ("Set up a PBX", None)]

    def go(self, step: str):
        return HttpResponseRedirect(reverse("setup:step", args=[step]))

    # --- requests ----------------------------------------------------------------------------------
    def get(self, request, step: str | None = None):
        state = self.load()
        if step is None or step not in ORDER:
            step = state["reached"]
        if ORDER.index(step) > ORDER.index(state["reached"]):
            return self.go(state["reached"])
        return self.show(state, step)

    def post(self, request, step: str | None = None):
        state = self.load()
        step = step if step in ORDER else state["reached"]
        if ORDER.index(step) > ORDER.index(state["reached"]):
            return self.go(state["reached"])
        if step in SITE_FIELDS:
            return self.post_site_step(state, step)
        return getattr(self, f"post_{step}")(state)

    def next_step(self, state: dict, step: str):
        following = ORDER[ORDER.index(step) + 1]
        self.reach(state, following)
        self.keep(state)
        return self.go(following)

    # --- rendering -----------------------------------------------------------------------------------
    def show(self, state: dict, step: str, status: int = 200, **extra):
        context = self.context(
            state=state, step=step, step_label=dict(STEPS)[step],
            steps=[{"slug": slug, "label": label, "number": n + 1, "current": slug == step,
                    "open": ORDER.index(slug) <= ORDER.index(state["reached"])}
                   for n, (slug, label) in enumerate(STEPS)],
            number=ORDER.index(step) + 1, count=len(STEPS),
            previous=ORDER[ORDER.index(step) - 1] if step != ORDER[0] else None,
            just_finished=self.just_finished() if step == "site" else None,
        )
        if step in SITE_FIELDS and "fields" not in extra:
            form = SiteForm(initial=initial_of(state["site"]))
            extra["fields"] = [form[name] for name in SITE_FIELDS[step]]
        if step == "pbx":
            extra.setdefault("detect_form", DetectForm())
        if step == "connection" and "form" not in extra:
            extra.update(self.connection_context(state, self.connection_form(state, self.request.GET.get("kind"))))
        if step == "tariff" and "form" not in extra:
            extra["form"] = self.tariff_form(state)
        if step == "review":
            extra.update(self.review_context(state))
        context.update(extra)
        return render(self.request, f"setup/step_{step}.html", context, status=status)

    def just_finished(self) -> dict | None:
        """The site a "New PBX" just stored: shown once above the next PBX's first step."""
        finished = self.request.session.get(FINISHED)
        if not finished or not finished.get("another") or finished.get("seen"):
            return None
        return finished_context(self.request, finished)

    # --- the site's steps ------------------------------------------------------------------------------
    def post_site_step(self, state: dict, step: str):
        names = SITE_FIELDS[step]
        data = dict(state["site"])
        if step == "pbx" and "detect" in self.request.POST:
            return self.detect(state)
        for name in names:
            if name in BOOLEANS:
                data[name] = "true" if self.request.POST.get(name) else "false"
            else:
                data[name] = self.request.POST.get(name, "")
        form = SiteForm(data)
        form.is_valid()
        # Only what is asked so far is judged: the country, say, is not wrong before its step.
        asked = [name for slug in ORDER[: ORDER.index(step) + 1] for name in SITE_FIELDS.get(slug, ())]
        here = {name: form.errors[name] for name in names if name in form.errors}
        before = {name: form.errors[name] for name in asked if name not in names and name in form.errors}
        state["site"] = data
        if here or before:
            self.keep(state)
            return self.show(state, step, status=400, fields=[form[name] for name in names],
                             earlier_errors=before)
        return self.next_step(state, step)

    def detect(self, state: dict):
        form = DetectForm(self.request.POST, self.request.FILES)
        if not form.is_valid():
            return self.show(state, "pbx", status=400, detect_form=form)
        candidates = form.candidates()[:5]
        if not candidates:
            form.add_error("sample", "No driver read a call in this sample: is it the PBX's call records? Choose "
                                     "the driver below, or try another sample.")
            return self.show(state, "pbx", status=400, detect_form=form)
        best = candidates[0]
        state["site"]["driver"] = best.driver
        state["site"]["driver_options"] = json.dumps(best.options)
        self.keep(state)
        messages.success(self.request, f"The sample reads best with {best.driver} "
                                       f"({best.confidence:.0%} of its lines understood): chosen below.")
        return self.show(state, "pbx", detect_form=DetectForm(), candidates=candidates)

    # --- how records arrive ---------------------------------------------------------------------------
    def connection_form(self, state: dict, kind: str | None, data=None) -> ConnectionForm:
        kept = state.get("connection") or {}
        kind = kind or kept.get("kind") or ""
        stored = kept.get("parameters") if kept.get("kind") == kind else None
        initial = {}
        if kind in LISTENERS and not stored:
            # A PBX on the network must reach the listener: every address, not only this machine's loopback.
            initial["option_bind"] = "0.0.0.0"
        if kind == "ftp" and not stored:
            initial["option_username"] = f"pbx-{state['site']['code'].lower()}"
        site = Site(code=state["site"]["code"] or "new")
        form = ConnectionForm(data, kind=kind, site=site, stored=stored, initial=initial)
        return form

    def connection_context(self, state: dict, form: ConnectionForm) -> dict:
        return {"form": form, "kind": form.kind, "kinds": [("", "Choose how records arrive…"), *ConnectionKind.choices],
                "option_fields": [field for field in form.visible_fields() if field.name not in ("kind", "enabled")]}

    def post_connection(self, state: dict):
        post = self.request.POST.copy()
        kind = post.get("kind", "")
        post["enabled"] = "on"
        kept = state.get("connection") or {}
        show_once = dict(state.get("show_once") or {})
        same = kept.get("kind") == kind
        if kind == "ftp" and not post.get("option_password") and not (same and kept.get("parameters")):
            # No password typed: one is made, and shown once at the end with the rest of the PBX's settings.
            post["option_password"] = secrets.token_urlsafe(12)
        form = self.connection_form(state, kind, post)
        if not kind or kind not in COLLECTOR_PATHS:
            form.add_error("kind", "Choose how the PBX's records arrive.")
            return self.show(state, "connection", status=400, **self.connection_context(state, form))
        if not form.is_valid():
            return self.show(state, "connection", status=400, **self.connection_context(state, form))
        if not same:
            show_once = {}
        for name in schema.secrets(kind):
            typed = post.get(f"option_{name}")
            if typed and (kind, name) in GIVEN_TO_THE_PBX:
                show_once[name] = typed  # what the PBX must be given, shown once at the end
        if form.generated_token:
            show_once["token"] = form.generated_token
        state["connection"] = {"kind": kind, "parameters": form.instance.parameters}
        state["show_once"] = show_once
        if "test" in self.request.POST:
            outcome = probe.try_connection(kind, form.instance.parameters, None, state["site"]["code"])
            self.keep(state)
            audit.record(self.request, Action.CONFIGURATION, text="setup wizard: connection tested", kind=kind,
                         ok=outcome.ok, result=outcome.text)
            again = self.connection_form(state, kind)
            return self.show(state, "connection", test=outcome, **self.connection_context(state, again))
        return self.next_step(state, "connection")

    # --- tariff ---------------------------------------------------------------------------------------
    def tariff_form(self, state: dict, data=None, files=None) -> TariffForm:
        kept = state.get("tariff") or {}
        plan = TariffPlan.objects.filter(name=kept.get("plan")).first() if kept.get("plan") else None
        return TariffForm(data, files, kept=kept, initial={"mode": kept.get("mode", TariffForm.NONE),
                                                           "plan": plan.pk if plan else None})

    def post_tariff(self, state: dict):
        form = self.tariff_form(state, self.request.POST, self.request.FILES)
        if not form.is_valid():
            return self.show(state, "tariff", status=400, form=form)
        if state.get("tariff", {}).get("path") != form.result.get("path"):
            forget_upload(state.get("tariff"))
        state["tariff"] = form.result
        return self.next_step(state, "tariff")

    # --- the end ----------------------------------------------------------------------------------------
    def review_context(self, state: dict) -> dict:
        site = state["site"]
        connection = state.get("connection") or {}
        kind = connection.get("kind", "")
        return {
            "site": site,
            "driver_options": site.get("driver_options") or "{}",
            "connection_kind": dict(ConnectionKind.choices).get(kind, ""),
            "connection_options": schema.redacted(kind, connection.get("parameters")) if kind else {},
            "tariff": state.get("tariff") or {},
        }

    def post_review(self, state: dict):
        another = "another" in self.request.POST
        try:
            with transaction.atomic():
                site, connection, tariff = self.store(state)
        except Abort as exc:
            return self.show(state, "review", status=400, problem=str(exc))
        audit.record(self.request, Action.CREATE, obj=site, after=audit.snapshot(site))
        if connection is not None:
            after = audit.snapshot(connection, exclude=("parameters",))
            after["parameters"] = schema.redacted(connection.kind, connection.parameters)
            audit.record(self.request, Action.CREATE, obj=connection, after=after)
        audit.record(self.request, Action.CONFIGURATION, obj=site, text=f"setup wizard: site {site.code} set up",
                     connection=connection.pk if connection else None, tariff=tariff)
        forget_upload(state.get("tariff"))
        self.request.session[FINISHED] = {"site": site.code, "connection": connection.pk if connection else None,
                                          "tariff": tariff, "show_once": state.get("show_once") or {},
                                          "another": another}
        self.request.session.pop(STATE, None)
        messages.success(self.request, f"Site {site.code} is set up.")
        if another:
            return HttpResponseRedirect(reverse("setup:step", args=["site"]))
        return HttpResponseRedirect(reverse("setup:finished"))

    def store(self, state: dict):
        """The site, its connection and its tariff, checked once more and stored (inside a transaction)."""
        form = SiteForm(state["site"])
        if not form.is_valid():
            problems = "; ".join(f"{form.fields[name].label if name in form.fields else name}: {' '.join(errors)}"
                                 for name, errors in form.errors.items())
            raise Abort(f"The site's settings are not valid any more: {problems}")
        site = form.save()
        connection = None
        kept = state.get("connection")
        if kept:
            try:
                # Checked again: another connection may have taken the port since the step.
                parameters = checked_parameters(kept["kind"], kept["parameters"], None, True)
            except ConfigError as exc:
                raise Abort(f"The connection cannot be stored: {exc} (go back to “How records arrive”).") from None
            connection = Connection.objects.create(site=site, kind=kept["kind"], parameters=parameters, enabled=True)
        try:
            tariff = store_tariff(site, state.get("tariff") or {})
        except (PlanFileError, ValueError, OSError) as exc:
            raise Abort(f"The tariff cannot be stored: {exc}") from None
        return site, connection, tariff


class RestartView(kit.Page):
    """Start the wizard again, forgetting what was entered (nothing was stored)."""

    audience = "administrator"

    def post(self, request):
        forget_upload((request.session.get(STATE) or {}).get("tariff"))
        request.session.pop(STATE, None)
        messages.info(request, "The wizard starts again; nothing had been stored.")
        return HttpResponseRedirect(reverse("setup:step", args=["site"]))


class FinishedView(kit.Page):
    """Where the PBX of the site just set up must send its records (its secrets shown this once)."""

    audience = "administrator"
    title = "The PBX is set up"

    def breadcrumbs(self):
        return [("Home", reverse("home")), ("Set up a PBX", reverse("setup:wizard")), ("Finished", None)]

    def get(self, request):
        finished = request.session.get(FINISHED)
        if not finished or not Site.objects.filter(code=finished.get("site")).exists():
            return HttpResponseRedirect(reverse("setup:wizard"))
        info = finished_context(request, finished)
        return render(request, "setup/finished.html", self.context(finished_info=info,
                                                                   finished_site=info["finished_site"]))
