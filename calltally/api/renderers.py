"""The browsable API (the JSON answers as pages, for a signed-in browser) under CallTally's
Content-Security-Policy."""

from __future__ import annotations

from rest_framework.renderers import BrowsableAPIRenderer


class BrowsableAPI(BrowsableAPIRenderer):
    """DRF's browsable API with CallTally's name and icon and no inline style: DRF puts the
    syntax-highlighting colours in a <style> block, which the policy refuses (the answers are
    shown plain instead)."""

    template = "api/browsable.html"

    def get_context(self, *args, **kwargs):
        context = super().get_context(*args, **kwargs)
        context["code_style"] = None
        return context
