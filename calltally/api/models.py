from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A key a script signs in to the REST API with, on behalf of one account.

    The key is shown once, when it is made; only its SHA-256 digest is stored, so
    the table (a backup, a diagnostics bundle) gives no way in. ``prefix`` — the
    key's first characters, which say nothing of the rest — lets a person tell
    their tokens apart on the tokens page. A token acts with its account's role
    and scope, now and as they change; deleting the account deletes its tokens.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. the script that uses it.")
    prefix = models.CharField(max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["user__username", "-created", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
