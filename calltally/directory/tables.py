"""The tables of the directory's list pages."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from calltally.accounts.scope import scope_of
from calltally.webkit import display
from calltally.webkit.tables import NUM, BaseTable, link

from .models import AccountCode, CostCenter, Extension, Person

# Deeper cost centers are indented no further (the CSS has classes up to this depth).
MAX_INDENT = 8
# What an account that may not manage an account code sees in place of a code shown as its description.
HIDDEN_CODE = "••••"


def site_link(site) -> str:
    if site is None:
        return display.EMPTY
    try:
        return link(reverse("sites:site_detail", args=[site.code]), site.code)
    except NoReverseMatch:
        return site.code


def person_link(person) -> str:
    if person is None:
        return display.EMPTY
    url = reverse("directory:person_detail", args=[person.pk])
    if person.full_name != person.username:
        return format_html('<a href="{}">{}</a> <span class="text-body-secondary small">{}</span>', url,
                           person.full_name, person.username)
    return link(url, person.username)


def cost_center_link(center) -> str:
    if center is None:
        return display.EMPTY
    return link(reverse("directory:costcenter_detail", args=[center.pk]), center.code)


class PersonTable(BaseTable):
    username = tables.Column(linkify=("directory:person_detail", [tables.A("pk")]))
    name = tables.Column(accessor="last_name", verbose_name="Name", order_by=("last_name", "first_name"),
                         empty_values=())
    email = tables.Column(verbose_name="E-mail")
    site = tables.Column(order_by=("site__code",))
    cost_center = tables.Column(verbose_name="Cost center", order_by=("cost_center__code",))
    manager = tables.Column(order_by=("manager__username",))
    extensions = tables.Column(empty_values=(), orderable=False, verbose_name="Extensions")
    masked_digits = tables.Column(verbose_name="Masked digits", attrs=NUM)
    virtual = tables.BooleanColumn()
    active = tables.BooleanColumn()
    synced = tables.Column(accessor="ldap_dn", verbose_name="LDAP", orderable=False)

    class Meta(BaseTable.Meta):
        model = Person
        fields = ("pk", "username", "name", "email", "site", "cost_center", "manager", "extensions",
                  "masked_digits", "virtual", "active", "synced")
        hidden_by_default = ("masked_digits", "virtual", "synced")

    def render_name(self, record):
        return " ".join(part for part in (record.first_name, record.last_name) if part) or display.EMPTY

    def render_site(self, value):
        return site_link(value)

    def render_cost_center(self, value):
        return cost_center_link(value)

    def render_manager(self, value):
        return person_link(value)

    def render_extensions(self, record):
        # The extensions come prefetched with the page (one query for every row).
        numbers = [f"{e.number}@{e.site.code}" for e in record.extensions.all()]
        return ", ".join(numbers) or display.EMPTY

    def render_virtual(self, value):
        return display.yes_no(value)

    def render_active(self, value):
        return display.yes_no(value)

    def render_synced(self, value):
        return display.badge("synced", "synced") if value else display.EMPTY


class ExtensionTable(BaseTable):
    number = tables.Column(linkify=("directory:extension_detail", [tables.A("pk")]))
    site = tables.Column(order_by=("site__code", "number"))
    person = tables.Column(order_by=("person__username",))
    cost_center = tables.Column(verbose_name="Cost center", order_by=("cost_center__code",))
    aliases = tables.Column(empty_values=(), orderable=False, verbose_name="Aliases")
    billing_enabled = tables.Column(verbose_name="Billing")
    auto_acquired = tables.Column(verbose_name="Auto-acquired")

    class Meta(BaseTable.Meta):
        model = Extension
        fields = ("pk", "number", "site", "person", "cost_center", "aliases", "billing_enabled", "auto_acquired")

    def render_site(self, value):
        return site_link(value)

    def render_person(self, value):
        return person_link(value)

    def render_cost_center(self, value):
        return cost_center_link(value)

    def render_aliases(self, record):
        return " ".join(a.number for a in record.aliases.all()) or display.EMPTY

    def render_billing_enabled(self, value):
        return display.badge("yes", "on") if value else display.badge("no", "off")

    def render_auto_acquired(self, value):
        return display.yes_no(value)


class CostCenterTable(BaseTable):
    """The tree: each cost center below its parent, indented by its depth (``depth`` and
    ``people_count`` come with each row)."""

    code = tables.Column()
    name = tables.Column()
    parent = tables.Column(order_by=("parent__code",))
    manager = tables.Column(order_by=("manager__username",))
    people_count = tables.Column(verbose_name="People", attrs=NUM)
    extension_count = tables.Column(verbose_name="Extensions", attrs=NUM)

    class Meta(BaseTable.Meta):
        model = CostCenter
        fields = ("pk", "code", "name", "parent", "manager", "people_count", "extension_count")
        row_attrs = {"class": lambda record: f"tree-depth-{min(getattr(record, 'depth', 0), MAX_INDENT)}"}

    def render_code(self, value, record):
        url = reverse("directory:costcenter_detail", args=[record.pk])
        # The indentation and its marker come from the row's CSS class, so an export has the bare code.
        return format_html('<span class="tree-code"><a href="{}">{}</a></span>', url, value)

    def render_parent(self, value):
        return cost_center_link(value)

    def render_manager(self, value):
        return person_link(value)


class AccountCodeTable(BaseTable):
    # Sorted by ``code_sort``: the code where the account may read it (see AccountCodeListView).
    code = tables.Column(order_by=("code_sort",))
    description = tables.Column()
    site = tables.Column(order_by=("site__code", "code_sort"), empty_values=())
    privacy_digits = tables.Column(verbose_name="Privacy digits", attrs=NUM)
    cost_center = tables.Column(verbose_name="Cost center", order_by=("cost_center__code",))
    replace_with_description = tables.Column(verbose_name="Shown as description")
    created = tables.Column(verbose_name="Created")
    actions = tables.Column(empty_values=(), orderable=False, verbose_name="", exclude_from_export=True)

    class Meta(BaseTable.Meta):
        model = AccountCode
        fields = ("pk", "code", "description", "site", "privacy_digits", "cost_center", "replace_with_description",
                  "created", "actions")
        hidden_by_default = ("created",)

    def may_change(self, record) -> bool:
        """Whether the account manages a code (sees it, edits it): the page's own rule. Read from
        the table's request when the cell is drawn (the list page sets it after making the table)."""
        request = getattr(self, "request", None)
        if request is None:
            return False
        return scope_of(request.user).may_configure(record.site_id)

    def render_code(self, value, record):
        # A code shown as its description is a PIN: only those who manage it see it.
        if record.replace_with_description and not self.may_change(record):
            return format_html('<span class="text-body-secondary" title="hidden">{}</span>', HIDDEN_CODE)
        return format_html("<code>{}</code>", value)

    def render_site(self, value):
        return site_link(value) if value is not None else display.badge("multisite", "every site")

    def render_cost_center(self, value):
        return cost_center_link(value)

    def render_created(self, value, record):
        return display.local_time(value, record.site.zone if record.site_id else None)

    def render_replace_with_description(self, value):
        return display.yes_no(value)

    def render_actions(self, record):
        if not self.may_change(record):
            return ""
        links = [(reverse("directory:accountcode_edit", args=[record.pk]), "Edit", "btn-outline-primary"),
                 (reverse("directory:accountcode_delete", args=[record.pk]), "Delete", "btn-outline-danger")]
        return format_html_join(" ", '<a class="btn btn-sm {}" href="{}">{}</a>',
                                ((css, url, label) for url, label, css in links))
