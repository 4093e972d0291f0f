"""What phonenumbers makes of a string of ASCII digits, without ``phonenumbers.parse``.

``phonenumbers.parse`` accepts anything a person may type (letters, Unicode
digits, RFC 3966 URIs, extensions…), and most of its cost goes into that:
every character is checked for being a Unicode digit, every pattern and
region is looked up again on each call. The normalizer only ever asks it about
ASCII digits, with or without a leading "+". For those inputs this module
takes the steps parse, ``number_type``, ``region_code_for_number``,
``is_possible_number_with_reason`` and the English geocoder take, in the same
order and on the same metadata, with each region's patterns compiled once.

A number is kept as ``(country calling code, national significant number)``;
:func:`phone_number` builds the ``PhoneNumber`` that parse would have built,
for the rare questions answered by phonenumbers itself.

The answers are phonenumbers' answers: ``tests/test_equivalence.py`` compares
the normalizer built on this module with the reference one built on
``phonenumbers.parse``, field by field. Metadata that breaks what this module
relies on (a region without a general description or possible lengths; none
does today) raises :class:`Unsupported`, and the caller then asks
phonenumbers itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, PhoneNumberType, ValidationResult

_UNKNOWN_TYPE = PhoneNumberType.UNKNOWN
_NON_GEOGRAPHIC = "001"

# phonenumbers' limits (phonenumberutil: _MAX_INPUT_STRING_LENGTH,
# _MIN_LENGTH_FOR_NSN, _MAX_LENGTH_FOR_NSN, _MAX_LENGTH_COUNTRY_CODE).
_MAX_INPUT = 250
_MIN_NSN = 2
_MAX_NSN = 17
_MAX_COUNTRY_CODE = 3

_IS_POSSIBLE = ValidationResult.IS_POSSIBLE
_TOO_LONG = ValidationResult.TOO_LONG
_TOO_SHORT = ValidationResult.TOO_SHORT
_LOCAL_ONLY = ValidationResult.IS_POSSIBLE_LOCAL_ONLY
_INVALID_LENGTH = ValidationResult.INVALID_LENGTH

# Every country calling code, as the digits that start an international number.
_COUNTRY_CODES = {str(code): code for code in COUNTRY_CODE_TO_REGION_CODE}

# The order phonenumbers tests number types in: the special ranges first,
# then fixed line and mobile.
_SPECIAL_TYPES = (
    (PhoneNumberType.PREMIUM_RATE, "premium_rate"),
    (PhoneNumberType.TOLL_FREE, "toll_free"),
    (PhoneNumberType.SHARED_COST, "shared_cost"),
    (PhoneNumberType.VOIP, "voip"),
    (PhoneNumberType.PERSONAL_NUMBER, "personal_number"),
    (PhoneNumberType.PAGER, "pager"),
    (PhoneNumberType.UAN, "uan"),
    (PhoneNumberType.VOICEMAIL, "voicemail"),
)


class Unsupported(Exception):
    """Metadata this module cannot mirror: ask phonenumbers instead."""


def type_matcher(metadata) -> Callable[[str], int]:
    """``national significant number -> PhoneNumberType`` against one metadata,
    as phonenumbers' number type helper answers it (UNKNOWN: not valid there),
    with the patterns compiled once and sorted out by number length once."""

    def compiled(desc):
        if desc is None or not desc.national_number_pattern:
            return None
        return frozenset(desc.possible_length or ()), re.compile(desc.national_number_pattern).fullmatch

    def for_length(matcher, length: int):
        # No lengths means "those of the general description", checked first.
        if matcher is None:
            return None
        lengths, fullmatch = matcher
        return fullmatch if not lengths or length in lengths else None

    general = compiled(metadata.general_desc)
    specials = [(kind, compiled(getattr(metadata, attribute, None))) for kind, attribute in _SPECIAL_TYPES]
    fixed = compiled(metadata.fixed_line)
    mobile = compiled(metadata.mobile)
    same = bool(metadata.same_mobile_and_fixed_line_pattern)
    # By length: the patterns a number of that length is matched against,
    # or None when the general description rules the length out.
    by_length: dict[int, tuple | None] = {}

    def patterns(length: int) -> tuple | None:
        valid = for_length(general, length)
        found = None
        if valid is not None:
            kinds = tuple(
                (kind, fullmatch)
                for kind, fullmatch in ((kind, for_length(matcher, length)) for kind, matcher in specials)
                if fullmatch is not None
            )
            found = valid, kinds, for_length(fixed, length), for_length(mobile, length)
        by_length[length] = found
        return found

    def number_type(nsn: str) -> int:
        try:
            found = by_length[len(nsn)]
        except KeyError:
            found = patterns(len(nsn))
        if found is None:
            return _UNKNOWN_TYPE
        valid, kinds, fixed_line, mobile_line = found
        if valid(nsn) is None:
            return _UNKNOWN_TYPE
        for kind, fullmatch in kinds:
            if fullmatch(nsn) is not None:
                return kind
        is_mobile = mobile_line is not None and mobile_line(nsn) is not None if not same else False
        if fixed_line is not None and fixed_line(nsn) is not None:
            return PhoneNumberType.FIXED_LINE_OR_MOBILE if same or is_mobile else PhoneNumberType.FIXED_LINE
        if is_mobile:
            return PhoneNumberType.MOBILE
        return _UNKNOWN_TYPE

    return number_type


def phone_number(country_code: int, nsn: str) -> phonenumbers.PhoneNumber:
    """The PhoneNumber parse returns for this country code and national
    significant number (leading zeros included)."""
    number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int(nsn))
    if len(nsn) > 1 and nsn[0] == "0":
        number.italian_leading_zero = True
        zeros = 1
        # As in phonenumbers, an all-zero number keeps its last 0 as the number.
        while zeros < len(nsn) - 1 and nsn[zeros] == "0":
            zeros += 1
        if zeros != 1:
            number.number_of_leading_zeros = zeros
    return number


class Metadata:
    """One region's (or non-geographic calling code's) metadata, compiled."""

    __slots__ = (
        "country_code", "general", "leading", "length_status", "national_prefix", "transform", "type_of",
    )

    def __init__(self, metadata):
        general = metadata.general_desc
        if general is None or not general.national_number_pattern or not general.possible_length:
            raise Unsupported(metadata.id)
        self.country_code: int = metadata.country_code
        self.general = re.compile(general.national_number_pattern).fullmatch
        self.leading = re.compile(metadata.leading_digits).match if metadata.leading_digits is not None else None
        prefix = metadata.national_prefix_for_parsing
        self.national_prefix = re.compile(prefix) if prefix else None
        self.transform = metadata.national_prefix_transform_rule
        self.type_of = type_matcher(metadata)
        # phonenumbers' length test for the general description, by length
        # (read() never sees more than _MAX_INPUT characters).
        lengths = list(general.possible_length)
        local = general.possible_length_local_only

        def status(length: int) -> int:
            if length in local:
                return _LOCAL_ONLY
            if lengths[0] == length:
                return _IS_POSSIBLE
            if lengths[0] > length:
                return _TOO_SHORT
            if lengths[-1] < length:
                return _TOO_LONG
            return _IS_POSSIBLE if length in lengths[1:] else _INVALID_LENGTH

        self.length_status = [status(length) for length in range(_MAX_INPUT + 1)]

    def strip_national_prefix(self, number: str) -> str:
        """The number without its national prefix (and carrier code), when
        phonenumbers would take it off."""
        prefix = self.national_prefix
        if not number or prefix is None:
            return number
        match = prefix.match(number)
        if not match:
            return number
        viable = self.general(number) is not None
        groups = match.groups()
        transform = self.transform
        # As in phonenumbers: a transform rule with a pattern that captures
        # nothing is an IndexError there too.
        if not transform or groups[len(groups) - 1] is None:
            stripped = number[match.end():]
        else:
            stripped = prefix.sub(transform, number, count=1)
        if viable and self.general(stripped) is None:
            return number
        return stripped


_METADATA: dict[object, Metadata | None] = {}


def metadata_for(region: str | None, country_code: int = 0) -> Metadata | None:
    """The compiled metadata phonenumbers has for ``region`` ("001": for the
    non-geographic ``country_code``), None when it has none."""
    key = (region, country_code) if region == _NON_GEOGRAPHIC else region
    try:
        return _METADATA[key]
    except KeyError:
        pass
    if region == _NON_GEOGRAPHIC:
        metadata = PhoneMetadata.metadata_for_nongeo_region(country_code, None)
    else:
        metadata = PhoneMetadata.metadata_for_region(region, None) if region is not None else None
    compiled = _METADATA[key] = Metadata(metadata) if metadata is not None else None
    return compiled


class CountryCode:
    """What phonenumbers says about the numbers of one calling code."""

    __slots__ = ("code", "main", "main_region", "regions", "_names")

    def __init__(self, code: int):
        regions = COUNTRY_CODE_TO_REGION_CODE.get(code)
        if not regions:
            raise Unsupported(code)
        self.code = code
        self.main_region: str = regions[0]
        main = metadata_for(regions[0], code)
        if main is None:
            raise Unsupported(code)
        self.main = main
        # For a calling code shared by several regions, the regions that
        # region_code_for_number tries in turn (by their geographic metadata:
        # those without any are skipped).
        shared = []
        if len(regions) > 1:
            for region in regions:
                metadata = metadata_for(region.upper()) if region.upper() != _NON_GEOGRAPHIC else None
                if metadata is not None:
                    shared.append((region, metadata))
        self.regions = shared
        self._names: dict[tuple[str, ...], str] = {}

    def type_and_region(self, nsn: str, not_in: str = "") -> tuple[int, str]:
        """phonenumbers' number_type and, for a valid number, its
        region_code_for_number (UNKNOWN and "" otherwise). ``not_in`` is a
        region whose type check is already known to say UNKNOWN."""
        if self.regions:
            for region, metadata in self.regions:
                leading = metadata.leading
                if leading is not None:
                    if leading(nsn):
                        break
                elif region != not_in:
                    kind = metadata.type_of(nsn)
                    if kind != _UNKNOWN_TYPE:
                        return kind, region
            else:
                return _UNKNOWN_TYPE, ""
        else:
            region, metadata = self.main_region, self.main
        kind = metadata.type_of(nsn)
        return (kind, region) if kind != _UNKNOWN_TYPE else (_UNKNOWN_TYPE, "")

    def country_name(self, nsn: str) -> str:
        """``geocoder.country_name_for_number(number, "en")``.

        The geocoder names the one region of the calling code where the
        number is valid ("" when it is valid in two, its name for "ZZ" when in
        none), so its answer is asked once per such outcome and remembered.
        """
        valid = []
        for region, metadata in self.regions:
            # is_valid_number_for_region, of which the calling code is known.
            if metadata.country_code == self.code and metadata.type_of(nsn) != _UNKNOWN_TYPE:
                valid.append(region)
                if len(valid) == 2:
                    break
        key = tuple(valid)
        name = self._names.get(key)
        if name is None:
            name = self._names[key] = _geocoder().country_name_for_number(phone_number(self.code, nsn), "en")
        return name

    def is_possible(self, nsn: str) -> bool:
        """is_possible_number_with_reason(...) == IS_POSSIBLE."""
        return self.main.length_status[len(nsn)] == _IS_POSSIBLE


_COUNTRY_CODES_SEEN: dict[int, CountryCode] = {}


def country_code(code: int) -> CountryCode:
    found = _COUNTRY_CODES_SEEN.get(code)
    if found is None:
        found = _COUNTRY_CODES_SEEN[code] = CountryCode(code)
    return found


class _NoNumber(Exception):
    """parse would raise a NumberParseException."""


class _InvalidCountryCode(_NoNumber):
    """parse's INVALID_COUNTRY_CODE, which it retries without the "+"."""


