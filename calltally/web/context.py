"""What every page's template gets: the menu for the signed-in account."""

from __future__ import annotations

from calltally.accounts.scope import scope_of

from .navigation import menu_for


def shell(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"menu": []}
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match is not None else None
    return {"menu": menu_for(user, scope_of(user), current)}
