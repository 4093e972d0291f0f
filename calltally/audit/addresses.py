"""The address a request came from, as the audit trail and the sign-in lockout see it."""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    """The client's IP address, or None when the request carries none that is valid.

    Behind a TLS proxy (``CALLTALLY_BEHIND_PROXY=true``) every request comes from
    the proxy, so the client is the first address of ``X-Forwarded-For``; without
    one, that header is whatever the client typed and only ``REMOTE_ADDR`` is true.
    """
    if request is None:
        return None
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        first = forwarded.split(",")[0].strip()
        if first:
            return valid_address(first)
    return valid_address(request.META.get("REMOTE_ADDR", ""))


def valid_address(text: str) -> str | None:
    """``text`` as a normalised IP address (a port some proxies add is dropped); None if it is not one.

    Never stored unchecked: PostgreSQL's inet column refuses anything else, and a
    header is whatever the sender wrote.
    """
    text = text.strip()
    candidates = [text]
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        candidates.append(text[1:text.index("]")])
    elif text.count(":") == 1:  # 192.0.2.7:51234
        candidates.append(text.split(":")[0])
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None
