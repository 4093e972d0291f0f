from django.urls import path

from . import views

urlpatterns = [
    path("privacy/", views.OverviewView.as_view(), name="overview"),
    path("privacy/export/", views.ExportView.as_view(), name="export"),
    path("privacy/erase/", views.EraseView.as_view(), name="erase"),
]
