"""Directory actions shared by the CLI and the web UI: the cost center tree."""

from __future__ import annotations

from .models import CostCenter


def cost_center_tree() -> list[tuple[CostCenter, int]]:
    """Every cost center with its depth, each below its parent, siblings by code."""
    centers = list(CostCenter.objects.select_related("parent", "manager").order_by("code"))
    children: dict[int | None, list[CostCenter]] = {}
    known = {c.pk for c in centers}
    for center in centers:
        parent = center.parent_id if center.parent_id in known else None
        children.setdefault(parent, []).append(center)
    ordered: list[tuple[CostCenter, int]] = []
    seen: set[int] = set()

    def walk(parent_id, depth):
        for center in children.get(parent_id, []):
            if center.pk in seen:
                continue
            seen.add(center.pk)
            ordered.append((center, depth))
            walk(center.pk, depth + 1)

    walk(None, 0)
    return ordered
