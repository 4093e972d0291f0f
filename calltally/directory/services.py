"""Directory actions shared by the CLI and the web UI: the cost center tree, removing a person."""

from __future__ import annotations

from .models import CostCenter, Extension, Person


def cost_center_tree() -> list[tuple[CostCenter, int]]:
    """Every cost center with its depth, each below its parent, siblings by code."""
    centers = tree_order(list(CostCenter.objects.select_related("parent", "manager").order_by("code")))
    return [(center, center.depth) for center in centers]


def tree_order(centers: list[CostCenter]) -> list[CostCenter]:
    """``centers`` each below its parent, siblings in the order given, each with its ``depth``
    set; one whose parent is not among them (filtered out) is shown as a root."""
    children: dict[int | None, list[CostCenter]] = {}
    known = {c.pk for c in centers}
    for center in centers:
        parent = center.parent_id if center.parent_id in known else None
        children.setdefault(parent, []).append(center)
    ordered: list[CostCenter] = []
    seen: set[int] = set()
    stack: list[tuple[CostCenter, int]] = [(c, 0) for c in reversed(children.get(None, []))]
    while stack:
        center, depth = stack.pop()
        if center.pk in seen:
            continue
        seen.add(center.pk)
        center.depth = depth
        ordered.append(center)
        stack.extend((child, depth + 1) for child in reversed(children.get(center.pk, [])))
    return ordered


def remove_person(person: Person) -> bool:
    """Delete a person — or, when calls are theirs, make them inactive and release their
    extensions, so their calls stay theirs (as the people import's ``--delete-existing`` does).
    True when the person was deleted."""
    if Person.objects.filter(pk=person.pk, calls__isnull=False).exists():
        person.active = False
        person.save(update_fields=["active"])
        Extension.objects.filter(person=person).update(person=None)
        return False
    person.delete()
    return True
