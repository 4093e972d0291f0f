"""The directory's pages, under /directory/ (namespace "directory")."""

from django.urls import path

from . import undefined_views, views

urlpatterns = [
    # Extensions not defined (undefined_views.py): the numbers calls were discarded for, created in one step.
    path("extensions/undefined/", undefined_views.UndefinedListView.as_view(), name="undefined_list"),

    path("directory/people/", views.PersonListView.as_view(), name="person_list"),
    path("directory/people/add/", views.PersonEditView.as_view(), name="person_add"),
    path("directory/people/import/", views.PersonImportView.as_view(), name="person_import"),
    path("directory/people/bulk-edit/", views.PersonBulkEditView.as_view(), name="person_bulk_edit"),
    path("directory/people/bulk-delete/", views.PersonBulkDeleteView.as_view(), name="person_bulk_delete"),
    path("directory/people/<int:pk>/", views.PersonDetailView.as_view(), name="person_detail"),
    path("directory/people/<int:pk>/edit/", views.PersonEditView.as_view(), name="person_edit"),
    path("directory/people/<int:pk>/delete/", views.PersonDeleteView.as_view(), name="person_delete"),

    path("directory/extensions/", views.ExtensionListView.as_view(), name="extension_list"),
    path("directory/extensions/add/", views.ExtensionEditView.as_view(), name="extension_add"),
    path("directory/extensions/import/", views.ExtensionImportView.as_view(), name="extension_import"),
    path("directory/extensions/bulk-edit/", views.ExtensionBulkEditView.as_view(), name="extension_bulk_edit"),
    path("directory/extensions/bulk-delete/", views.ExtensionBulkDeleteView.as_view(),
         name="extension_bulk_delete"),
    path("directory/extensions/<int:pk>/", views.ExtensionDetailView.as_view(), name="extension_detail"),
    path("directory/extensions/<int:pk>/edit/", views.ExtensionEditView.as_view(), name="extension_edit"),
    path("directory/extensions/<int:pk>/delete/", views.ExtensionDeleteView.as_view(), name="extension_delete"),

    path("directory/cost-centers/", views.CostCenterListView.as_view(), name="costcenter_list"),
    path("directory/cost-centers/add/", views.CostCenterEditView.as_view(), name="costcenter_add"),
    path("directory/cost-centers/<int:pk>/", views.CostCenterDetailView.as_view(), name="costcenter_detail"),
    path("directory/cost-centers/<int:pk>/edit/", views.CostCenterEditView.as_view(), name="costcenter_edit"),
    path("directory/cost-centers/<int:pk>/move/", views.CostCenterMoveView.as_view(), name="costcenter_move"),
    path("directory/cost-centers/<int:pk>/delete/", views.CostCenterDeleteView.as_view(),
         name="costcenter_delete"),

    path("directory/account-codes/", views.AccountCodeListView.as_view(), name="accountcode_list"),
    path("directory/account-codes/add/", views.AccountCodeEditView.as_view(), name="accountcode_add"),
    path("directory/account-codes/import/", views.AccountCodeImportView.as_view(), name="accountcode_import"),
    path("directory/account-codes/bulk-edit/", views.AccountCodeBulkEditView.as_view(),
         name="accountcode_bulk_edit"),
    path("directory/account-codes/bulk-delete/", views.AccountCodeBulkDeleteView.as_view(),
         name="accountcode_bulk_delete"),
    path("directory/account-codes/<int:pk>/edit/", views.AccountCodeEditView.as_view(), name="accountcode_edit"),
    path("directory/account-codes/<int:pk>/delete/", views.AccountCodeDeleteView.as_view(),
         name="accountcode_delete"),
]
