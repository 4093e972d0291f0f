"""Signed-in sessions end after a spell without requests (``CALLTALLY_SESSION_IDLE_MINUTES``)."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login

# The session key of the time (seconds since the epoch) of the account's last request.
LAST_SEEN = "calltally_last_seen"
# Saving the session on every request would write to the database on every page; once a
# minute is enough to keep it alive (settings.SESSION_COOKIE_AGE allows for the minute).
SAVE_EVERY_SECONDS = 60


class IdleSignOutMiddleware:
    """Signs an account out when its previous request is older than the idle time.

    The account is sent to the sign-in page with a message saying why, and asked
    for the page it wanted; the sign-out is audited with the reason ``idle``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            last = request.session.get(LAST_SEEN)
            minutes = settings.SESSION_IDLE_MINUTES
            if isinstance(last, int | float) and now - last > minutes * 60:
                request.calltally_sign_out_reason = "idle"
                logout(request)
                plural = "" if minutes == 1 else "s"
                messages.info(request, f"You were signed out after {minutes} minute{plural} without activity. "
                                       "Sign in again to continue.")
                return redirect_to_login(request.get_full_path())
            if not isinstance(last, int | float) or now - last >= SAVE_EVERY_SECONDS:
                request.session[LAST_SEEN] = now
        return self.get_response(request)
