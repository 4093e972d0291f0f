"""The fast reading (calltally.numbering.reading) against the reference one.

A Normalizer reads numbers with :mod:`calltally.numbering.reading`; built
with ``reference=True`` it reads them with ``phonenumbers.parse`` and friends,
as it always did. Both must give the same :class:`Normalized`, every field,
for whatever a PBX may record: numbers with and without access codes, "+"
and international prefixes, national and local formats, short and emergency
numbers, extensions, numbers one digit off a valid range, garbage.
"""

from __future__ import annotations

import random

import phonenumbers
import pytest

from calltally.numbering import Normalizer, NumberingPlan, reading


def _extensions(low: int, high: int):
    def is_extension(number: str) -> bool:
        return low <= len(number) <= high and number.isdigit()

    return is_extension


SITES = {
    "IT": NumberingPlan("IT", "02", ("0",), _extensions(3, 4)),
    "US": NumberingPlan("US", "212", ("9",), _extensions(4, 4)),
    "GB": NumberingPlan("GB", "020", ("9",), _extensions(4, 4)),
    "DE": NumberingPlan("DE", "030", ("0",), _extensions(3, 3)),
}
# Fewer numbers, for countries whose metadata take other paths: NANP
# neighbours, national prefix transform rules (Argentina, Brazil, Mexico),
# Argentina's mobile token, a calling code shared with territories (Australia,
# Russia/Kazakhstan, Finland/Åland), a site without an area code (NL), an
# unknown country (ZZ).
OTHER_SITES = {
    "NL": NumberingPlan("NL", "", ("0",), _extensions(3, 4)),
    "CA": NumberingPlan("CA", "416", ("9",), _extensions(4, 4)),
    "AR": NumberingPlan("AR", "011", ("0",), _extensions(3, 4)),
    "BR": NumberingPlan("BR", "11", ("0",), _extensions(4, 4)),
    "MX": NumberingPlan("MX", "55", ("0",), _extensions(4, 4)),
    "AU": NumberingPlan("AU", "02", ("0",), _extensions(4, 4)),
    "RU": NumberingPlan("RU", "8495", ("9",), _extensions(3, 3)),
    "FI": NumberingPlan("FI", "09", ("0",), _extensions(3, 4)),
    "FR": NumberingPlan("FR", "01", ("0",), _extensions(4, 4)),
    "VA": NumberingPlan("VA", "06", ("0",), _extensions(3, 4)),
    "ZZ": NumberingPlan("ZZ", "02", ("0",), _extensions(3, 4)),
}

# Where the other numbers come from: the site's neighbours and a spread of
# calling codes (shared, non-geographic, with trunk prefixes and without).
FOREIGN = (
    "IT", "VA", "SM", "US", "CA", "JM", "PR", "GB", "JE", "IM", "DE", "FR", "CH", "AT", "ES", "NL", "BE",
    "AR", "BR", "MX", "AU", "RU", "KZ", "FI", "AX", "CN", "JP", "IN", "ZA", "NG", "SG", "HK", "IL", "TR",
)
NON_GEOGRAPHIC = (800, 808, 870, 878, 881, 882, 883, 888, 979)


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def _examples() -> list[tuple[int, str]]:
    """(country code, national significant number) of phonenumbers' example
    numbers, every type, for the regions above."""
    found = []
    for region in FOREIGN:
        for kind in range(11):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                found.append((example.country_code, phonenumbers.national_significant_number(example)))
    for code in NON_GEOGRAPHIC:
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            found.append((code, phonenumbers.national_significant_number(example)))
    return found


EXAMPLES = _examples()
IDD = {"US": "011", "CA": "011", "AU": "0011", "RU": "810", "BR": "0021"}


def _mutated(rng: random.Random, nsn: str) -> str:
    """A number near a valid one: its first digits, then random ones, of about its length."""
    keep = rng.randint(0, len(nsn))
    length = max(1, len(nsn) + rng.choice((0, 0, 0, 0, -2, -1, 1, 2)))
    return nsn[:keep][:length] + _digits(rng, max(0, length - keep))


def _dial_strings(rng: random.Random, plan: NumberingPlan):
    """Things a PBX of the site may record, and whether the call was outbound."""
    site_code = phonenumbers.country_code_for_region(plan.country)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(plan.country)
    trunk = (metadata.national_prefix or "") if metadata else ""
    idd = IDD.get(plan.country, "00")
    home = [(code, nsn) for code, nsn in EXAMPLES if code == site_code] or EXAMPLES
    while True:
        yield _dial_string(rng, plan, site_code, trunk, idd, home)


