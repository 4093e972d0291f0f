from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from calltally.sites.models import Site, code_validator

number_validator = RegexValidator(r"^[0-9*#+A-Za-z_.-]{1,32}$", "Use up to 32 digits (letters allowed for SIP names).")


class CostCenter(models.Model):
    """A node of the organisation tree that call costs roll up to.

    The tree may be of any depth; a cost center's parent is another cost center
    or none (a root).
    """

    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        node = self.parent
        while node is not None:
            if node.pk == self.pk and self.pk is not None:
                raise ValidationError({"parent": "A cost center cannot be below itself."})
            node = node.parent

    def ancestors(self) -> list[CostCenter]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    def subtree_ids(self) -> set[int]:
        """Ids of this cost center and of every cost center below it."""
        children: dict[int | None, list[int]] = {}
        for pk, parent_id in CostCenter.objects.values_list("pk", "parent_id"):
            children.setdefault(parent_id, []).append(pk)
        found, todo = set(), [self.pk]
        while todo:
            pk = todo.pop()
            if pk not in found:
                found.add(pk)
                todo.extend(children.get(pk, []))
        return found


class Person(models.Model):
    """Someone calls are attributed to, through the extensions they own.

    A person may be virtual (a meeting-room phone). People who leave are made
    inactive, never deleted, so their history stays.
    """

    username = models.CharField(max_length=150, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="people")
    cost_center = models.ForeignKey(
        CostCenter, null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["username"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.username

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part) or self.username


class Extension(models.Model):
    """A number on a site's PBX, usually owned by a person.

    Numbers are unique within a site; two sites may reuse the same number.
    Billing disabled keeps the calls but marks them as not to be charged.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="extensions")
    number = models.CharField(max_length=32, validators=[number_validator])
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="extensions")
    cost_center = models.ForeignKey(
        CostCenter,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="extensions",
        help_text="Overrides the person's cost center for this extension's calls.",
    )
    billing_enabled = models.BooleanField(default=True)
    auto_acquired = models.BooleanField(default=False, help_text="Created by the Miner from a call.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site__code", "number"]
        constraints = [models.UniqueConstraint(fields=["site", "number"], name="extension_unique_per_site")]

    def __str__(self) -> str:
        return f"{self.number}@{self.site.code}"
