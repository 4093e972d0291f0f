"""Making, finding and revoking API tokens: one place for the tokens page and `calltally api token`.

A key is ``ct_`` and 40 random URL-safe characters; the table keeps its SHA-256 digest
(a key this long needs no slow hash: it cannot be guessed, only stolen, and the digest
cannot be turned back into it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django import forms
from django.utils import timezone

from .models import ApiToken

PREFIX = "ct_"
SHOWN_PREFIX = 10  # "ct_" and 7 characters: enough to tell tokens apart, nothing to guess the rest with
# last_used is written at most this often per token: not a database write per API request.
TOUCH_EVERY = dt.timedelta(minutes=5)


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class TokenForm(forms.Form):
    """A new token's name: the web page and the command validate it here."""

    name = forms.CharField(label="Name", max_length=100, help_text="What the token is for, e.g. the nightly export.")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the token a name.")
        return name


def create(user, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it and its key, which nothing can show again."""
    key = PREFIX + secrets.token_urlsafe(30)
    token = ApiToken.objects.create(user=user, name=name, prefix=key[:SHOWN_PREFIX], digest=digest_of(key))
    return token, key


def find(key: str) -> ApiToken | None:
    """The token of a key (with its user), or None."""
    if not key.startswith(PREFIX):
        return None
    return ApiToken.objects.select_related("user").filter(digest=digest_of(key)).first()


def touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used is None or now - token.last_used >= TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now


def snapshot(token: ApiToken) -> dict:
    """What the audit trail keeps of a token: never its key, nor its digest."""
    return {"name": token.name, "prefix": token.prefix, "user": token.user.get_username(),
            "created": token.created.isoformat() if token.created else None}
