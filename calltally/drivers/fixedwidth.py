"""Fixed-width record layouts given as ``[[name, width], …]``.

A layout names every field of a record in order with its width in
characters; fields a driver does not read may have any name (``filler``).
:class:`Layout` checks a site's layout and slices lines by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import DriverConfigError


class Layout:
    """Where the fields a driver reads lie in a fixed-width record."""

    __slots__ = ("slices", "length", "min_length")

    def __init__(self, fields: Any, wanted: Sequence[str], required: Sequence[str], driver: str):
        if isinstance(fields, str) or not isinstance(fields, Sequence) or not fields:
            raise DriverConfigError(
                f"{driver} option 'fields' must be a list of [name, width] pairs, e.g. [[\"CalledNumber\", 30]]"
            )
        spans: dict[str, tuple[int, int]] = {}
        at = 0
        for item in fields:
            if (isinstance(item, str) or not isinstance(item, Sequence) or len(item) != 2
                    or not isinstance(item[0], str) or not isinstance(item[1], int) or isinstance(item[1], bool)
                    or item[1] <= 0):
                raise DriverConfigError(
                    f"{driver} option 'fields': {item!r} is not a [name, width] pair with a positive whole width"
                )
            name, width = item
            spans.setdefault(name, (at, at + width))
            at += width
        missing = [name for name in required if name not in spans]
        if missing:
            raise DriverConfigError(f"{driver} option 'fields' lacks the field(s) {', '.join(missing)}")
        self.length = at
        self.slices = tuple(spans.get(name) for name in wanted)
        self.min_length = max(spans[name][1] for name in required)

    def cut(self, text: str) -> list[str]:
        """The wanted fields of ``text``, stripped ("" for a field the layout lacks)."""
        return [text[s[0]:s[1]].strip() if s is not None else "" for s in self.slices]
