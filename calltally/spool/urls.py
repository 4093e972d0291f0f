from django.urls import path

from . import views

urlpatterns = [
    path("spool/", views.ViewerView.as_view(), name="viewer"),
    path("spool/<str:code>/<str:file>.cdr", views.DownloadView.as_view(), name="download"),
]
