from django.urls import path

from . import views

urlpatterns = [
    path("tariffs/", views.PlanListView.as_view(), name="plan_list"),
    path("tariffs/add/", views.PlanEditView.as_view(), name="plan_add"),
    path("tariffs/upload/", views.UploadView.as_view(), name="plan_import"),
    path("tariffs/<int:pk>/", views.PlanDetailView.as_view(), name="plan_detail"),
    path("tariffs/<int:pk>/edit/", views.PlanEditView.as_view(), name="plan_edit"),
    path("tariffs/<int:pk>/delete/", views.PlanDeleteView.as_view(), name="plan_delete"),
    path("tariffs/versions/<int:pk>/rates/", views.RateListView.as_view(), name="rate_list"),
    path("tariffs/versions/<int:pk>/edit/", views.VersionEditView.as_view(), name="version_edit"),
    path("tariffs/versions/<int:pk>/delete/", views.VersionDeleteView.as_view(), name="version_delete"),
    path("tariffs/versions/<int:pk>/plan.toml", views.VersionDownloadView.as_view(kind="toml"), name="version_toml"),
    path("tariffs/versions/<int:pk>/rates.csv", views.VersionDownloadView.as_view(kind="csv"), name="version_csv"),
    path("tariffs/assignments/", views.AssignmentListView.as_view(), name="assignment_list"),
    path("tariffs/assignments/add/", views.AssignmentEditView.as_view(), name="assignment_add"),
    path("tariffs/assignments/<int:pk>/edit/", views.AssignmentEditView.as_view(), name="assignment_edit"),
    path("tariffs/assignments/<int:pk>/delete/", views.AssignmentDeleteView.as_view(), name="assignment_delete"),
    path("tariffs/simulator/", views.SimulatorView.as_view(), name="simulator"),
    path("tariffs/comparison/", views.ComparisonView.as_view(), name="comparison"),
    path("holidays/", views.HolidayListView.as_view(), name="holiday_list"),
    path("holidays/add/", views.HolidayAddView.as_view(), name="holiday_add"),
    path("holidays/<int:pk>/delete/", views.HolidayDeleteView.as_view(), name="holiday_delete"),
]
