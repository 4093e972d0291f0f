from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.DashboardView.as_view(), name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Accounts
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # Call data (staff only for now; see views.py)
    path("calls/", views.CallListView.as_view(), name="call_list"),
    path("calls/<int:pk>/", views.CallDetailView.as_view(), name="call_detail"),
    path("calls/<int:pk>/raw/", views.RawRecordView.as_view(), name="raw_record"),
    path("discarded/", views.DiscardedListView.as_view(), name="discarded_list"),
    path("sites/", views.SiteListView.as_view(), name="site_list"),
    path("sites/<str:code>/", views.SiteDetailView.as_view(), name="site_detail"),
    path("extensions/", views.ExtensionListView.as_view(), name="extension_list"),
]
