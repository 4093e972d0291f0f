from django.urls import path

from . import views

urlpatterns = [
    path("alerts/", views.AlertListView.as_view(), name="alert_list"),
    path("alerts/<int:pk>/action/", views.AlertActionView.as_view(), name="alert_action"),
    path("alerts/rules/", views.RuleListView.as_view(), name="rule_list"),
    path("alerts/rules/add/", views.RuleEditView.as_view(), name="rule_add"),
    path("alerts/rules/<int:pk>/edit/", views.RuleEditView.as_view(), name="rule_edit"),
    path("alerts/rules/<int:pk>/delete/", views.RuleDeleteView.as_view(), name="rule_delete"),
]
