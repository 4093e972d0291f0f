"""Signing in, as the accounts app sees it: which accounts the lockout holds, lifting it, and
the LDAP bind of accounts marked *ldap* (:class:`LdapBackend`, in AUTHENTICATION_BACKENDS after
the lockout's and before Django's own).

The lockout itself is django-axes' (settings ``AXES_*``, from ``CALLTALLY_LOGIN_FAILURE_LIMIT``
and ``CALLTALLY_LOGIN_LOCKOUT_MINUTES``): a username and address are refused once they reach the
limit of failures, until a cool-off after the last one counted.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from calltally.directory.ldap import LdapClient, LdapConfig, LdapConfigError, LdapError

log = logging.getLogger("calltally.security")


def locked_usernames(usernames=None) -> set[str]:
    """The usernames locked out now, from at least one address (of ``usernames`` when given);
    one query, whatever their number."""
    attempts = AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
                                            attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)
    if usernames is not None:
        attempts = attempts.filter(username__in=list(usernames))
    return set(attempts.values_list("username", flat=True).distinct())


def unlock(username: str) -> int:
    """Lift the lockout of ``username`` from every address (and forget its failures); how many
    addresses were counting failures for it."""
    return reset(username=username)


class LdapBackend:
    """Signs in accounts marked *ldap* by a bind to the directory with the password typed.

    The account's entry is its linked person's (the DN the sync stored), or else the entry whose
    username attribute (``CALLTALLY_LDAP_MAP``'s ``username``) is the account's name, found with
    the service account of ``CALLTALLY_LDAP_*``. An LDAP account never signs in with a password
    kept by CallTally: when the bind fails (or LDAP is not configured) the sign-in is refused
    outright, which Django reports as a failed sign-in — audited and counted by the lockout,
    which is checked before this backend runs. Other accounts are left to the next backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or request is None:
            return None
        user = get_user_model().objects.filter(username=username).select_related(
            "account", "account__person").first()
        account = getattr(user, "account", None) if user is not None else None
        if account is None or not account.ldap:
            return None
        if not user.is_active:
            raise PermissionDenied("inactive account")
        # A simple bind with a DN and no password is an anonymous bind that many servers accept.
        if not password:
            raise PermissionDenied("no password")
        try:
            config = LdapConfig.from_env()
        except LdapConfigError as exc:
            log.warning("LDAP sign-in of %r refused: LDAP is not configured (%s)", username, exc)
            raise PermissionDenied("LDAP is not configured") from None
        try:
            dn = self.entry_of(config, user, account)
            if dn is None:
                log.info("LDAP sign-in of %r refused: no entry in the directory", username)
                raise PermissionDenied("no directory entry")
            with LdapClient(replace(config, bind_dn=dn, password=password)):
                pass  # the bind is the check
        except LdapError as exc:
            log.info("LDAP sign-in of %r refused: %s", username, exc)
            raise PermissionDenied("LDAP bind failed") from None
        return user

    @staticmethod
    def entry_of(config: LdapConfig, user, account) -> str | None:
        person = account.person
        if person is not None and person.ldap_dn:
            return person.ldap_dn
        from ldap3.utils.conv import escape_filter_chars

        attribute = config.mapping["username"][0]
        search = replace(config, search_filter=f"(&{config.search_filter}({attribute}="
                                                f"{escape_filter_chars(user.username)}))", page_size=2)
        with LdapClient(search) as client:
            entries = [entry.dn for entry in client.search()]
        # Two entries with one name: which one is the account is not for CallTally to guess.
        return entries[0] if len(entries) == 1 else None

    def get_user(self, user_id):
        user = get_user_model().objects.filter(pk=user_id).first()
        return user if user is not None and user.is_active else None
