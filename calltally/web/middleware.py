from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse


class PasswordChangeRequiredMiddleware:
    """Sends an account marked *must change password* to the password form
    until it has chosen a new one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            account = getattr(user, "account", None)
            if account is not None and account.must_change_password:
                allowed = {reverse("password_change"), reverse("logout"), reverse("healthz")}
                if request.path not in allowed and not request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
                    return redirect("password_change")
        return self.get_response(request)
