from django.urls import path

from . import views

urlpatterns = [
    path("accounts/", views.AccountListView.as_view(), name="account_list"),
    path("accounts/add/", views.AccountEditView.as_view(), name="account_add"),
    path("accounts/<int:pk>/edit/", views.AccountEditView.as_view(), name="account_edit"),
    path("accounts/<int:pk>/unlock/", views.AccountUnlockView.as_view(), name="account_unlock"),
    path("accounts/<int:pk>/delete/", views.AccountDeleteView.as_view(), name="account_delete"),
]
