from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "calltally.audit"
    label = "audit"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Sign-ins and sign-outs are recorded wherever they happen (the sign-in page, the
        # admin's, an idle session ended), so they are caught at the signals, not in views.
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from . import receivers

        user_logged_in.connect(receivers.signed_in, dispatch_uid="calltally.audit.signed_in")
        user_login_failed.connect(receivers.sign_in_failed, dispatch_uid="calltally.audit.sign_in_failed")
        user_logged_out.connect(receivers.signed_out, dispatch_uid="calltally.audit.signed_out")
        user_locked_out.connect(receivers.locked_out, dispatch_uid="calltally.audit.locked_out")
