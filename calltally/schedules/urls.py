from django.urls import path

from . import views

urlpatterns = [
    path("schedules/", views.ScheduleListView.as_view(), name="schedule_list"),
    path("schedules/add/", views.ScheduleEditView.as_view(), name="schedule_add"),
    path("schedules/<int:pk>/", views.ScheduleDetailView.as_view(), name="schedule_detail"),
    path("schedules/<int:pk>/edit/", views.ScheduleEditView.as_view(), name="schedule_edit"),
    path("schedules/<int:pk>/delete/", views.ScheduleDeleteView.as_view(), name="schedule_delete"),
    path("schedules/<int:pk>/run/", views.ScheduleRunView.as_view(), name="schedule_run"),
]
