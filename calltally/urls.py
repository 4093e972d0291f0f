from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("calltally.collectors.http_push.urls")),
    path("", include("calltally.web.urls")),
]
