"""``/api/sites/``: sites by code, through :class:`~calltally.sites.forms.SiteForm`.

Administrators see, add, change and delete every site; a site administrator sees and changes
their own (another is a 404) and adds or deletes none — as on the site pages, whose scoping this
applies."""

from __future__ import annotations

from calltally.api.resources import FormResource, documented
from calltally.sites.forms import SiteForm
from calltally.sites.models import Site
from calltally.sites.views import SiteDeleteView, SiteEditView

from .serializers import SiteSerializer


@documented(SiteForm, "Site", SiteSerializer)
class SiteViewSet(FormResource):
    serializer_class = SiteSerializer
    form_class = SiteForm
    policy_class = SiteEditView
    delete_policy_class = SiteDeleteView
    queryset = Site.objects.none()
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
