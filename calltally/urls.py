from django.contrib import admin
from django.urls import include, path

# Each app serves its own pages under its namespace ("sites:site_list"); the shell (home,
# sign-in) and the PBX-facing http-push endpoint have none.
APPS = ("calls", "sites", "collectors", "directory", "rating", "services", "spool", "jobs", "setup",
        "accounts", "audit", "system", "reports", "schedules", "alerts", "budgets", "privacy")

urlpatterns = [
    path("admin/", admin.site.urls),
    # The REST API (docs/api.md), its schema and the API tokens page.
    path("api/", include("calltally.api.urls")),
    path("", include("calltally.collectors.http_push.urls")),
    *(path("", include((f"calltally.{app}.urls", app))) for app in APPS),
    # After the apps: where an app's page has replaced one of the shell's old pages, the app's answers.
    path("", include("calltally.web.urls")),
]

# 403 and 404 are Django's views with the web app's templates; these two need more (see errors.py).
handler400 = "calltally.web.errors.bad_request"
handler500 = "calltally.web.errors.server_error"
