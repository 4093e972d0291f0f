"""What every list table shares: Bootstrap's look, a selection box per row, number columns
that line up and never wrap, and the link to each object's page."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html

from . import display

# Right-aligned, tabular figures that never wrap (a cost is never clipped or broken).
NUM = {"td": {"class": "num"}, "th": {"class": "num"}}


class SelectionColumn(tables.CheckBoxColumn):
    """The row's box for bulk actions: posts the row's ``pk``; the header box ticks them all."""

    def __init__(self, **kwargs):
        kwargs.setdefault("accessor", "pk")
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("exclude_from_export", True)
        kwargs.setdefault("attrs", {
            "th__input": {"data-select-all": "", "aria-label": "Select all rows"},
            "td__input": {"aria-label": "Select this row"},
        })
        super().__init__(**kwargs)


class MoneyColumn(tables.Column):
    """An amount with its currency (``currency`` names the record's attribute holding the code)."""

    def __init__(self, currency: str = "currency", **kwargs):
        self.currency_attr = currency
        kwargs.setdefault("attrs", NUM)
        super().__init__(**kwargs)

    def render(self, value, record):
        if getattr(record, "unrated", False):  # a call no rate matched: its zero is no price
            return display.badge("unrated", "unrated")
        return display.money(value, self.currency_of(record))

    def value(self, value, record):
        """In exports, the stored amount with all its decimals (the page rounds to the currency's)."""
        if getattr(record, "unrated", False):
            return "unrated"
        return display.exact_money(value, self.currency_of(record))

    def currency_of(self, record) -> str:
        found = record.get(self.currency_attr, "") if isinstance(record, dict) else getattr(
            record, self.currency_attr, "")
        return found or ""


class DurationColumn(tables.Column):
    def __init__(self, **kwargs):
        kwargs.setdefault("attrs", NUM)
        super().__init__(**kwargs)

    def render(self, value):
        return display.duration(value)


class BaseTable(tables.Table):
    """A list page's table: rows ticked by ``pk`` (hidden where nobody may act on them)."""

    pk = SelectionColumn()

    class Meta:
        attrs = {"class": "table table-sm table-hover align-middle mb-0"}
        template_name = "django_tables2/bootstrap5-responsive.html"


def link(url: str, text) -> str:
    return format_html('<a href="{}">{}</a>', url, text)
