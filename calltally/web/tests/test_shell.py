"""The shell every page stands in: the menu by role, breadcrumbs, static files, no inline code."""

from __future__ import annotations

import re
from pathlib import Path

from django.urls import reverse

from calltally.accounts.scope import scope_of
from calltally.web.navigation import MENU, menu_for

TEMPLATES = Path(__file__).resolve().parents[2]


def labels(client) -> set[str]:
    return {item["label"] for group in menu_for(client.user, scope_of(client.user), None) for item in group["items"]}


def test_a_user_is_offered_no_configuration_operations_or_administration(role_client, make_site):
    from calltally.directory.models import Person

    person = Person.objects.create(username="ann", first_name="Ann")
    shown = labels(role_client("user", person=person))
    every = {item.label for group in MENU for item in group.items if group.label != "Calls"}
    assert not shown & every
    assert "Billing home" in shown


def test_an_administrator_is_offered_every_page_that_exists(role_client):
    shown = labels(role_client("administrator"))
    assert "Billing home" in shown
    assert "Django admin" not in shown  # superusers only


def test_the_menu_never_names_a_page_the_account_may_not_open(role_client, make_site):
    rome = make_site("ROM")
    client = role_client("site-admin", sites=[rome])
    for group in menu_for(client.user, scope_of(client.user), None):
        for item in group["items"]:
            response = client.get(item["url"])
            assert response.status_code in (200, 302), (item["label"], response.status_code)


def test_pages_load_bootstrap_and_the_projects_script_from_static_files(admin_client):
    page = admin_client.get(reverse("home")).content.decode()
    assert "/static/bootstrap/css/bootstrap.min.css" in page
    assert "/static/calltally/calltally.js" in page
    assert "/static/calltally/favicon.svg" in page


def test_the_content_security_policy_forbids_inline_scripts(admin_client):
    policy = admin_client.get(reverse("home"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)


def test_no_template_holds_inline_script_handlers_or_styles_the_policy_would_block():
    offenders = []
    for template in TEMPLATES.glob("*/templates/**/*.html"):
        text = template.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, INLINE_STYLE):
            for match in pattern.finditer(text):
                offenders.append(f"{template.relative_to(TEMPLATES)}: {match.group(0).strip()}")
    assert not offenders
