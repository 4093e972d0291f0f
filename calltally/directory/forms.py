"""The forms that validate cost centers, people, extensions and account codes.

The admin, the web UI, the file importers, the LDAP sync and the action that
creates undefined extensions all validate through these forms, so a value is
accepted or refused the same way wherever it comes from.

Related rows are chosen by their code (a site, a cost center) or username (a
person), the way they appear in files and on the command line. For a file of
thousands of rows, a form can be given a ``Lookups`` of prefetched rows: related
rows are then found in its dicts, and uniqueness is left to the caller, which
checks it for the whole file at once in memory. Such a form makes no query.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.forms.models import construct_instance

from calltally.sites.models import Site

from .models import AccountCode, CostCenter, Extension, ExtensionAlias, Person, number_validator

SYNCED_HELP = "Kept by the LDAP directory sync; change it in the directory."
ALIAS_SEPARATORS = re.compile(r"[\s,;|]+")


@dataclass
class Lookups:
    """Prefetched rows by the key files name them with, and by id."""

    sites: dict[str, Site] = field(default_factory=dict)
    cost_centers: dict[str, CostCenter] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    _by_id: dict[type, dict[int, object]] = field(default_factory=dict, repr=False)
    _fields: dict[type, SharedFields] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, people: bool = True) -> Lookups:
        """One query per table."""
        return cls(
            sites={s.code: s for s in Site.objects.all()},
            cost_centers={c.code: c for c in CostCenter.objects.all()},
            people={p.username: p for p in Person.objects.all()} if people else {},
        )

    def table(self, model) -> dict:
        if model is Site:
            return self.sites
        if model is CostCenter:
            return self.cost_centers
        if model is Person:
            return self.people
        raise LookupError(model)

    def by_id(self, model, pk):
        if pk is None:
            return None
        index = self._by_id.get(model)
        table = self.table(model)
        if index is None or (pk not in index and len(index) != len(table)):
            index = self._by_id[model] = {obj.pk: obj for obj in table.values()}
        return index.get(pk)

    def shared_fields(self, form_class) -> SharedFields:
        """The form class's fields, copied once for the whole batch (see ``SharedFields``)."""
        shared = self._fields.get(form_class)
        if shared is None:
            shared = self._fields[form_class] = SharedFields(copy.deepcopy(form_class.base_fields))
            for formfield in shared.values():
                if isinstance(formfield, CodeChoiceField):
                    formfield.cache = self.table(formfield.queryset.model)
        return shared

    def add(self, obj) -> None:
        """Make a row created during the batch findable by later rows."""
        model = type(obj)
        key = obj.username if model is Person else obj.code
        self.table(model)[key] = obj
        if obj.pk is not None:
            self._by_id.setdefault(model, {})[obj.pk] = obj


class SharedFields(dict):
    """Form fields shared by every form of one batch.

    A form deep-copies its fields when it is made, which is most of what
    validating a row costs; the forms of a batch use the same fields instead
    (fields hold no per-form state while cleaning), and copy one only to change
    it (see ``DirectoryForm.own_field``).
    """

    def __deepcopy__(self, memo):
        return dict(self)


class CodeChoiceField(forms.ModelChoiceField):
    """A related row chosen by its code (or username), with a plain message
    naming the code when there is no such row."""

    def __init__(self, queryset, key: str = "code", noun: str = "", **kwargs):
        super().__init__(queryset, to_field_name=key, **kwargs)
        self.noun = noun or queryset.model._meta.verbose_name
        self.cache: dict | None = None

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, self.queryset.model):
            return value
        key = str(value).strip()
        if self.cache is not None:
            found = self.cache.get(key)
        else:
            found = self.queryset.filter(**{self.to_field_name: key}).first()
        if found is None:
            label = "username" if self.to_field_name == "username" else "code"
            raise ValidationError(f"there is no {self.noun} with {label} {key!r}", code="invalid_choice")
        return found


def _code_and_name(obj) -> str:
    return f"{obj.code} — {obj.name}" if getattr(obj, "name", "") else obj.code


def code_of(obj, key: str = "code") -> str:
    return getattr(obj, key) if obj is not None else ""


