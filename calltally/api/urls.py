"""The API's addresses, under /api/ (namespace ``api``): each app's endpoints come from its own
``api/urls.py``; the shell adds the root, the schema, its UI and the tokens page."""

from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from . import views

app_name = "api"

APPS = ("calls", "reports", "sites", "collectors", "directory", "rating", "accounts")


urlpatterns = [
    path("", views.RootView.as_view(), name="root"),
    # The schema answers 401/403 itself (a token may fetch it); the docs page is a page: the web's
    # sign-in redirect applies to it.
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="schema"),
    path("docs/", views.DocsView.as_view(), name="docs"),
    path("tokens/", views.TokenListView.as_view(), name="token_list"),
    *(path("", include(f"calltally.{app}.api.urls")) for app in APPS),
]
