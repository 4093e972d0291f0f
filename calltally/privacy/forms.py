"""The data-subject request form: one person (by username) or one number. The page's export and
erase forms and the ``privacy`` command validate through it alike."""

from __future__ import annotations

from django import forms

from calltally.directory.models import Person

from .subjects import significant


class SubjectForm(forms.Form):
    """Whom a request is about: a directory person or an outside number, exactly one."""

    person = forms.CharField(required=False, max_length=150, label="Person (username)",
                             help_text="A person of the directory: their calls, extensions, accounts and raw records.")
    number = forms.CharField(required=False, max_length=64, label="or number",
                             help_text="An outside number: the calls to and from it, and every raw record holding it.")

    def clean_person(self):
        username = self.cleaned_data.get("person", "").strip()
        if username and not Person.objects.filter(username=username).exists():
            raise forms.ValidationError(f"There is no person with username {username!r} in the directory.")
        return username

    def clean_number(self):
        number = self.cleaned_data.get("number", "").strip()
        if number and len(significant(number)) < 3:
            raise forms.ValidationError("Give the number's digits (at least three, leading zeros aside).")
        return number

    def clean(self):
        data = super().clean()
        if not self.errors and bool(data.get("person")) == bool(data.get("number")):
            raise forms.ValidationError("Name either a person or a number (one of the two).")
        return data
