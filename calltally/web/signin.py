"""Sign-in hardening: the lockout after repeated failures, and the page that says how long it lasts.

django-axes counts failed sign-ins per username and address
(``settings.AXES_*``, from ``CALLTALLY_LOGIN_FAILURE_LIMIT`` and
``CALLTALLY_LOGIN_LOCKOUT_MINUTES``); the audit app records and logs them.
"""

from __future__ import annotations

import math

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max
from django.shortcuts import render
from django.utils import timezone


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a sign-in from a locked-out username and address before any password is checked.

    Only web sign-ins are counted: every sign-in form passes its request to
    ``authenticate()``. A call without one (a script, the test client's
    ``login()``) has no address to lock and is left to the next backend, where
    django-axes would stop it with an error.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def locked_out(request, original_response=None, credentials=None):
    """The page for a refused sign-in: who is locked out and for how many more minutes."""
    username = get_client_username(request, credentials) or ""
    seconds = seconds_left(username, getattr(request, "axes_ip_address", None))
    minutes = max(1, math.ceil(seconds / 60))
    response = render(request, "registration/locked_out.html", {
        "username": username,
        "minutes": minutes,
        "failure_limit": settings.LOGIN_FAILURE_LIMIT,
        "lockout_minutes": settings.LOGIN_LOCKOUT_MINUTES,
    }, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def seconds_left(username: str, address: str | None) -> float:
    """How long the lockout of this username and address still lasts.

    Attempts during a lockout do not extend it (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT
    is off), so it ends a cool-off after the last failure counted.
    """
    cool_off = settings.AXES_COOLOFF_TIME
    last = AccessAttempt.objects.filter(username=username, ip_address=address).aggregate(
        last=Max("attempt_time"))["last"]
    if last is None:
        return cool_off.total_seconds()
    return max(0.0, (last + cool_off - timezone.now()).total_seconds())