class Reader:
    """``phonenumbers.parse(digits, region)`` for ``digits`` made of ASCII
    digits with an optional leading "+"."""

    def __init__(self, region: str):
        metadata = PhoneMetadata.metadata_for_region(region, None)
        site = metadata_for(region)
        if metadata is None or site is None:
            raise Unsupported(region)
        self.region = region
        self.site = site
        self.country_code = self.site.country_code
        self._country_code_text = str(self.site.country_code)
        # A pattern that never matches when the region has no international prefix.
        self._idd = re.compile(metadata.international_prefix or "NonMatch").match

    def read(self, number: str) -> tuple[int, str] | None:
        """(country calling code, national significant number), or None where
        phonenumbers.parse raises NumberParseException."""
        if len(number) > _MAX_INPUT:
            return None
        plus = number[0] == "+"
        digits = number[1:] if plus else number
        # A viable number: two digits, or three after a "+".
        if len(digits) < (3 if plus else 2):
            return None
        try:
            try:
                code, national = self._country_code(digits, plus)
            except _InvalidCountryCode:
                if not plus:
                    raise
                # parse tries again without the "+" ("+0039…" is "0039…").
                code, national = self._country_code(digits, False)
                if code == 0:
                    raise _NoNumber from None
        except _NoNumber:
            return None
        if code:
            calling = country_code(code)
            metadata = self.site if calling.main_region == self.region else calling.main
        else:
            code, national, metadata = self.country_code, digits, self.site
        if len(national) < _MIN_NSN:
            return None
        stripped = metadata.strip_national_prefix(national)
        if metadata.length_status[len(stripped)] in (_IS_POSSIBLE, _TOO_LONG):
            national = stripped
        if not _MIN_NSN <= len(national) <= _MAX_NSN:
            return None
        return code, national

    def _country_code(self, digits: str, plus: bool) -> tuple[int, str]:
        """phonenumbers' country code extraction: (code, the rest) or (0, "")."""
        international = plus
        if not plus:
            match = self._idd(digits)
            # An international prefix is only one when a country code (never
            # starting with 0) follows it.
            if match and digits[match.end():match.end() + 1] != "0":
                digits = digits[match.end():]
                international = True
        if international:
            if len(digits) <= _MIN_NSN:
                raise _NoNumber
            if digits[0] != "0":
                for size in range(1, min(len(digits), _MAX_COUNTRY_CODE) + 1):
                    code = _COUNTRY_CODES.get(digits[:size])
                    if code is not None:
                        return code, digits[size:]
            raise _InvalidCountryCode
        # Without a prefix, the site's own country code may start the number.
        site = self.site
        text = self._country_code_text
        if digits.startswith(text):
            rest = site.strip_national_prefix(digits[len(text):])
            if (site.general(digits) is None and site.general(rest) is not None) or site.length_status[
                len(digits)
            ] == _TOO_LONG:
                return site.country_code, rest
        return 0, ""


