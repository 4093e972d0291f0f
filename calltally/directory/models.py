from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from calltally.sites.models import Site, code_validator

number_validator = RegexValidator(r"^[0-9*#+A-Za-z_.-]{1,32}$", "Use up to 32 digits (letters allowed for SIP names).")
# Privacy masks at most this many trailing digits of a number.
MAX_MASKED_DIGITS = 20


class CostCenter(models.Model):
    """A node of the organisation tree that call costs roll up to.

    The tree may be of any depth; a cost center's parent is another cost center
    or none (a root).
    """

    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    manager = models.ForeignKey(
        "Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_cost_centers"
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        node, seen = self.parent, set()
        while node is not None and node.pk not in seen:
            if node.pk == self.pk and self.pk is not None:
                raise ValidationError({"parent": "A cost center cannot be below itself."})
            seen.add(node.pk)
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
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    masked_digits = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_MASKED_DIGITS)],
        help_text="Privacy: the last N digits of the outside numbers in this person's calls are shown as *.",
    )
    virtual = models.BooleanField(default=False, help_text="Not a human: a meeting room, a lobby or fax line.")
    active = models.BooleanField(default=True)
    # Directory sync: a person with a DN is kept by `calltally ldap sync`; ``ldap_values``
    # holds the value the last sync gave each field it manages (those fields are
    # read-only in the admin and the forms; "extension" is the number it assigned).
    ldap_dn = models.CharField("LDAP DN", max_length=500, blank=True, editable=False)
    ldap_values = models.JSONField("LDAP values", default=dict, blank=True, editable=False)
    ldap_synced = models.DateTimeField("last LDAP sync", null=True, blank=True, editable=False)

    class Meta:
        ordering = ["username"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.username

    def clean(self) -> None:
        if self.manager_id is not None and self.pk is not None and self.manager_id == self.pk:
            raise ValidationError({"manager": "A person cannot be their own manager."})

    @property
    def is_synced(self) -> bool:
        """Kept by the LDAP / Active Directory sync."""
        return bool(self.ldap_dn)

    @property
    def synced_fields(self) -> frozenset[str]:
        """The fields the directory sync sets, read-only everywhere else."""
        if not self.ldap_dn:
            return frozenset()
        return frozenset(self.ldap_values) | {"username", "active"}

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


class ExtensionAlias(models.Model):
    """Another number that reaches an extension: a DID, a second line appearance.

    Alias numbers share the extension's site and are unique there, like
    extension numbers; the Miner treats a call on an alias as a call on the extension.
    """

    extension = models.ForeignKey(Extension, on_delete=models.CASCADE, related_name="aliases")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", editable=False)
    number = models.CharField(max_length=32, validators=[number_validator])

    class Meta:
        ordering = ["site__code", "number"]
        verbose_name_plural = "extension aliases"
        constraints = [models.UniqueConstraint(fields=["site", "number"], name="extension_alias_unique_per_site")]

    def __str__(self) -> str:
        return f"{self.number}→{self.extension_id}"

    def save(self, *args, **kwargs):
        self.site_id = self.extension.site_id
        super().save(*args, **kwargs)


def normalize_account_code(code: str) -> str:
    """Account codes match whatever their case and surrounding blanks."""
    return (code or "").strip().upper()


class AccountCode(models.Model):
    """A client-matter, forced-authorisation or PIN code users dial with their calls.

    A code belongs to one site or, with no site, to every site (multisite); a
    site's own code wins over a multisite one with the same text. Codes match
    case-insensitively: ``normalized`` is the upper-case copy the unique
    constraints and the Miner's lookups use.
    """

    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.CASCADE, related_name="account_codes",
        help_text="Empty: the code is valid on every site.",
    )
    code = models.CharField(max_length=64)
    normalized = models.CharField(max_length=64, editable=False)
    description = models.CharField(max_length=200, blank=True)
    privacy_digits = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_MASKED_DIGITS)],
        help_text="Privacy: the last N digits of the outside number of calls made with this code are shown as *.",
    )
    cost_center = models.ForeignKey(
        CostCenter, null=True, blank=True, on_delete=models.SET_NULL, related_name="account_codes",
        help_text="Charge calls made with this code to this cost center.",
    )
    replace_with_description = models.BooleanField(
        default=False, help_text="Show the description instead of the code in calls and reports."
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site__code", "normalized"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "normalized"], condition=Q(site__isnull=False), name="account_code_unique_per_site"
            ),
            models.UniqueConstraint(
                fields=["normalized"], condition=Q(site__isnull=True), name="account_code_unique_multisite"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}@{self.site.code if self.site_id else '*'}"

    def save(self, *args, **kwargs):
        self.normalized = normalize_account_code(self.code)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.code = (self.code or "").strip()
        self.normalized = normalize_account_code(self.code)
        if not self.code:
            raise ValidationError({"code": "An account code cannot be blank."})
        if any(ch.isspace() or not ch.isprintable() for ch in self.code):
            raise ValidationError({"code": "An account code cannot contain blanks or control characters."})
        if self.replace_with_description and not self.description:
            raise ValidationError({"description": "Give a description to show in place of the code."})

    @property
    def display(self) -> str:
        return self.description if self.replace_with_description and self.description else self.code