class DirectoryForm(forms.ModelForm):
    """A model form that can validate one row of a large batch without queries."""

    # On a web page (a ``scope`` given), the fields that choose a person take a username typed in:
    # a select of every person would be thousands of options long.
    def __init__(self, *args, lookups: Lookups | None = None, scope=None, **kwargs):
        self.lookups = lookups
        self.scope = scope
        if lookups is not None:
            self.base_fields = lookups.shared_fields(type(self))
        super().__init__(*args, **kwargs)
        if scope is not None:
            self.narrow_to(scope)
        for name, formfield in self.fields.items():
            if not isinstance(formfield, CodeChoiceField):
                continue
            model = formfield.queryset.model
            # The instance's related row by its code, as the field expects it.
            initial = self.initial.get(name)
            if initial is not None and not isinstance(initial, str | model):
                related = lookups.by_id(model, initial) if lookups is not None else getattr(self.instance, name)
                self.initial[name] = code_of(related, formfield.to_field_name) or None

    def narrow_to(self, scope) -> None:
        """Offer and accept only the sites, and the people of the sites, the account runs: a site
        administrator's form refuses another site's code as if it did not exist. Objects of a
        site (people, extensions, account codes) must then be on one of those sites."""
        for formfield in self.fields.values():
            if not isinstance(formfield, CodeChoiceField):
                continue
            model = formfield.queryset.model
            if model is Site:
                formfield.queryset = formfield.queryset.filter(scope.sites())
                if not scope.is_administrator:
                    formfield.required = True
                    formfield.empty_label = None
            if model in (Site, CostCenter):
                formfield.label_from_instance = _code_and_name
                if not formfield.required:
                    every_site = model is Site and self._meta.model is AccountCode
                    formfield.empty_label = "— every site (multisite) —" if every_site else "— none —"
            if model is Person:
                if not scope.is_administrator:
                    formfield.queryset = formfield.queryset.filter(scope.sites(field="site"))
                formfield.widget = forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"})
                formfield.help_text = formfield.help_text or "A username; empty for none."

    def own_field(self, name: str) -> forms.Field:
        """The form's own copy of a field, to change it for this form only."""
        if self.lookups is not None:
            self.fields[name] = copy.deepcopy(self.fields[name])
        return self.fields[name]

    def _post_clean(self):
        if self.lookups is None:
            return super()._post_clean()
        # In a batch the related rows came from the lookups, so they exist; unique
        # values and constraints are checked by the caller for the whole batch.
        exclude = self._get_validation_exclusions()
        exclude.update(name for name, f in self.fields.items() if isinstance(f, CodeChoiceField))
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)
        except ValidationError as exc:
            self._update_errors(exc)
        try:
            self.instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            self._update_errors(exc)

    def error_text(self) -> str:
        """The form's errors on one line, each after the name of its field."""
        parts = []
        for name, errors in self.errors.items():
            text = ", ".join(str(e).rstrip(".") for e in errors)
            parts.append(text if name == "__all__" else f"{name}: {text}")
        return "; ".join(parts)


class CostCenterForm(DirectoryForm):
    parent = CodeChoiceField(CostCenter.objects.all(), required=False, noun="cost center")
    manager = CodeChoiceField(Person.objects.all(), key="username", required=False, noun="person")

    class Meta:
        model = CostCenter
        fields = ["code", "name", "parent", "manager"]

    def clean_parent(self):
        """A cost center moves anywhere but below itself: the new parent's chain up to its root
        must not pass through it (one query for the whole tree)."""
        parent = self.cleaned_data.get("parent")
        own = self.instance.pk
        if parent is None or own is None:
            return parent
        if parent.pk == own:
            raise ValidationError(f"A cost center cannot be below itself: {parent.code} cannot be its own parent.")
        if self.lookups is not None:
            parents = {c.pk: c.parent_id for c in self.lookups.cost_centers.values()}
        else:
            parents = dict(CostCenter.objects.values_list("pk", "parent_id"))
        node, seen = parents.get(parent.pk), set()
        while node is not None and node not in seen:
            if node == own:
                raise ValidationError(f"A cost center cannot be below itself: {parent.code} is below "
                                      f"{self.instance.code}. Move {self.instance.code} under another cost center, "
                                      "or make it a root.")
            seen.add(node)
            node = parents.get(node)
        return parent


