from django.urls import path  # noqa: F401  (the app's pages are added here)

from . import views  # noqa: F401

urlpatterns = []
