"""Writing the audit trail.

Callers decide what an event keeps: :func:`snapshot` turns a model instance into
a JSON-safe dict of its fields (leave out what must not be kept with
``exclude``), and :func:`record` stores it. As a second line of defence,
:func:`record` blanks the value of any key that names a secret (a password, a
token, a private key…) wherever it appears, so a forgotten ``exclude`` does not
put one in the database.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
import re
import uuid
from collections.abc import Iterable
from pathlib import PurePath

from django.db import models
from django.utils.functional import Promise

from .addresses import client_address
from .choices import Action
from .models import AuditEvent

REDACTED = "[redacted]"
# Key names whose values are secrets. Broad on purpose: an unneeded blank costs less than a leak.
SECRET_NAME = re.compile(r"password|passwd|passphrase|secret|token|private_key|api_?key|credential|login_script",
                         re.IGNORECASE)
FIELD_WIDTHS = {field.name: field.max_length for field in AuditEvent._meta.concrete_fields if field.max_length}


def record(request, action: str, *, obj: models.Model | None = None, before: dict | None = None,
           after: dict | None = None, user=None, username: str | None = None, **details) -> AuditEvent:
    """Store one audit event and return it.

    ``request`` gives the account and the client address (None for a command or a
    background job); ``user`` names the account when the request does not (the
    signal of a sign-in), ``username`` the name when there is no account (a failed
    sign-in). ``obj`` is the object acted on; ``before`` and ``after`` are dicts the
    caller made (with :func:`snapshot`); ``details`` anything else worth keeping.
    """
    if action not in Action.values:
        raise ValueError(f"{action!r} is not an audit action; add it to calltally.audit.choices.Action")
    if user is None and request is not None:
        current = getattr(request, "user", None)
        if current is not None and current.is_authenticated:
            user = current
    if username is None:
        username = user.get_username() if user is not None else ""
    event = AuditEvent(
        user=user if user is not None and user.pk is not None else None,
        username=_cut(username, "username"),
        address=client_address(request),
        action=action,
        before=_safe(before) if before is not None else None,
        after=_safe(after) if after is not None else None,
        details=_safe(details),
    )
    if obj is not None:
        event.object_type = _cut(obj._meta.label_lower, "object_type")
        event.object_id = _cut("" if obj.pk is None else str(obj.pk), "object_id")
        event.object_text = _cut(str(obj), "object_text")
    event.save()
    return event


def snapshot(instance: models.Model, exclude: Iterable[str] = ()) -> dict:
    """The concrete fields of ``instance`` as a JSON-safe dict, by field name, without ``exclude``.

    A foreign key gives the related object's primary key (``site`` → its id), not
    the object; ``exclude`` takes either spelling (``site`` or ``site_id``).
    """
    skip = set(exclude)
    values = {}
    for field in instance._meta.concrete_fields:
        if field.name in skip or field.attname in skip:
            continue
        values[field.name] = jsonable(getattr(instance, field.attname))
    return values


def jsonable(value):
    """``value`` as something JSON and every database's JSON column accept."""
    if value is None or isinstance(value, bool | int | str) and not isinstance(value, enum.Enum):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, float):
        # PostgreSQL's jsonb refuses NaN and infinities.
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((jsonable(item) for item in value), key=repr)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        # Bytes are encrypted secrets or raw records: their size is all the trail needs.
        return f"<{len(value)} bytes>"
    if isinstance(value, decimal.Decimal | uuid.UUID | PurePath | Promise):
        return str(value)
    if isinstance(value, models.Model):
        return jsonable(value.pk)
    return str(value)


def redacted(value):
    """``value`` with the value of every key that names a secret blanked, at any depth.

    An empty secret stays empty, so the trail still tells "set" from "not set".
    """
    if isinstance(value, dict):
        return {
            key: (REDACTED if item not in (None, "") else item) if SECRET_NAME.search(str(key)) else redacted(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redacted(item) for item in value]
    return value


def _safe(value):
    return redacted(jsonable(value))


def _cut(text: str, field: str) -> str:
    return text[: FIELD_WIDTHS[field]]
