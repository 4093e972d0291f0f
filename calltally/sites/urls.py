from django.urls import path

from . import views

urlpatterns = [
    path("sites/", views.SiteListView.as_view(), name="site_list"),
    path("sites/add/", views.SiteEditView.as_view(), name="site_add"),
    path("sites/<str:code>/", views.SiteDetailView.as_view(), name="site_detail"),
    path("sites/<str:code>/edit/", views.SiteEditView.as_view(), name="site_edit"),
    path("sites/<str:code>/delete/", views.SiteDeleteView.as_view(), name="site_delete"),
]
