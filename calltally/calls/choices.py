"""Choices shared by calls and discarded calls.

Directions, dispositions, categories, row kinds and discard reasons are declared once, in
:mod:`calltally.vocabulary` (plain Python, used by drivers and the rating
engine); the choices here are derived from it.
"""

from django.db import models

from calltally import vocabulary


def _choices(name: str, labels: dict[str, str]) -> type[models.TextChoices]:
    choices = models.TextChoices(name, [(value.upper(), (value, label)) for value, label in labels.items()])
    choices.__module__ = __name__  # so migrations and pickles find them here
    return choices


Direction = _choices("Direction", vocabulary.DIRECTION_LABELS)
Disposition = _choices("Disposition", vocabulary.DISPOSITION_LABELS)
Category = _choices("Category", vocabulary.CATEGORY_LABELS)
CallKind = _choices("CallKind", vocabulary.KIND_LABELS)
DiscardReason = _choices("DiscardReason", vocabulary.DISCARD_REASON_LABELS)
