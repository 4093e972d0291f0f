"""Sign-ins, failed sign-ins, lockouts and sign-outs, recorded from their signals (see apps.py)."""

from __future__ import annotations

import logging

from django.conf import settings

from .addresses import client_address
from .choices import Action
from .services import record

log = logging.getLogger("calltally.security")


def signed_in(sender, request, user, **kwargs) -> None:
    record(request, Action.SIGN_IN, user=user)


def sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django has already replaced the password in ``credentials`` with stars; only the
    # name typed is kept.
    details = {}
    if _refused_while_locked(request):
        details["reason"] = "locked out"
    record(request, Action.SIGN_IN_FAILED, username=str(credentials.get("username") or ""), **details)


def signed_out(sender, request, user, **kwargs) -> None:
    details = {}
    reason = getattr(request, "calltally_sign_out_reason", None)
    if reason:
        details["reason"] = reason
    # ``user`` is None when the session had no account (a sign-out from an expired session).
    if user is not None:
        record(request, Action.SIGN_OUT, user=user, **details)


def locked_out(sender, request, username, ip_address, **kwargs) -> None:
    """django-axes has just locked a name and address out: a warning and an audit event.

    Axes sends this signal again for every attempt refused during the lockout; those
    are failed sign-ins already (``sign_in_failed`` marks them), so only the attempt
    that reached the limit, the one for which axes counted the failures, is reported.
    """
    if getattr(request, "axes_failures_since_start", None) is None:
        return
    failures = request.axes_failures_since_start
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    address = client_address(request) or ip_address
    log.warning("sign-in locked out for %d minutes after %d failed attempts: username %r from %s",
                minutes, failures, username, address)
    record(request, Action.LOCKED_OUT, username=str(username or ""), failures=failures, minutes=minutes)


def _refused_while_locked(request) -> bool:
    # The lockout backend flags a request it refused before any password was checked;
    # axes counts the failures (and sets axes_failures_since_start) only for those it did not.
    return bool(getattr(request, "axes_locked_out", False)) and getattr(
        request, "axes_failures_since_start", None) is None
