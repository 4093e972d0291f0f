from django.urls import path

from . import views

urlpatterns = [
    path("jobs/", views.JobListView.as_view(), name="job_list"),
    path("jobs/<int:pk>/", views.JobDetailView.as_view(), name="job_detail"),
    path("jobs/<int:pk>/cancel/", views.JobCancelView.as_view(), name="job_cancel"),
    path("jobs/recalculate/", views.RecalculateView.as_view(), name="recalculate"),
    path("jobs/reprocess/", views.ReprocessView.as_view(), name="reprocess"),
]
