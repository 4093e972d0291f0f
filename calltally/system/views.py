"""The settings page (administrators only): outgoing mail with a test e-mail, the LDAP directory
(shown as configured, with *Test* and *Sync now*), data retention and the logo of reports. Each
section posts to its own address and comes back to the page; every change is audited."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from calltally.webkit.views import Page

from . import services
from .forms import LogoForm, MailSettingsForm, RetentionForm, TestMailForm
from .models import LdapStatus, MailSettings, ReportLogo, RetentionSettings

# The settings forms by the section of the page they are in.
FORMS = {"mail": MailSettingsForm, "retention": RetentionForm, "logo": LogoForm}
SAVED = {"mail": "Mail settings saved.", "retention": "Data retention saved.", "logo": "Logo saved."}


class SettingsView(Page):
    title = "Settings"
    audience = "administrator"
    template_name = "system/settings.html"

    def breadcrumbs(self):
        return [("Home", reverse("home")), ("Settings", None)]

    def get(self, request, section: str | None = None):
        if section is not None:
            return self.back(section)
        return self.show()

    def show(self, status: int = 200, **bound):
        forms = {name: bound.get(name) or form_class() for name, form_class in FORMS.items()}
        mail = MailSettings.load()
        config, problem = services.ldap_config()
        return render(self.request, self.template_name, self.context(
            mail=mail, mail_form=forms["mail"], test_form=bound.get("test") or TestMailForm(
                initial={"to": self.request.user.email}),
            retention=RetentionSettings.load(), retention_form=forms["retention"],
            logo=ReportLogo.load(), logo_form=forms["logo"],
            ldap_settings=config.describe() if config else None, ldap_problem=problem, ldap=LdapStatus.load(),
            server_zone=settings.TIME_ZONE,
        ), status=status)

    def post(self, request, section: str):
        if section in FORMS:
            form = FORMS[section](request.POST, request.FILES)
            if not form.is_valid():
                messages.error(request, "Nothing was saved: correct the fields marked below.")
                return self.show(status=400, **{section: form})
            services.save_settings(request, form)
            messages.success(request, "Logo removed." if section == "logo" and form.cleaned_data.get("remove")
                             else SAVED[section])
            return self.back(section)
        if section == "mail-test":
            form = TestMailForm(request.POST)
            if not form.is_valid():
                return self.show(status=400, test=form)
            ok, text = services.test_mail(request, form.cleaned_data["to"])
            (messages.success if ok else messages.error)(request, text[0].upper() + text[1:] + ".")
            return self.back("mail")
        if section == "ldap-test":
            ok, text = services.test_ldap(request)
            (messages.success if ok else messages.error)(request, f"LDAP test: {text}.")
            return self.back("ldap")
        if section == "ldap-sync":
            ok, text = services.sync_ldap(request)
            (messages.success if ok else messages.error)(request, f"LDAP sync: {text}.")
            return self.back("ldap")
        raise Http404("No such settings section.")

    @staticmethod
    def back(anchor: str):
        return HttpResponseRedirect(reverse("system:settings") + f"#{anchor}")


class LogoView(Page):
    """The logo of reports, as uploaded (checked when it was), for any signed-in account: reports
    show it. An SVG is served so that it could run nothing even if opened on its own."""

    @classmethod
    def as_view(cls, **initkwargs):
        return never_cache(super().as_view(**initkwargs))

    def get(self, request):
        logo = ReportLogo.load()
        if not logo.present:
            raise Http404("No logo has been uploaded.")
        response = HttpResponse(bytes(logo.content), content_type=logo.content_type)
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Disposition"] = "inline"
        return response
