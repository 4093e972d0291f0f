"""Signing in, as the accounts app sees it: which accounts the lockout holds, lifting it, and
the LDAP bind of accounts marked *ldap*.

The lockout itself is django-axes' (settings ``AXES_*``, from ``CALLTALLY_LOGIN_FAILURE_LIMIT``
and ``CALLTALLY_LOGIN_LOCKOUT_MINUTES``): a username and address are refused once they reach the
limit of failures, until a cool-off after the last one counted.
"""

from __future__ import annotations

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.utils import timezone


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
