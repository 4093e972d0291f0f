"""Who may use the API at all: a signed-in account whose scope admits something."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from calltally.accounts.scope import scope_of


class SignedIn(BasePermission):
    """A request with an account (token or session). What it then sees is its scope's business;
    an account whose scope admits nothing (a user with no person) is refused here, saying why."""

    message = ("Your account sees nothing yet: an administrator must link it to a directory person (a user), "
               "a cost center (a manager) or the sites it runs (a site administrator).")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return not scope_of(user).nothing
