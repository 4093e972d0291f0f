"""The shell's pages: the billing home (the landing page), signing in and out, changing one's
password, and ``/healthz`` for monitoring.

Every page except ``/healthz`` and the sign-in page needs a signed-in account (Django's
``LoginRequiredMiddleware`` is on in settings); what a page shows is narrowed by the
account's scope (``calltally.accounts.scope``), as on every app's pages. Each app serves
its own pages (the calls at ``/calls/`` are the calls app's).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.cache import never_cache

from calltally.accounts.models import Role
from calltally.accounts.services import password_changed
from calltally.calls import services as calls
from calltally.services import control, today
from calltally.sites.models import Site
from calltally.webkit.views import Page

# --- accounts ---------------------------------------------------------------

class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change, which also lifts *must change password*."""

    template_name = "registration/password_change.html"
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        password_changed(form.user)
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_changed.html"


# --- monitoring -------------------------------------------------------------

@login_not_required
@never_cache
def healthz(request):
    """``ok`` when the web server answers and the database does; for monitoring."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok", content_type="text/plain")


# --- billing home -------------------------------------------------------------

def optional_url(name: str, *args) -> str | None:
    """The address of a page another part of CallTally may not serve (yet): links are only drawn
    to pages that exist."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


class HomeView(Page):
    """The landing page: the account's calls and cost today and this month per site, the cost
    centers that cost most, the calls imported last and, for those who run sites, each site's
    health at a glance. Every figure is of the account's own scope; "today" and "this month"
    begin at each site's own midnight. A fixed number of queries whatever the calls."""

    title = "Billing home"
    template_name = "web/home.html"
    latest = 10
    top = 5

    def admits(self, scope) -> bool:
        if scope.nothing:
            raise PermissionDenied(calls.NO_CALLS)
        return super().admits(scope)

    def breadcrumbs(self):
        return []  # the landing page is where every trail starts

    def get(self, request):
        now = timezone.now()
        scope = self.scope
        where = scope.calls()
        sites = list(Site.objects.order_by("code"))
        today_starts = {site.pk: today.day_start(site.zone, now) for site in sites}
        month_starts = {site.pk: today.day_start(site.zone, now, days_back=now.astimezone(site.zone).day - 1)
                        for site in sites}
        runs = [site for site in sites if scope.may_operate(site)]
        figures = calls.site_figures(where, sites, today_starts, month_starts)
        if scope.runs_sites:
            # Their sites, with or without calls: a site with none today is worth seeing too.
            figures = [item for item in figures if scope.may_operate(item.site)]
        else:
            figures = [item for item in figures if item.month_calls]
        health = calls.site_health(runs, today_starts, figures) if scope.runs_sites else []
        discarded_url = optional_url("calls:discarded_list")
        for item in health:
            item.discarded_url = (f"{discarded_url}?{urlencode({'site': item.site.code})}"
                                  if item.discarded_today and discarded_url else None)
            item.site_url = optional_url("sites:site_detail", item.site.code)
        services = []
        if scope.is_administrator:
            # The services are CallTally's own, not a site's: an administrator's concern.
            services = control.services(now)
        context = self.context(
            now=now,
            server_zone=timezone.get_current_timezone(),
            no_sites=not sites,
            figures=figures,
            totals=calls.totals(figures),
            currencies_differ=len({c for item in figures for c in item.month_cost}) > 1,
            top_cost_centers=calls.top_cost_centers(where, month_starts, self.top) if scope.role != Role.USER else [],
            latest=calls.latest_calls(where, self.latest),
            health=health,
            services=services,
            today_rule=today.RULE,
            call_list_url=reverse("calls:call_list"),
            setup_url=optional_url("setup:wizard") if scope.is_administrator else None,
            status_url=optional_url("services:status") if scope.runs_sites else None,
            own_calls=scope.role == Role.USER,
        )
        return render(request, self.template_name, context)
