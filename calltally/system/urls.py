from django.urls import path

from . import views

urlpatterns = [
    path("settings/", views.SettingsView.as_view(), name="settings"),
    path("settings/<slug:section>/", views.SettingsView.as_view(), name="settings_section"),
    path("settings/logo.img", views.LogoView.as_view(), name="logo"),
]
