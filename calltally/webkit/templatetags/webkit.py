"""Template helpers for the generic pages: ``{% load webkit %}``."""

from __future__ import annotations

from django import forms, template

register = template.Library()


def widget_class(widget: forms.Widget) -> str:
    """Bootstrap's class for a widget: a select, a check box, or a text-like input."""
    if isinstance(widget, forms.CheckboxInput):
        return "form-check-input"
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return ""
    if isinstance(widget, forms.Select | forms.SelectMultiple):
        return "form-select"
    return "form-control"


@register.filter
def control(field, size: str = ""):
    """A bound field's widget with Bootstrap's classes (and ``is-invalid`` when it has errors)."""
    classes = [widget_class(field.field.widget)]
    if size and classes[0] in ("form-control", "form-select"):
        classes.append(f"{classes[0]}-{size}")
    if field.errors:
        classes.append("is-invalid")
    existing = field.field.widget.attrs.get("class", "")
    attrs = {"class": " ".join(part for part in (existing, *classes) if part)}
    if field.help_text:
        attrs["aria-describedby"] = f"{field.auto_id}_help"
    return field.as_widget(attrs=attrs)


@register.filter
def is_checkbox(field) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def is_multiple_choice(field) -> bool:
    return isinstance(field.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple)