class PersonForm(DirectoryForm):
    """A person. Fields the LDAP sync keeps are disabled (read-only) for synced people,
    except for the sync itself (``directory_sync=True``)."""

    site = CodeChoiceField(Site.objects.all(), required=False, noun="site")
    cost_center = CodeChoiceField(CostCenter.objects.all(), required=False, noun="cost center")
    manager = CodeChoiceField(Person.objects.all(), key="username", required=False, noun="person")

    class Meta:
        model = Person
        fields = ["username", "first_name", "last_name", "email", "site", "cost_center", "manager",
                  "masked_digits", "virtual", "active"]

    def __init__(self, *args, directory_sync: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not directory_sync:
            for name in self.instance.synced_fields:
                if name in self.fields:
                    synced = self.own_field(name)
                    synced.disabled = True
                    synced.help_text = SYNCED_HELP

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if any(ch.isspace() or not ch.isprintable() for ch in username):
            raise ValidationError("A username cannot contain blanks or control characters.")
        return username

    @staticmethod
    def values(person: Person, lookups: Lookups | None = None) -> dict:
        """A person's current values as form data (codes for related rows)."""

        def related(model, pk, key="code"):
            if pk is None:
                return ""
            obj = lookups.by_id(model, pk) if lookups is not None else model.objects.filter(pk=pk).first()
            return code_of(obj, key)

        return {
            "username": person.username,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email,
            "site": related(Site, person.site_id),
            "cost_center": related(CostCenter, person.cost_center_id),
            "manager": related(Person, person.manager_id, "username"),
            "masked_digits": person.masked_digits,
            "virtual": person.virtual,
            "active": person.active,
        }


def split_aliases(text: str) -> list[str]:
    """Alias numbers as written in a cell or a form: separated by blanks, commas, ; or |."""
    seen: dict[str, None] = {}
    for number in ALIAS_SEPARATORS.split(text or ""):
        if number:
            seen.setdefault(number, None)
    return list(seen)


class ExtensionForm(DirectoryForm):
    site = CodeChoiceField(Site.objects.all(), noun="site")
    person = CodeChoiceField(Person.objects.all(), key="username", required=False, noun="person")
    cost_center = CodeChoiceField(CostCenter.objects.all(), required=False, noun="cost center")
    aliases = forms.CharField(
        required=False, max_length=2000,
        help_text="Other numbers that reach this extension (DIDs), separated by blanks.",
    )

    class Meta:
        model = Extension
        fields = ["site", "number", "person", "cost_center", "billing_enabled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and "aliases" not in self.initial and self.lookups is None:
            self.initial["aliases"] = " ".join(
                self.instance.aliases.order_by("number").values_list("number", flat=True)
            )
        owner_id = self.instance.person_id
        if owner_id is None:
            person = None
        elif self.lookups is not None:
            person = self.lookups.by_id(Person, owner_id)
        else:
            person = self.instance.person
        if person is not None and person.ldap_values.get("extension"):
            for name in ("site", "number", "person"):
                synced = self.own_field(name)
                synced.disabled = True
                synced.help_text = SYNCED_HELP

    def clean_aliases(self) -> list[str]:
        numbers = split_aliases(self.cleaned_data.get("aliases", ""))
        for number in numbers:
            try:
                number_validator(number)
            except ValidationError:
                raise ValidationError(f"{number!r} is not a number (up to 32 digits).") from None
        return numbers

    def clean(self):
        cleaned = super().clean()
        number, aliases = cleaned.get("number"), cleaned.get("aliases") or []
        if number and number in aliases:
            self.add_error("aliases", f"{number} is the extension's own number.")
        site = cleaned.get("site")
        if self.lookups is None and site is not None and number:
            # In a batch the importer checks numbers against the whole file instead.
            own = self.instance.pk
            alias = ExtensionAlias.objects.filter(site=site, number=number).exclude(extension_id=own).first()
            if alias is not None:
                self.add_error("number", f"{number} is an alias of extension {alias.extension.number} "
                                         f"on site {site.code}.")
            for other in aliases:
                if Extension.objects.filter(site=site, number=other).exclude(pk=own).exists():
                    self.add_error("aliases", f"{other} is an extension of site {site.code}.")
                taken = ExtensionAlias.objects.filter(site=site, number=other).exclude(extension_id=own).first()
                if taken is not None:
                    self.add_error("aliases", f"{other} is already an alias of extension "
                                              f"{taken.extension.number} on site {site.code}.")
        return cleaned

    def _save_m2m(self):
        super()._save_m2m()
        if not self.fields["aliases"].disabled:
            set_aliases(self.instance, self.cleaned_data.get("aliases") or [])

    @staticmethod
    def values(extension: Extension, lookups: Lookups | None = None, aliases: list[str] | None = None) -> dict:
        def related(model, pk, key="code"):
            if pk is None:
                return ""
            obj = lookups.by_id(model, pk) if lookups is not None else model.objects.filter(pk=pk).first()
            return code_of(obj, key)

        return {
            "site": related(Site, extension.site_id),
            "number": extension.number,
            "person": related(Person, extension.person_id, "username"),
            "cost_center": related(CostCenter, extension.cost_center_id),
            "billing_enabled": extension.billing_enabled,
            "aliases": " ".join(aliases or []),
        }


def set_aliases(extension: Extension, numbers: list[str]) -> None:
    """Make an extension's alias numbers exactly these."""
    current = set(extension.aliases.values_list("number", flat=True))
    extension.aliases.exclude(number__in=numbers).delete()
    ExtensionAlias.objects.bulk_create([
        ExtensionAlias(extension=extension, site_id=extension.site_id, number=n) for n in numbers if n not in current
    ])


class AccountCodeForm(DirectoryForm):
    site = CodeChoiceField(Site.objects.all(), required=False, noun="site",
                           help_text="Empty: the code is valid on every site.")
    cost_center = CodeChoiceField(CostCenter.objects.all(), required=False, noun="cost center")

    class Meta:
        model = AccountCode
        fields = ["code", "description", "site", "privacy_digits", "cost_center", "replace_with_description"]

    def validate_unique(self):
        super().validate_unique()
        code = self.instance
        if not code.normalized:
            return
        clash = AccountCode.objects.filter(site_id=code.site_id, normalized=code.normalized).exclude(pk=code.pk)
        if clash.exists():
            where = f"site {code.site.code}" if code.site_id else "every site (multisite)"
            self.add_error("code", f"account code {code.code!r} exists already for {where} "
                                   "(codes match whatever their case).")

    @staticmethod
    def values(account: AccountCode, lookups: Lookups | None = None) -> dict:
        def related(model, pk):
            if pk is None:
                return ""
            obj = lookups.by_id(model, pk) if lookups is not None else model.objects.filter(pk=pk).first()
            return code_of(obj)

        return {
            "code": account.code,
            "description": account.description,
            "site": related(Site, account.site_id),
            "privacy_digits": account.privacy_digits,
            "cost_center": related(CostCenter, account.cost_center_id),
            "replace_with_description": account.replace_with_description,
        }


class CostCenterMoveForm(CostCenterForm):
    """Only the parent of a cost center: ``calltally costcenter set CODE --parent …`` on a page."""

    manager = None  # left as it is

    class Meta(CostCenterForm.Meta):
        fields = ["parent"]
        help_texts = {"parent": "Empty: a root. Everything below the cost center moves with it."}


# --- bulk changes from the list pages ------------------------------------------------------

EITHER = (("", "— leave as it is —"), ("yes", "Yes"), ("no", "No"))


class BulkForm(forms.Form):
    """One change applied to many objects: the fields left empty change nothing. Each object
    is then checked by its own form — the one the CLI and the importers use — saved and audited
    on its own; those its form refuses are named with the reason.

    After ``apply``, ``cost_sites`` lists the sites whose calls' costs may differ (None: none).
    """

    form_class: type[DirectoryForm] | None = None
    cost_fields: tuple[str, ...] = ()  # model fields whose change affects costs
    audit_exclude: tuple[str, ...] = ()

    def __init__(self, data=None, *, objects, scope=None):
        super().__init__(data)
        self.objects = objects
        self.scope = scope
        self.cost_sites: list | None = None
        for formfield in self.fields.values():
            if not isinstance(formfield, CodeChoiceField):
                continue
            model = formfield.queryset.model
            if model in (Site, CostCenter):
                formfield.label_from_instance = _code_and_name
            if scope is not None and model is Site:
                formfield.queryset = formfield.queryset.filter(scope.sites())
            if model is Person:
                if scope is not None and not scope.is_administrator:
                    formfield.queryset = formfield.queryset.filter(scope.sites(field="site"))
                formfield.widget = forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"})

    def changes(self) -> dict:
        """The form data to lay over each object's: the fields given, as their form expects them."""
        found = {}
        for name, value in self.cleaned_data.items():
            if value in (None, ""):
                continue
            if isinstance(value, models.Model):
                value = code_of(value, "username" if isinstance(value, Person) else "code")
            elif value in ("yes", "no"):
                value = value == "yes"
            found[name] = value
        return found

    def values(self, obj) -> dict:
        return self.form_class.values(obj)

    def site_of(self, obj):
        return getattr(obj, "site", None)

    def apply(self, request) -> tuple[int, list[str]]:
        from calltally.audit import services as audit
        from calltally.audit.choices import Action

        changes = self.changes()
        changed, errors, cost_sites = 0, [], []
        for obj in self.objects:
            before = audit.snapshot(obj, exclude=self.audit_exclude)
            data = {**self.values(obj), **changes}
            form = self.form_class(data, instance=obj, scope=self.scope)
            if not form.is_valid():
                errors.append(f"{obj}: {form.error_text()}")
                continue
            with transaction.atomic():
                saved = form.save()
            after = audit.snapshot(saved, exclude=self.audit_exclude)
            if after == before:
                continue
            audit.record(request, Action.UPDATE, obj=saved, before=before, after=after, bulk=True)
            changed += 1
            if any(before.get(name) != after.get(name) for name in self.cost_fields):
                cost_sites.append(self.site_of(saved))
        if cost_sites:
            self.cost_sites = cost_sites
        return changed, errors


class PersonBulkForm(BulkForm):
    form_class = PersonForm
    cost_fields = ("cost_center",)

    site = CodeChoiceField(Site.objects.order_by("code"), required=False, noun="site", empty_label="— leave —")
    cost_center = CodeChoiceField(CostCenter.objects.order_by("code"), required=False, noun="cost center",
                                  empty_label="— leave —")
    manager = CodeChoiceField(Person.objects.all(), key="username", required=False, noun="person",
                              help_text="A username; empty leaves each person's manager as it is.")
    active = forms.ChoiceField(choices=EITHER, required=False)


class ExtensionBulkForm(BulkForm):
    form_class = ExtensionForm
    cost_fields = ("cost_center", "person")

    cost_center = CodeChoiceField(CostCenter.objects.order_by("code"), required=False, noun="cost center",
                                  empty_label="— leave —")
    person = CodeChoiceField(Person.objects.all(), key="username", required=False, noun="person",
                             label="Owner", help_text="A username; empty leaves each owner as it is.")
    unassign = forms.BooleanField(required=False, label="Unassign them (no owner)")
    billing_enabled = forms.ChoiceField(choices=EITHER, required=False, label="Billing")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("unassign") and cleaned.get("person"):
            self.add_error("unassign", "Either give an owner or unassign them, not both.")
        return cleaned

    def changes(self) -> dict:
        found = super().changes()
        if found.pop("unassign", False):
            found["person"] = ""
        return found

    def values(self, extension):
        return ExtensionForm.values(extension, aliases=[a.number for a in extension.aliases.order_by("number")])


class AccountCodeBulkForm(BulkForm):
    form_class = AccountCodeForm
    cost_fields = ("cost_center",)

    cost_center = CodeChoiceField(CostCenter.objects.order_by("code"), required=False, noun="cost center",
                                  empty_label="— leave —")
    privacy_digits = forms.IntegerField(required=False, min_value=0, max_value=20, label="Privacy digits")
    replace_with_description = forms.ChoiceField(choices=EITHER, required=False, label="Shown as description")
