"""What a signed-in account may see and do: one place every page, export, download,
report and API call goes through.

``scope_of(user)`` gives a :class:`Scope`; a view narrows its queryset with
``scope.calls()`` (a ``Q`` over a calls-like model's site, person and cost-center
fields, whose names the caller may give) or ``scope.sites()``, and asks
``scope.may_configure(site)`` / ``scope.may_operate(site)`` before it changes
anything. A view that builds its own queryset without it is a bug.

The roles (docs/accounts.md):

* **administrator** — everything;
* **site administrator** — configuration and operations of their sites, and the
  calls of those sites;
* **manager** — read only: the calls of their cost center and every cost center
  below it (the account's cost center, else those its person manages);
* **user** — the calls of their own directory person, nothing else.

An inactive account, or one whose role lacks what it needs (a user without a
person), sees nothing.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from django.db.models import Q

from calltally.directory.models import CostCenter

from .models import Role
from .services import account_of

NOTHING = Q(pk__in=[])


@dataclass(frozen=True)
class Scope:
    """What one account may see and do (see the module's doc)."""

    role: str
    site_ids: frozenset[int] | None = None  # None: every site
    cost_center_ids: frozenset[int] | None = None  # None: not limited by cost center
    person_id: int | None = None
    nothing: bool = False

    @property
    def is_administrator(self) -> bool:
        return self.role == Role.ADMINISTRATOR and not self.nothing

    @property
    def sees_every_call(self) -> bool:
        return self.is_administrator

    def calls(self, site: str = "site", person: str = "person", cost_center: str = "cost_center") -> Q:
        """The rows of a calls-like model (calls, rollups, discarded calls…) this account may see;
        the arguments name the model's fields."""
        if self.nothing:
            return NOTHING
        if self.role == Role.ADMINISTRATOR:
            return Q()
        if self.role == Role.SITE_ADMIN:
            return Q(**{f"{site}_id__in": self.site_ids or ()})
        if self.role == Role.MANAGER:
            return Q(**{f"{cost_center}_id__in": self.cost_center_ids or ()})
        return Q(**{f"{person}_id": self.person_id})

    def sites(self, field: str = "pk") -> Q:
        """The sites this account runs (administrator: all; site administrator: theirs; others: none)."""
        if self.nothing or self.role in (Role.MANAGER, Role.USER):
            return NOTHING
        if self.role == Role.ADMINISTRATOR:
            return Q()
        return Q(**{f"{field}__in": self.site_ids or ()})

    def may_configure(self, site=None) -> bool:
        """Whether the account may change configuration: of one site (a Site or its id), or
        CallTally's own (tariff plans, cost centers, accounts, settings) when no site is given."""
        if self.nothing:
            return False
        if self.role == Role.ADMINISTRATOR:
            return True
        if self.role == Role.SITE_ADMIN and site is not None:
            return getattr(site, "pk", site) in (self.site_ids or ())
        return False

    def may_operate(self, site=None) -> bool:
        """Whether the account may run operations (reprocess, recalculate, read the raw spool):
        the same as configuring."""
        return self.may_configure(site)

    @property
    def runs_sites(self) -> bool:
        """Whether the account administers at least one site (the operations menus)."""
        return self.is_administrator or (self.role == Role.SITE_ADMIN and bool(self.site_ids) and not self.nothing)


def scope_of(user) -> Scope:
    """The scope of a signed-in user (cached on the user object for the request)."""
    found = getattr(user, "_calltally_scope", None)
    if found is not None:
        return found
    found = _scope(user)
    with contextlib.suppress(AttributeError):  # an object that takes no attribute: no cache
        user._calltally_scope = found
    return found


def _scope(user) -> Scope:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(Role.USER, nothing=True)
    if user.is_superuser:
        return Scope(Role.ADMINISTRATOR)
    account = account_of(user)
    role = account.role
    if role == Role.ADMINISTRATOR:
        return Scope(role)
    if role == Role.SITE_ADMIN:
        sites = frozenset(account.sites.values_list("pk", flat=True))
        return Scope(role, site_ids=sites, nothing=not sites)
    if role == Role.MANAGER:
        roots = [account.cost_center_id] if account.cost_center_id else list(
            CostCenter.objects.filter(manager_id=account.person_id).values_list("pk", flat=True)
        ) if account.person_id else []
        centers = subtree(roots)
        return Scope(role, cost_center_ids=centers, person_id=account.person_id, nothing=not centers)
    return Scope(Role.USER, person_id=account.person_id, nothing=account.person_id is None)


def cost_center_children() -> dict[int | None, list[int]]:
    """The cost center tree as each one's children (one query): what :func:`subtree` walks."""
    children: dict[int | None, list[int]] = {}
    for pk, parent in CostCenter.objects.values_list("pk", "parent_id"):
        children.setdefault(parent, []).append(pk)
    return children


def subtree(roots: list[int], children: dict[int | None, list[int]] | None = None) -> frozenset[int]:
    """The cost centers at and below ``roots`` (one query for the whole tree, none when the caller
    walking several subtrees passes the tree it loaded with :func:`cost_center_children`)."""
    if not roots:
        return frozenset()
    if children is None:
        children = cost_center_children()
    found: set[int] = set()
    stack = list(roots)
    while stack:
        pk = stack.pop()
        if pk not in found:
            found.add(pk)
            stack.extend(children.get(pk, ()))
    return frozenset(found)