def _dial_string(rng, plan, site_code, trunk, idd, home) -> tuple[str, bool]:
    outbound = rng.random() < 0.6
    access = rng.choice(plan.access_codes) if outbound and rng.random() < 0.7 else ""
    roll = rng.random()
    code, nsn = rng.choice(EXAMPLES)
    if roll < 0.30:  # a number of the site's country, in national format
        code, nsn = rng.choice(home)
        nsn = _mutated(rng, nsn)
        number = (trunk if rng.random() < 0.8 else "") + nsn
    elif roll < 0.40:  # a local number: the site's area code left out
        number = _digits(rng, rng.randint(4, 9))
    elif roll < 0.55:  # an international number via the international prefix
        number = rng.choice((idd, "00", "011")) + str(code) + _mutated(rng, nsn)
    elif roll < 0.65:  # E.164, sometimes mangled
        number = "+" + rng.choice((str(code), str(code), str(site_code), "0" + str(code), "00" + str(code), "999"))
        number += _mutated(rng, nsn)
    elif roll < 0.72:  # the site's country code without a prefix ("39 02…", "1 212…")
        code, nsn = rng.choice(home)
        number = str(site_code) + rng.choice(("", trunk)) + _mutated(rng, nsn)
    elif roll < 0.82:  # short numbers: emergency, services, extensions
        number = rng.choice(("112", "113", "911", "999", "110", "118", "187", "411", "116000", "116111"))
        if rng.random() < 0.5:
            number = _digits(rng, rng.randint(1, 7))
    elif roll < 0.95:  # any digits at all
        number = _digits(rng, rng.randint(1, 20))
    else:  # garbage and separators
        number = "".join(rng.choice("0123456789+*# -().x\xa0a") for _ in range(rng.randint(0, 18)))
        if rng.random() < 0.2:
            number = "+" + "0" * rng.randint(0, 3) + _digits(rng, rng.randint(0, 300))
    return access + number, outbound


def _compare(plan: NumberingPlan, count: int, seed: int) -> None:
    fast = Normalizer(plan, cache_size=0)
    slow = Normalizer(plan, cache_size=0, reference=True)
    dial_strings = _dial_strings(random.Random(seed), plan)
    seen: set[tuple[str, bool]] = set()
    for _ in range(count * 3):
        seen.add(next(dial_strings))
        if len(seen) == count:
            break
    assert len(seen) == count
    mismatches = []
    categories = set()
    for number, outbound in sorted(seen):
        expected = slow(number, outbound=outbound)
        got = fast(number, outbound=outbound)
        categories.add(expected.category)
        if got != expected:
            mismatches.append((number, outbound, expected, got))
    assert not mismatches, f"{len(mismatches)} differences, first ones: {mismatches[:5]}"
    # The sample must reach the interesting decisions, not only "unknown".
    assert {"international", "national", "unknown", "emergency"} <= categories, categories


@pytest.mark.parametrize("site", sorted(SITES))
def test_the_fast_reading_gives_the_reference_results(site):
    _compare(SITES[site], 20_000, seed=sum(map(ord, site)))


@pytest.mark.parametrize("site", sorted(OTHER_SITES))
def test_the_fast_reading_gives_the_reference_results_in_other_countries(site):
    plan = OTHER_SITES[site]
    if site == "ZZ":
        # phonenumbers does not know the country: both read through parse.
        assert Normalizer(plan)._reader is None
        return
    _compare(plan, 3_000, seed=sum(map(ord, site)))


def test_the_fast_reading_gives_the_reference_results_for_the_benchmark_numbers():
    from calltally.drivers.synthkit import external_numbers
    from calltally.numbering.bench import SITES as BENCH_SITES
    from calltally.numbering.bench import _distinct

    source = external_numbers(random.Random(3), 0)
    it = BENCH_SITES["IT"][0]
    fast, slow = Normalizer(it, cache_size=0), Normalizer(it, cache_size=0, reference=True)
    for _ in range(5_000):
        number = source()
        assert fast(number) == slow(number), number
    for site, (plan, make) in BENCH_SITES.items():
        fast, slow = Normalizer(plan, cache_size=0), Normalizer(plan, cache_size=0, reference=True)
        for number, outbound in _distinct(make, random.Random(7), 5_000):
            assert fast(number, outbound=outbound) == slow(number, outbound=outbound), (site, number)


@pytest.mark.parametrize(
    "number",
    [
        "", "1", "12", "+", "+1", "+12", "+123", "+0039223456789", "+00", "+000", "+39", "+390", "+3902",
        "00", "000", "0000", "0039", "00390", "003902", "0", "0" * 17, "0" * 18, "9" * 17, "9" * 18,
        "1" * 250, "1" * 251, "+" + "1" * 249, "+" + "1" * 250, "011", "0110", "0111", "9011", "90110",
        "+1800", "18005550123", "+18005550123", "0118005550123", "+8008001234", "008008001234",
    ],
)
@pytest.mark.parametrize("site", ["IT", "US", "GB", "DE"])
def test_edge_cases_read_alike(site, number):
    fast = Normalizer(SITES[site], cache_size=0)
    slow = Normalizer(SITES[site], cache_size=0, reference=True)
    for outbound in (True, False):
        assert fast(number, outbound=outbound) == slow(number, outbound=outbound)


@pytest.mark.parametrize("region", ["IT", "US", "GB", "DE", "AR", "BR", "AU", "RU", "VA"])
def test_the_reader_parses_digit_strings_like_phonenumbers(region):
    reader = reading.Reader(region)
    rng = random.Random(region)
    prefixes = ("", "", "+", "00", "0", "000", "011", "8", "810", "1", "+0", "+00")
    for _ in range(5_000):
        code, nsn = rng.choice(EXAMPLES)
        if rng.random() < 0.2:
            number = rng.choice(prefixes) + _digits(rng, rng.randint(0, 22))
        else:
            number = rng.choice((*prefixes, str(code), "+" + str(code), "00" + str(code))) + _mutated(rng, nsn)
        if not number.lstrip("+"):
            continue
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            parsed = None
        read = reader.read(number)
        if parsed is None:
            assert read is None, number
        else:
            assert read == (parsed.country_code, phonenumbers.national_significant_number(parsed)), number
            assert reading.phone_number(*read) == parsed, number
