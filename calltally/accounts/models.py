from __future__ import annotations

from django.conf import settings
from django.db import models


class AccountFlags(models.Model):
    """Per-account flags that Django's user model lacks.

    ``must_change_password`` is set on the first-start ``admin`` account: the
    web interface lets that account do nothing until it has a new password.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="flags")
    must_change_password = models.BooleanField(default=False)

    class Meta:
        # The table the web app created before sign-in accounts had an app of their own.
        db_table = "web_accountflags"
        verbose_name_plural = "account flags"

    def __str__(self) -> str:
        return f"flags of {self.user}"
