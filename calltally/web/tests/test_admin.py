"""The Django admin pages of CallTally's models answer for a superuser."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name",
    ["sites_site", "directory_costcenter", "directory_person", "directory_extension", "calls_call",
     "calls_discardedcall"],
)
def test_each_admin_list_answers(admin_client, name):
    response = admin_client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200


def test_calls_cannot_be_added_by_hand(admin_client):
    assert admin_client.get(reverse("admin:calls_call_add")).status_code == 403
