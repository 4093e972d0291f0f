"""The normalizer: digits as the PBX recorded them in, a :class:`Normalized` out.

The rules are explained for users in :mod:`calltally.numbering`; this module
is how they are carried out. Every decision is taken once per distinct
(number, direction) of a site and cached, because a site dials the same few
thousand numbers over and over and phonenumbers' pattern matching is the
costly part of a call's processing.

phonenumbers is used for everything a country decides (prefixes, number
lengths, which ranges are mobile or toll free, short and emergency numbers,
region names); this module only adds what phonenumbers cannot know: the
site's access codes, its extensions and its own area.

Numbers not seen before (the cold path) are read by :mod:`.reading`, which
takes phonenumbers' steps for digit strings on metadata compiled once per
region (``_choose_fast`` and the ``*_read`` methods). The original reading
through ``phonenumbers.parse`` (``_choose``, ``_interpret``, ``_type``…) is
kept as the reference: ``Normalizer(plan, reference=True)`` uses it, and the
equivalence tests check that both give the same results.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat, PhoneNumberType, shortnumberinfo

from . import reading
from .plan import (
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
    Normalized,
    NumberingPlan,
)

# Characters people and PBXs put between digits for readability. A "+" is
# kept (it means "international"), "*" and "#" are kept (they are dialled).
_SEPARATORS = str.maketrans("", "", " \t\r\n\f\v\xa0-.()")

# phonenumbers' region for numbers that belong to no country (+800, +882…).
_NON_GEOGRAPHIC = "001"

# Number type -> (category when the number is in the site's country, what the
# destination says in brackets). Fixed lines get their region instead of a
# bracket and become "local" when they are in the site's area.
_BY_TYPE = {
    PhoneNumberType.FIXED_LINE: (NATIONAL, ""),
    # Where fixed and mobile ranges cannot be told apart (the US, Canada…)
    # the number is rated as a fixed line: NANP mobiles cost the caller the
    # same as any other number, and a tariff prefix can say otherwise.
    PhoneNumberType.FIXED_LINE_OR_MOBILE: (NATIONAL, ""),
    PhoneNumberType.MOBILE: (MOBILE, "mobile"),
    PhoneNumberType.TOLL_FREE: (TOLL_FREE, "toll free"),
    PhoneNumberType.PREMIUM_RATE: (PREMIUM, "premium rate"),
    PhoneNumberType.SHARED_COST: (SPECIAL, "shared cost"),
    PhoneNumberType.UAN: (SPECIAL, "universal access number"),
    PhoneNumberType.VOICEMAIL: (SPECIAL, "voicemail"),
    PhoneNumberType.PERSONAL_NUMBER: (SPECIAL, "personal number"),
    PhoneNumberType.PAGER: (SPECIAL, "pager"),
    # VoIP ranges (Italy's 55, the UK's 056) are charged like a non-local
    # fixed line by most carriers: national, never local (they have no area).
    PhoneNumberType.VOIP: (NATIONAL, "VoIP"),
}
_GEOGRAPHIC = frozenset((PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE))

_E164 = PhoneNumberFormat.E164
_UNKNOWN_TYPE = PhoneNumberType.UNKNOWN
_IS_POSSIBLE = phonenumbers.ValidationResult.IS_POSSIBLE


# --- lazily loaded names ---------------------------------------------------------

# Importing phonenumbers.geocoder loads its locale tables (about 0.3 s): only a
# process that actually names a destination pays for it, and only once.
_geocoder = None


def _geo():
    global _geocoder
    if _geocoder is None:
        from phonenumbers import geocoder

        _geocoder = geocoder
    return _geocoder


def preload() -> None:
    """Load now what naming destinations needs (the geocoder's tables), as before a process forks:
    the copy then shares the loaded pages instead of spending its own half second on them."""
    _geo()


_country_names: dict[str, str] = {}


def country_name(region: str) -> str:
    """English name of an ISO region ("IT" -> "Italy"); the code itself when unknown.

    phonenumbers names countries only through numbers, so the name is taken
    from the region's own example numbers, keeping one that really belongs
    to the region (regions sharing a calling code have each their own).
    """
    name = _country_names.get(region)
    if name is None:
        name = ""
        if region == _NON_GEOGRAPHIC:
            name = "International network"
        elif region:
            geo = _geo()
            for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE):
                example = phonenumbers.example_number_for_type(region, kind)
                if example is not None and phonenumbers.region_code_for_number(example) == region:
                    name = geo.country_name_for_number(example, "en")
                    if name:
                        break
        name = name or region
        _country_names[region] = name
    return name


def _is_digits(text: str) -> bool:
    # str.isdigit alone accepts "²" and Arabic-Indic digits, which no PBX dials.
    return text.isascii() and text.isdigit()


def site_type_matcher(region: str) -> Callable[[str], int] | None:
    """A fast ``national significant number -> PhoneNumberType`` for one region.

    It answers what ``phonenumbers.number_type`` answers for a number of that
    region (UNKNOWN: not valid there), from the same public metadata and in
    the same order, but with the patterns compiled once. number_type finds
    the region again and looks every pattern up on each call, which for a
    calling code shared by several regions (Italy and the Vatican, the 25
    NANP countries, the UK and its Crown dependencies) is most of a cold
    normalization. None when phonenumbers has no metadata for the region.
    """
    metadata = PhoneMetadata.metadata_for_region(region)
    return reading.type_matcher(metadata) if metadata is not None else None


class Normalizer:
    """Normalizes the numbers of one site; cheap to call again for a number
    already seen (a least-recently-used cache of ``cache_size`` entries;
    0 disables it).

    Never raises: what cannot be read comes back as category ``unknown``.

    Numbers are read by :mod:`.reading`, which answers what phonenumbers
    answers for digit strings at a fraction of the cost; ``reference=True``
    reads them through ``phonenumbers.parse`` instead, as the equivalence
    tests do to check it (the results are the same, only slower).
    """

    def __init__(self, plan: NumberingPlan, cache_size: int = 100_000, *, reference: bool = False):
        # phonenumbers looks its patterns up by their text on every match;
        # this (process-wide, idempotent) switch keeps them compiled instead.
        phonenumbers.enable_pattern_cache()
        self.plan = plan
        self.region = region = str(plan.country or "").strip().upper()
        # 0 when phonenumbers does not know the region: then only "+" numbers parse.
        self.country_code = phonenumbers.country_code_for_region(region)
        metadata = PhoneMetadata.metadata_for_region(region)
        short = PhoneMetadata.short_metadata_for_region(region)
        # The trunk prefix ("0" in the UK, "1" in NANP, none in Italy) and the
        # international prefix ("00", "011", a pattern in Australia or Brazil).
        self.trunk = (metadata.national_prefix or "") if metadata else ""
        idd = metadata.international_prefix if metadata else None
        self.starts_international: Callable[[str], object] | None = re.compile(idd).match if idd else None
        # The area as it starts the national significant number: "02" stays
        # "02" in Italy (the 0 is part of the number), "020" becomes "20" in
        # the UK. A trunk prefix is only removed when it starts with 0, as
        # written area codes include it in those countries; where it does not
        # ("8" in Russia) area codes may begin with the same digit, so they
        # are taken as written. In NANP, a "1" before an NPA is dropped.
        area = "".join(ch for ch in str(plan.area_code or "") if ch.isascii() and ch.isdigit())
        trunk = self.trunk
        if trunk and area.startswith(trunk) and len(area) > len(trunk) and (
            trunk.startswith("0") or (self.country_code == 1 and len(area) == 4)
        ):
            area = area[len(trunk):]
        self.area = area
        # A number dialled without its area code only exists where there is a
        # trunk prefix to tell the two apart: not in Italy, Spain, Denmark…
        self.local_prefix = area if trunk else ""
        # Longest first, so that "00" wins over "0" when a PBX has both.
        codes = {str(code) for code in (plan.access_codes or ()) if code}
        self.access_codes = tuple(sorted(codes, key=len, reverse=True))
        # Caller ids often carry the trunk access digit a PBX puts in front of
        # them so that users can call back: "0" in Europe, or the site's own code.
        self.inbound_prefixes = tuple(sorted(codes | {"0"}, key=len, reverse=True))
        # Emergency and short numbers are short: a length check spares most
        # numbers the short-number metadata lookups.
        self.max_emergency = max(short.emergency.possible_length or (8,)) if short and short.emergency else 0
        self.max_short = max(short.general_desc.possible_length or (8,)) if short and short.general_desc else 0
        self._site_type = site_type_matcher(region)
        self._internal = plan.internal
        # The reader of the site's country; the reference reading where
        # phonenumbers does not know the country (only "+" numbers then parse).
        self._reader: reading.Reader | None = None
        if not reference:
            with contextlib.suppress(reading.Unsupported):
                self._reader = reading.Reader(region)
        self._pick = self._choose if self._reader is None else self._choose_fast
        self._lookup = functools.lru_cache(maxsize=cache_size)(self._normalize) if cache_size > 0 else self._normalize
        #: ``lookup(number, outbound)``: the same as calling the normalizer with a string, without
        #: the guard against unhashable input — for a caller that normalizes strings in bulk.
        self.lookup = self._lookup

    def __call__(self, number: str, *, outbound: bool = True) -> Normalized:
        try:
            return self._lookup(number, outbound)
        except TypeError:  # an unhashable non-string: nothing to cache
            return self._normalize(number, outbound)

    def cache_clear(self) -> None:
        clear = getattr(self._lookup, "cache_clear", None)
        if clear is not None:
            clear()

    # --- the decision ----------------------------------------------------------
    def _normalize(self, number: object, outbound: bool) -> Normalized:
        dialled = _as_text(number)
        try:
            return self._decide(dialled, outbound)
        except Exception:  # a phonenumbers surprise must not lose the call
            return Normalized(dialled, dialled, "", UNKNOWN, "", "")

    def _decide(self, dialled: str, outbound: bool) -> Normalized:
        text = dialled.translate(_SEPARATORS)
        if not text:
            return Normalized(dialled, text, "", UNKNOWN, "", "")
        # A trailing "#" is the "dial now" key, not part of the number.
        if len(text) > 1 and text[-1] == "#" and _is_digits(text[:-1]):
            text = text[:-1]
        plain = _is_digits(text)
        # What is left once an access code is taken off (outbound only).
        rests = []
        if outbound:
            for code in self.access_codes:
                if text.startswith(code) and _is_digits(text[len(code):]):
                    rests.append(text[len(code):])
        # Emergency first, even before extensions: a 3-4 digit extension plan
        # also matches 112 and 0112, yet the PBX must route those outside,
        # and an emergency call must never be hidden among internal ones.
        if plain and self._is_emergency(text):
            return self._emergency(dialled, text)
        for rest in rests:
            if self._is_emergency(rest):
                return self._emergency(dialled, rest)
        if self._is_internal(text):
            return Normalized(dialled, text, "", INTERNAL, "", "")
        if text[0] == "+":
            if _is_digits(text[1:]):
                return self._pick(dialled, [text], text)
            return Normalized(dialled, text, "", UNKNOWN, "", "")
        if not plain:
            if not rests:
                if all(ch in "0123456789*#" for ch in text):
                    return Normalized(dialled, text, "", SPECIAL, "Service code", "")
                return Normalized(dialled, text, "", UNKNOWN, "", "")
            # An access code with "*" or "#" in it, followed by digits.
            return self._pick(dialled, rests, text)
        if outbound:
            # Access code + a complete number beats the digits as dialled:
            # the site says its users dial the code, and "0" + "0223456789"
            # only makes sense that way. The digits as dialled are the
            # fallback for a PBX that records numbers without the code.
            return self._pick(dialled, [*rests, text], text)
        # Inbound: the caller id as given, unless only the version without
        # a leading trunk access digit is a number.
        candidates = [text]
        for prefix in self.inbound_prefixes:
            if text.startswith(prefix) and len(text) > len(prefix):
                candidates.append(text[len(prefix):])
        return self._pick(dialled, candidates, text)

    # --- the reference reading, through phonenumbers.parse ----------------------
    def _choose(self, dialled: str, candidates: list[str], text: str) -> Normalized:
        """The first candidate that is a complete number (a valid number, or
        a short service number of the site's country); else the first one
        that at least has a possible length; else unknown."""
        possible = []
        for candidate in candidates:
            number, kind, region = self._interpret(candidate)
            if kind is not None:
                return self._classify(dialled, candidate, number, kind, region)
            # "0" + "116000" is the missing-children hotline, although
            # "0116000" could be a (short) number in Turin: the access-code
            # reading is tried first for short numbers too.
            if self._is_short(candidate):
                return Normalized(
                    dialled, candidate, "", SPECIAL, f"{country_name(self.region)} (short number)", self.region
                )
            if number is not None:
                possible.append((candidate, number))
        if possible:
            return self._classify_possible(dialled, *possible[0])
        return Normalized(dialled, text, "", UNKNOWN, "", "")

    def _interpret(self, digits: str) -> tuple[phonenumbers.PhoneNumber | None, int | None, str]:
        """(number, type, region) when valid, (number, None, "") when only
        possible, (None, None, "") when neither."""
        number = self._parse(digits)
        if number is not None:
            kind, region = self._type(number)
            if kind != _UNKNOWN_TYPE:
                return number, kind, region
        local = None
        if (
            self.local_prefix
            and digits[0] != "+"
            and not digits.startswith(self.trunk)
            and not (self.starts_international and self.starts_international(digits))
        ):
            # Dialled without the area code: a local number of the site's own area.
            local = self._parse(self.local_prefix + digits)
            if local is not None:
                kind, region = self._type(local)
                if kind != _UNKNOWN_TYPE:
                    return local, kind, region
        # "Possible" means a plausible full length, not one that only works
        # locally (a bare 7-digit US number has no E.164 form of its own).
        for candidate in (number, local):
            if candidate is not None and phonenumbers.is_possible_number_with_reason(candidate) == _IS_POSSIBLE:
                return candidate, None, ""
        return None, None, ""

    def _type(self, number: phonenumbers.PhoneNumber) -> tuple[int, str]:
        """The number's type and region; UNKNOWN when it is not valid.

        A number valid in the site's country belongs to it, even when
        phonenumbers files it elsewhere: NANP toll-free numbers are filed
        under US yet are toll free from Canada too. Anything else is the
        region phonenumbers finds (+1 876 is Jamaica, also from New York).
        """
        if number.country_code == self.country_code and self._site_type is not None:
            kind = self._site_type(phonenumbers.national_significant_number(number))
            if kind != _UNKNOWN_TYPE:
                return kind, self.region
        # number_type is UNKNOWN exactly when is_valid_number is False.
        kind = phonenumbers.number_type(number)
        if kind == _UNKNOWN_TYPE:
            return kind, ""
        return kind, phonenumbers.region_code_for_number(number) or ""

    def _classify(
        self, dialled: str, digits: str, number: phonenumbers.PhoneNumber, kind: int, region: str
    ) -> Normalized:
        category, label = _BY_TYPE.get(kind, (NATIONAL, ""))
        if region == self.region:
            country = region
            if (
                kind in _GEOGRAPHIC
                and self.area
                and phonenumbers.national_significant_number(number).startswith(self.area)
            ):
                category = LOCAL
        else:
            country = "" if region == _NON_GEOGRAPHIC else region
            category = INTERNATIONAL
        name = country_name(region)
        if label:
            destination = f"{name} ({label})"
        elif kind in _GEOGRAPHIC:
            area = self._area_name(number, name)
            destination = f"{name}, {area}" if area else name
        else:
            destination = name
        return Normalized(
            dialled, digits, phonenumbers.format_number(number, _E164), category, destination, country
        )

    def _classify_possible(self, dialled: str, digits: str, number: phonenumbers.PhoneNumber) -> Normalized:
        """A number of plausible length that phonenumbers does not know (a
        range newer than its metadata, a mistyped digit): only its country
        can be told."""
        e164 = phonenumbers.format_number(number, _E164)
        if number.country_code == self.country_code:
            return Normalized(dialled, digits, e164, NATIONAL, country_name(self.region), self.region)
        region = phonenumbers.region_code_for_country_code(number.country_code)
        country = "" if region in (_NON_GEOGRAPHIC, "ZZ") else region
        name = country_name(region) if country or region == _NON_GEOGRAPHIC else ""
        return Normalized(dialled, digits, e164, INTERNATIONAL, name, country)

    # --- small checks ------------------------------------------------------------
    def _parse(self, digits: str) -> phonenumbers.PhoneNumber | None:
        try:
            return phonenumbers.parse(digits, self.region)
        except NumberParseException:
            return None

    def _is_internal(self, text: str) -> bool:
        internal = self._internal
        if internal is None:
            return False
        try:
            return bool(internal(text))
        except Exception:  # a bad site pattern says "not an extension", it does not stop the Miner
            return False

    def _is_emergency(self, digits: str) -> bool:
        return 0 < len(digits) <= self.max_emergency and shortnumberinfo.is_emergency_number(digits, self.region)

    def _is_short(self, digits: str) -> bool:
        if not 0 < len(digits) <= self.max_short or not _is_digits(digits):
            return False
        number = self._parse(digits)
        return number is not None and shortnumberinfo.is_valid_short_number_for_region(number, self.region)

    def _emergency(self, dialled: str, digits: str) -> Normalized:
        return Normalized(dialled, digits, "", EMERGENCY, "Emergency", self.region)

    def _area_name(self, number: phonenumbers.PhoneNumber, country: str) -> str:
        """The geocoder's region of a fixed line ("Milan", "New York, NY"), or ""
        when it only knows the country (it then answers with the country's
        name, or nothing for a number several countries could own)."""
        described = _geo().description_for_valid_number(number, "en")
        return "" if described == country else described

    # --- the same decisions through the reading module -------------------------------
    # These mirror _choose, _interpret, _type, _classify and _classify_possible
    # step for step, on (country code, national significant number) pairs
    # from reading.Reader instead of parsed PhoneNumber objects.

    def _choose_fast(self, dialled: str, candidates: list[str], text: str) -> Normalized:
        try:
            return self._choose_read(dialled, candidates, text)
        except reading.Unsupported:  # metadata the reader cannot mirror (none today)
            return self._choose(dialled, candidates, text)

    def _choose_read(self, dialled: str, candidates: list[str], text: str) -> Normalized:
        read = self._reader.read
        possible = None
        for candidate in candidates:
            number = read(candidate)
            if number is not None:
                kind, region = self._type_read(*number)
                if kind != _UNKNOWN_TYPE:
                    return self._classify_read(dialled, candidate, number, kind, region)
            local = None
            if (
                self.local_prefix
                and candidate[0] != "+"
                and not candidate.startswith(self.trunk)
                and not (self.starts_international and self.starts_international(candidate))
            ):
                local = read(self.local_prefix + candidate)
                if local is not None:
                    kind, region = self._type_read(*local)
                    if kind != _UNKNOWN_TYPE:
                        return self._classify_read(dialled, candidate, local, kind, region)
            if self._is_short_read(candidate):
                return Normalized(
                    dialled, candidate, "", SPECIAL, f"{country_name(self.region)} (short number)", self.region
                )
            if possible is None:
                for option in (number, local):
                    if option is not None and reading.country_code(option[0]).is_possible(option[1]):
                        possible = (candidate, option)
                        break
        if possible is not None:
            return self._classify_possible_read(dialled, *possible)
        return Normalized(dialled, text, "", UNKNOWN, "", "")

    def _type_read(self, code: int, nsn: str) -> tuple[int, str]:
        if code == self.country_code:
            kind = self._reader.site.type_of(nsn)
            if kind != _UNKNOWN_TYPE:
                return kind, self.region
            # The site's own region was just checked: the others sharing its code remain.
            return reading.country_code(code).type_and_region(nsn, self.region)
        return reading.country_code(code).type_and_region(nsn)

    def _classify_read(
        self, dialled: str, digits: str, number: tuple[int, str], kind: int, region: str
    ) -> Normalized:
        code, nsn = number
        category, label = _BY_TYPE.get(kind, (NATIONAL, ""))
        if region == self.region:
            country = region
            if kind in _GEOGRAPHIC and self.area and nsn.startswith(self.area):
                category = LOCAL
        else:
            country = "" if region == _NON_GEOGRAPHIC else region
            category = INTERNATIONAL
        name = country_name(region)
        if label:
            destination = f"{name} ({label})"
        elif kind in _GEOGRAPHIC:
            area = reading.area_description(code, nsn)
            destination = f"{name}, {area}" if area and area != name else name
        else:
            destination = name
        return Normalized(dialled, digits, f"+{code}{nsn}", category, destination, country)

    def _classify_possible_read(self, dialled: str, digits: str, number: tuple[int, str]) -> Normalized:
        code, nsn = number
        e164 = f"+{code}{nsn}"
        if code == self.country_code:
            return Normalized(dialled, digits, e164, NATIONAL, country_name(self.region), self.region)
        region = phonenumbers.region_code_for_country_code(code)
        country = "" if region in (_NON_GEOGRAPHIC, "ZZ") else region
        name = country_name(region) if country or region == _NON_GEOGRAPHIC else ""
        return Normalized(dialled, digits, e164, INTERNATIONAL, name, country)

    def _is_short_read(self, digits: str) -> bool:
        if not 0 < len(digits) <= self.max_short or not _is_digits(digits):
            return False
        number = self._reader.read(digits)
        return number is not None and shortnumberinfo.is_valid_short_number_for_region(
            reading.phone_number(*number), self.region
        )


def _as_text(number: object) -> str:
    if isinstance(number, str):
        return number
    if number is None:
        return ""
    if isinstance(number, bytes | bytearray):
        return bytes(number).decode("latin-1")
    try:
        return str(number)
    except Exception:  # an object whose __str__ fails is still no reason to stop
        return ""


@functools.lru_cache(maxsize=64)
def _normalizer_for(plan: NumberingPlan) -> Normalizer:
    return Normalizer(plan, cache_size=10_000)


def normalize(number: str, plan: NumberingPlan, *, outbound: bool = True) -> Normalized:
    """Normalize one number for the site described by ``plan``.

    Repeated calls with an equal plan share a cached :class:`Normalizer`;
    code that normalizes many numbers should keep its own instead.
    """
    try:
        normalizer = _normalizer_for(plan)
    except TypeError:  # a plan with an unhashable predicate cannot be a cache key
        normalizer = Normalizer(plan, cache_size=0)
    return normalizer(number, outbound=outbound)
