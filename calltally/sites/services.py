"""Finding sites, for every command and page that names one by its code."""

from __future__ import annotations

from django.core.management.base import CommandError

from .models import Site


def get_site(code: str) -> Site:
    """The site with this code, or a command error that lists the codes there are."""
    try:
        return Site.objects.get(code=code)
    except Site.DoesNotExist:
        known = ", ".join(Site.objects.values_list("code", flat=True)) or "none yet — add one with `calltally site add`"
        raise CommandError(f"no site with code {code!r} (sites: {known})") from None
