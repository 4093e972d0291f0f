from django.urls import path

from . import views

urlpatterns = [
    path("setup/", views.WizardView.as_view(), name="wizard"),
    path("setup/restart/", views.RestartView.as_view(), name="restart"),
    path("setup/finished/", views.FinishedView.as_view(), name="finished"),
    path("setup/<slug:step>/", views.WizardView.as_view(), name="step"),
]
