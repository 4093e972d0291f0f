"""Small helpers shared by the management commands."""

from __future__ import annotations

import datetime as dt
import json
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


def get_site(code: str):
    from calltally.sites.models import Site

    try:
        return Site.objects.get(code=code)
    except Site.DoesNotExist:
        known = ", ".join(Site.objects.values_list("code", flat=True)) or "none yet — add one with `calltally site add`"
        raise CommandError(f"no site with code {code!r} (sites: {known})") from None


def parse_date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option} {text!r} is not a date; use YYYY-MM-DD.") from None


def validation_message(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" if field != "__all__" else " ".join(messages)
            for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


def full_clean_or_error(instance, exclude=None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise CommandError(validation_message(exc)) from None


def print_json(value, stream=None) -> None:
    stream = stream or sys.stdout
    stream.write(json.dumps(value, indent=2, default=str, ensure_ascii=False) + "\n")


def key_values(pairs: list[str], option: str) -> dict:
    """``KEY=VALUE`` options; a VALUE that is valid JSON is taken as JSON."""
    result = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"{option} {pair!r} must look like KEY=VALUE.")
        try:
            result[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            result[key.strip()] = value
    return result
