"""The API's own views: its root, the schema's browsable UI, and the web page where an account makes
and revokes its API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.exceptions import NotAuthenticated
from rest_framework.response import Response

from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.webkit.views import Page

from . import tokens
from .models import ApiToken
from .resources import ApiView

SHOWN_ONCE = "api-token-key"  # the session key of a new token's key, shown on the next page once

# The endpoints the root lists, by URL name, with what they hold (those not served are left out).
ENDPOINTS = (
    ("calls", "api:call-list"), ("reports", "api:report-list"), ("sites", "api:site-list"),
    ("connections", "api:connection-list"), ("people", "api:person-list"), ("extensions", "api:extension-list"),
    ("cost_centers", "api:costcenter-list"), ("account_codes", "api:accountcode-list"),
    ("tariff_plans", "api:plan-list"), ("tariff_assignments", "api:assignment-list"),
    ("accounts", "api:account-list"), ("schema", "api:schema"), ("docs", "api:docs"),
)


class RootView(ApiView):
    """Where each endpoint is (every one of them answers only what the account may see)."""

    @extend_schema(exclude=True)
    def get(self, request):
        found = {}
        for name, url_name in ENDPOINTS:
            try:
                found[name] = request.build_absolute_uri(reverse(url_name))
            except NoReverseMatch:
                continue
        return Response(found)


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI on the schema, from the package's files. Its page is our template: the package's
    has an inline <style>, which the Content-Security-Policy refuses; the script that starts the UI
    is a file of its own (``?script``), so no inline code runs."""

    template_name = "api/swagger_ui.html"
    url_name = "api:schema"
    title = "CallTally API"

    def handle_exception(self, exc):
        # A page: a browser that is not signed in goes to the sign-in page and comes back, as on
        # every other page (DRF's views are exempt from the web's sign-in redirect).
        if isinstance(exc, NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


class TokenListView(Page):
    """An account's API tokens: make one (its key shown on this page once), revoke one."""

    title = "API tokens"
    template_name = "api/token_list.html"

    def admits(self, scope) -> bool:
        # Every signed-in account has its tokens (what they then see is its scope's business).
        return True

    def breadcrumbs(self):
        return [("Home", reverse("home")), ("API tokens", None)]

    def get(self, request, form=None, status=200):
        key = request.session.pop(SHOWN_ONCE, None)
        mine = ApiToken.objects.filter(user=request.user).order_by("-created", "-id")
        return render(request, self.template_name, self.context(
            tokens=mine, form=form or tokens.TokenForm(), key=key,
            schema_url=reverse("api:schema"), docs_url=reverse("api:docs"), root_url=reverse("api:root"),
        ), status=status)

    def post(self, request):
        if "revoke" in request.POST:
            token = ApiToken.objects.filter(user=request.user, pk=request.POST.get("revoke")).first()
            if token is None:
                raise Http404("No such token of yours.")
            before = tokens.snapshot(token)
            token.delete()
            audit.record(request, Action.DELETE, obj=token, before=before, text=str(token))
            messages.success(request, f"Token {token.name} revoked: scripts using it are refused from now on.")
            return HttpResponseRedirect(reverse("api:token_list"))
        form = tokens.TokenForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form, status=400)
        token, key = tokens.create(request.user, form.cleaned_data["name"])
        audit.record(request, Action.CREATE, obj=token, after=tokens.snapshot(token))
        request.session[SHOWN_ONCE] = key
        return HttpResponseRedirect(reverse("api:token_list"))
