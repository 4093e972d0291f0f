"""The main menu, declared once: each entry names its page's URL and who may open it.

An entry whose URL does not exist (an app without that page) or whose audience does
not admit the account is simply not shown, so the menu never offers a page that
would answer 403 or 404. Audiences are those of :class:`calltally.webkit.views.Page`:
``anyone`` signed in (the page scopes its rows), ``runs-sites`` (administrators and
site administrators), ``administrator``, and ``superuser`` (the Django admin).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from calltally.webkit.views import Page


@dataclass(frozen=True)
class Item:
    label: str
    url_name: str
    audience: str = "anyone"


@dataclass(frozen=True)
class Group:
    label: str
    items: tuple[Item, ...]


MENU = (
    Group("Calls", (
        Item("Billing home", "home"),
        Item("Calls", "calls:call_list"),
        Item("Reports", "reports:catalogue"),
        # Everyone: a person sees their own budgets, a manager those of their cost centers (read only).
        Item("Budgets", "budgets:budget_list"),
        Item("Discarded calls", "calls:discarded_list", "runs-sites"),
    )),
    Group("Scheduler", (
        Item("Scheduled reports", "schedules:schedule_list", "administrator"),
        Item("Alerts", "alerts:alert_list", "runs-sites"),
        Item("Alert rules", "alerts:rule_list", "runs-sites"),
        Item("Retention and privacy", "privacy:overview", "administrator"),
    )),
    Group("Configuration", (
        Item("Setup wizard", "setup:wizard", "administrator"),
        Item("Sites", "sites:site_list", "runs-sites"),
        Item("Connections", "collectors:connection_list", "runs-sites"),
        Item("People", "directory:person_list", "runs-sites"),
        Item("Extensions", "directory:extension_list", "runs-sites"),
        Item("Cost centers", "directory:costcenter_list", "runs-sites"),
        Item("Account codes", "directory:accountcode_list", "runs-sites"),
        Item("Tariffs", "rating:plan_list", "runs-sites"),
        Item("Cost simulator", "rating:simulator", "runs-sites"),
        Item("Holidays", "rating:holiday_list", "runs-sites"),
    )),
    Group("Operations", (
        Item("System status", "services:status", "runs-sites"),
        Item("Service manager", "services:manager", "administrator"),
        Item("Recorder files", "spool:viewer", "runs-sites"),
        Item("Extensions not defined", "directory:undefined_list", "runs-sites"),
        Item("Recalculate calls", "jobs:recalculate", "runs-sites"),
        Item("Background jobs", "jobs:job_list", "runs-sites"),
        Item("Tariff comparison", "rating:comparison", "runs-sites"),
        Item("Diagnostics", "services:diagnostics", "administrator"),
    )),
    Group("Administration", (
        Item("Accounts", "accounts:account_list", "administrator"),
        Item("Settings", "system:settings", "administrator"),
        Item("Audit log", "audit:event_list", "administrator"),
        Item("Django admin", "admin:index", "superuser"),
    )),
)


def admits(audience: str, user, scope) -> bool:
    if audience == "superuser":
        return bool(user.is_superuser)
    return Page.audience_admits(audience, scope)


def menu_for(user, scope, current: str | None) -> list[dict]:
    """The groups and entries this account may open, with their URLs; the current page's marked."""
    groups = []
    for group in MENU:
        entries = []
        for item in group.items:
            if not admits(item.audience, user, scope):
                continue
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue
            entries.append({"label": item.label, "url": url, "active": item.url_name == current})
        if entries:
            groups.append({"label": group.label, "items": entries,
                           "active": any(entry["active"] for entry in entries)})
    return groups
