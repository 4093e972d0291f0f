from django.urls import path

from .views import push

urlpatterns = [
    path("push/<int:connection_id>/", push, name="http_push"),
]
