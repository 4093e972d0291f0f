"""The error pages' views: 400 (and the unknown host name), 500, and a refused form (CSRF).

403 and 404 are Django's own views with this app's ``403.html`` and ``404.html``.
None of them ever shows a traceback: that goes to the log file (settings.LOGGING).
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpResponseServerError
from django.http.request import split_domain_port
from django.shortcuts import render
from django.template import loader

from calltally.audit.addresses import client_address

log = logging.getLogger("calltally.security")

# What is logged once per process, and how many distinct values are remembered: whoever sends
# random Host or Origin headers must not fill the memory or the log.
REMEMBERED = 100
_logged: dict[str, set[str]] = {"host": set(), "origin": set()}
_logged_lock = threading.Lock()
PLAIN_500 = "CallTally could not show this page. The error is in the log file (logs/calltally.log in the data dir).\n"


def first_time(kind: str, value: str) -> bool:
    """Whether ``value`` is new for this process (at most REMEMBERED of each kind; then never)."""
    with _logged_lock:
        seen = _logged[kind]
        if value in seen or len(seen) > REMEMBERED:
            return False
        seen.add(value)
        if len(seen) > REMEMBERED:
            log.warning("more than %d unknown %s names seen: no more are logged until CallTally restarts",
                        REMEMBERED, kind)
            return False
        return True


def requested_host(request) -> str:
    """The Host the client asked for, as Django reads it, unchecked (cut to a sane length)."""
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in request.META:
        host = request.META["HTTP_X_FORWARDED_HOST"]
    else:
        host = request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", "")
    return host[:255]


def bad_request(request, exception=None):
    """The 400 page; for a host name CallTally does not answer to, which setting to change.

    An unknown host is the usual first sight of CallTally opened from another
    machine, so the page names the setting and the log says it once per host.
    """
    context = {}
    if isinstance(exception, DisallowedHost):
        host = requested_host(request)
        domain, _port = split_domain_port(host)
        context = {"unknown_host": True, "host": host, "domain": domain}
        if domain and first_time("host", domain):
            log.warning(
                "refused a request for the host name %r (from %s): CallTally answers only to "
                "CALLTALLY_ALLOWED_HOSTS=%s; add %s to it (and https://%s to CALLTALLY_CSRF_TRUSTED_ORIGINS "
                "behind HTTPS), then restart the web service",
                domain, client_address(request) or "an unknown address", ",".join(settings.ALLOWED_HOSTS),
                domain, host)
    return render(request, "400.html", context, status=400)


def server_error(request):
    """The 500 page, rendered without the request: whatever failed may fail again while rendering."""
    try:
        body = loader.render_to_string("500.html")
    except Exception:  # the templates or URLs themselves are broken: a line of text still helps
        log.exception("the 500 page could not be rendered")
        return HttpResponseServerError(PLAIN_500, content_type="text/plain; charset=utf-8")
    return HttpResponseServerError(body)


def csrf_failure(request, reason=""):
    """A refused form (403): usually an old page, or an HTTPS address CallTally was not told about."""
    origin = request.META.get("HTTP_ORIGIN", "")[:255]
    origin_refused = reason.startswith("Origin checking failed")
    if origin_refused and first_time("origin", origin):
        log.warning(
            "refused a form sent from %r: behind a TLS proxy set CALLTALLY_BEHIND_PROXY=true, or add that "
            "origin to CALLTALLY_CSRF_TRUSTED_ORIGINS (now %r)", origin, ",".join(settings.CSRF_TRUSTED_ORIGINS))
    return render(request, "403_csrf.html", {"reason": reason, "origin_refused": origin_refused, "origin": origin},
                  status=403)
