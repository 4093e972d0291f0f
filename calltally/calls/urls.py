"""The calls' pages (calltally.webkit views), under the ``calls`` namespace."""
from django.urls import path

from . import views

urlpatterns = [
    path("calls/", views.CallListView.as_view(), name="call_list"),
    path("calls/<int:pk>/", views.CallDetailView.as_view(), name="call_detail"),
    path("calls/<int:pk>/raw/", views.RawRecordView.as_view(), name="raw_record"),
    path("discarded/", views.DiscardedListView.as_view(), name="discarded_list"),
]
