"""Sign-in accounts: what the service host, the CLI and the web pages do with them."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Account, Role


def account_of(user) -> Account:
    """The account of a user (made on the spot for a user that has none yet, as the
    post-save signal would have)."""
    try:
        return user.account
    except Account.DoesNotExist:
        account, _ = Account.objects.get_or_create(user=user, defaults={"role": default_role(user)})
        return account


def default_role(user) -> str:
    return Role.ADMINISTRATOR if user.is_superuser or user.is_staff else Role.USER


def ensure_first_admin() -> bool:
    """First start: an ``admin`` account with password ``admin``, to be changed at first
    sign-in. Returns whether it was created (there was no account at all)."""
    users = get_user_model()
    with transaction.atomic():
        if users.objects.exists():
            return False
        admin = users.objects.create_superuser("admin", "", "admin")
        Account.objects.update_or_create(user=admin, defaults={"role": Role.ADMINISTRATOR,
                                                               "must_change_password": True})
    return True


def password_changed(user) -> None:
    """The account chose its own password: it is no longer asked to."""
    Account.objects.filter(user=user).update(must_change_password=False)
