"""The audit trail's vocabulary, declared once: every record names one of these actions."""

from django.db import models


class Action(models.TextChoices):
    SIGN_IN = "sign_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    LOCKED_OUT = "locked_out", "Locked out"
    SIGN_OUT = "sign_out", "Signed out"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DELETE = "delete", "Deleted"
    RECALCULATE = "recalculate", "Recalculated"
    REPROCESS = "reprocess", "Reprocessed"
    EXPORT = "export", "Exported"
    DOWNLOAD = "download", "Downloaded"
    CONFIGURATION = "configuration", "Configuration changed"
