from django.urls import path

from . import views

urlpatterns = [
    path("connections/", views.ConnectionListView.as_view(), name="connection_list"),
    path("connections/add/", views.ConnectionEditView.as_view(), name="connection_add"),
    path("connections/<int:pk>/", views.ConnectionDetailView.as_view(), name="connection_detail"),
    path("connections/<int:pk>/edit/", views.ConnectionEditView.as_view(), name="connection_edit"),
    path("connections/<int:pk>/delete/", views.ConnectionDeleteView.as_view(), name="connection_delete"),
    path("connections/<int:pk>/toggle/", views.ConnectionToggleView.as_view(), name="connection_toggle"),
    path("connections/<int:pk>/test/", views.ConnectionTestView.as_view(), name="connection_test"),
    path("connections/<int:pk>/token/", views.ConnectionTokenView.as_view(), name="connection_token"),
]
