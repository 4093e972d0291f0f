"""Account codes as the Miner needs them: a site's codes in memory, one lookup per call.

``AccountBook.for_site(site)`` reads the site's own codes and the multisite ones
in one query; ``lookup(code)`` is a dict access. Codes match whatever their case
and surrounding blanks; a site's own code wins over a multisite one with the
same text.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from .models import AccountCode, normalize_account_code


@dataclass(frozen=True, slots=True)
class AccountRule:
    code: str
    description: str
    privacy_digits: int
    cost_center_id: int | None
    replace_with_description: bool
    display: str  # the description if replace_with_description, else the code as configured


class AccountBook:
    """The account codes valid on one site."""

    __slots__ = ("_rules",)

    def __init__(self, rules: dict[str, AccountRule] | None = None):
        self._rules = dict(rules or {})

    @classmethod
    def for_site(cls, site) -> AccountBook:
        """One query: the site's codes and the multisite ones. ``site`` is a Site or its id."""
        site_id = getattr(site, "pk", site)
        rows = AccountCode.objects.filter(Q(site_id=site_id) | Q(site__isnull=True)).values_list(
            "site_id", "normalized", "code", "description", "privacy_digits", "cost_center_id",
            "replace_with_description",
        )
        shared: dict[str, AccountRule] = {}
        own: dict[str, AccountRule] = {}
        for row_site, normalized, code, description, privacy, cost_center_id, replace in rows:
            display = description if replace and description else code
            rule = AccountRule(code, description, privacy, cost_center_id, replace, display)
            (shared if row_site is None else own)[normalized] = rule
        shared.update(own)
        return cls(shared)

    def lookup(self, code: str) -> AccountRule | None:
        """The rule for a code as dialled, or None when no account has it."""
        if not code:
            return None
        return self._rules.get(normalize_account_code(code))

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, code: str) -> bool:
        return self.lookup(code) is not None
