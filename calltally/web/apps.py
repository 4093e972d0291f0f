from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class WebConfig(AppConfig):
    default = True  # this module holds the admin's config too
    name = "calltally.web"
    label = "web"
    default_auto_field = "django.db.models.BigAutoField"


class InspectionAdminConfig(admin_apps.AdminConfig):
    """Django's admin, for superusers only (calltally.webkit.admin)."""

    default = False

    default_site = "calltally.webkit.admin.SuperuserAdminSite"
