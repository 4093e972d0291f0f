"""Template filters for CallTally's pages: ``{% load calltally_web %}``."""

from __future__ import annotations

from django import template

from calltally.webkit import display

register = template.Library()


@register.filter
def local_time(value, zone):
    """An instant in a time zone (a ZoneInfo, a zone name, or a Site), with its offset."""
    zone = getattr(zone, "zone", zone)
    return display.local_time(value, zone)


@register.filter
def hms(value):
    return display.duration(value)


@register.filter
def money(value, currency=""):
    return display.money(value, currency)


@register.filter
def call_cost(call):
    """A call's cost with its currency, or the *unrated* badge."""
    return display.call_cost(call)


@register.simple_tag
def badge(value, label=None):
    """A coloured label, e.g. ``{% badge call.direction call.get_direction_display %}``."""
    return display.badge(value, label)
