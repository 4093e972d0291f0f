"""What a site's numbering looks like, and what a number turned out to be.

Both are plain frozen values: a :class:`NumberingPlan` is built once per site
from its settings, a :class:`Normalized` is shared between every call that
dialled the same digits (the normalizer caches them), so neither may change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from calltally.vocabulary import (
    CATEGORIES,
    EMERGENCY,
    INTERNAL,
    INTERNATIONAL,
    LOCAL,
    MOBILE,
    NATIONAL,
    PREMIUM,
    SPECIAL,
    TOLL_FREE,
    UNKNOWN,
)

__all__ = [
    "CATEGORIES", "EMERGENCY", "INTERNAL", "INTERNATIONAL", "LOCAL", "MOBILE", "NATIONAL", "PREMIUM", "SPECIAL",
    "TOLL_FREE", "UNKNOWN", "Normalized", "NumberingPlan",
]


@dataclass(frozen=True, slots=True)
class NumberingPlan:
    """How the people of one site dial, and where the site is.

    ``area_code`` is written the way users write it, trunk prefix included
    where the country has one ("02" for Milan, "020" for London, "212" for
    Manhattan). ``access_codes`` are the outside-line digits of the PBX ("0",
    "9"); an extension never starts with one, since the PBX could not tell
    them apart. ``internal`` answers whether a whole string is an extension
    of the site; without it nothing is internal.
    """

    country: str
    area_code: str = ""
    access_codes: tuple[str, ...] = ()
    internal: Callable[[str], bool] | None = None


@dataclass(frozen=True, slots=True)
class Normalized:
    """One number as the rating engine sees it.

    ``digits`` is what the remote party's number was once the access code
    and the separators are gone (for an unreadable number: the input without
    separators). ``e164`` is empty for what has no international form:
    extensions, emergency and other short numbers, service codes, garbage.
    """

    dialled: str
    digits: str
    e164: str
    category: str
    destination: str
    country: str
