"""The http-push endpoint: POST /push/<connection id>/ with ``Authorization: Bearer <token>``.

Body: one record per line (LF, CRLF or CR), e.g. a whole CDR file. The reply
``200 {"records": n}`` comes only after the records are fsync'd in the spool.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth.decorators import login_not_required
from django.db.models import F
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from calltally.spool.storage import default_spool, split_lines

from ..models import Connection, ConnectionState
from . import DEFAULT_MAX_BODY, token_matches

log = logging.getLogger("calltally.recorder")
_MATCHES_NOTHING = "0" * 64  # not a SHA-256 any token has in practice


def _error(status: int, message: str, **headers) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


@csrf_exempt
@login_not_required
def push(request: HttpRequest, connection_id: int) -> JsonResponse:
    if request.method != "POST":
        return _error(405, "use POST", Allow="POST")
    connection = (Connection.objects.select_related("site")
                  .filter(pk=connection_id, kind="http-push", enabled=True, site__enabled=True).first())
    parameters = (connection.parameters or {}) if connection is not None else {}
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    # The token is checked even without a connection, against a hash nothing matches: an
    # unknown id and a wrong token get the same answer, so ids cannot be found by trying them.
    matches = token_matches(token.strip(), parameters.get("token_sha256") or _MATCHES_NOTHING)
    if connection is None or scheme.lower() != "bearer" or not matches:
        log.warning("http-push %s: refused a request from %s (%s)", connection_id,
                    request.META.get("REMOTE_ADDR", "?"),
                    "no enabled http-push connection with this id" if connection is None else "bad or missing token")
        return _error(401, "bad or missing bearer token", **{"WWW-Authenticate": 'Bearer realm="calltally"'})
    limit = int(parameters.get("max_body") or DEFAULT_MAX_BODY)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, "bad Content-Length")
    if length > limit:
        return _error(413, f"body larger than {limit} bytes; send fewer records per request")
    body = request.read(limit + 1)
    if len(body) > limit:
        return _error(413, f"body larger than {limit} bytes; send fewer records per request")
    records = split_lines(body)
    count = 0
    if records:
        address = request.META.get("REMOTE_ADDR", "?")
        count = default_spool().append(connection.site.code, records, f"http:{address}").count
        try:
            updated = ConnectionState.objects.filter(connection=connection).update(
                records_total=F("records_total") + count, last_record_at=dt.datetime.now(dt.UTC))
            if not updated:
                ConnectionState.objects.get_or_create(
                    connection=connection, defaults={"state": "listening", "records_total": count,
                                                     "last_record_at": dt.datetime.now(dt.UTC)})
        except Exception as exc:  # the records are safe; only the counter missed them
            log.warning("http-push %s: could not count %d records: %s", connection_id, count, exc)
    return JsonResponse({"records": count})
