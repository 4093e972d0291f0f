from django.urls import path

from . import views

urlpatterns = [
    path("reports/", views.CatalogueView.as_view(), name="catalogue"),
    path("reports/saved/<int:pk>/", views.SavedReportView.as_view(), name="saved"),
    path("reports/saved/<int:pk>/delete/", views.SavedReportDeleteView.as_view(), name="saved_delete"),
    path("reports/<str:name>/", views.ReportView.as_view(), name="report"),
]
