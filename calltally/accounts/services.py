"""Sign-in accounts: what the service host and the web pages do with them."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import AccountFlags


def ensure_first_admin() -> bool:
    """First start: an ``admin`` account with password ``admin``, to be changed at first
    sign-in. Returns whether it was created (there was no account at all)."""
    users = get_user_model()
    with transaction.atomic():
        if users.objects.exists():
            return False
        admin = users.objects.create_superuser("admin", "", "admin")
        AccountFlags.objects.create(user=admin, must_change_password=True)
    return True


def password_changed(user) -> None:
    """The account chose its own password: it is no longer asked to."""
    AccountFlags.objects.filter(user=user).update(must_change_password=False)