# --- the English geocoder ----------------------------------------------------------

# Importing phonenumbers.geocoder loads its tables (about 0.3 s): only when needed.
_geocoder_module = None


def _geocoder():
    global _geocoder_module
    if _geocoder_module is None:
        from phonenumbers import geocoder

        _geocoder_module = geocoder
    return _geocoder_module


def area_description(code: int, nsn: str) -> str:
    """``geocoder.description_for_valid_number(number, "en")`` for a valid
    number: the name of the longest prefix of its E.164 digits that has an
    English one, else the name of the country."""
    geocoder = _geocoder()
    if phonenumbers.country_mobile_token(code):
        # Argentina's mobile token makes the geocoder parse the number again.
        return geocoder.description_for_valid_number(phone_number(code, nsn), "en")
    data = geocoder.GEOCODE_DATA
    digits = f"{code}{nsn}"
    for size in range(geocoder.GEOCODE_LONGEST_PREFIX, 0, -1):
        names = data.get(digits[:size])
        if names is not None:
            # For "en" with no script or region, phonenumbers' language lookup
            # comes down to the "en" entry; without one a shorter prefix is tried.
            name = names.get("en")
            if name is not None:
                if name:
                    return name
                break
    # No area known: the geocoder falls back to the country's name.
    return country_code(code).country_name(nsn)
