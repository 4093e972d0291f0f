"""Every user has an account row, made with the user (a superuser made with
``createsuperuser`` included)."""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Account, Role


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def account_for_new_user(sender, instance, created, raw=False, **kwargs) -> None:
    if raw:
        return
    if created:
        # Staff could see every call before accounts had roles: they start as administrators.
        Account.objects.get_or_create(user=instance, defaults={
            "role": Role.ADMINISTRATOR if instance.is_superuser or instance.is_staff else Role.USER})
    elif instance.is_superuser:
        # A superuser is an administrator whatever its account said.
        Account.objects.filter(user=instance).exclude(role=Role.ADMINISTRATOR).update(role=Role.ADMINISTRATOR)
