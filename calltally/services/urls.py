from django.urls import path

from . import views

urlpatterns = [
    path("status/", views.StatusView.as_view(), name="status"),
    path("services/", views.ManagerView.as_view(), name="manager"),
    path("diagnostics/", views.DiagnosticsView.as_view(), name="diagnostics"),
]
