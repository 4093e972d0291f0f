"""Normalization of dialled digits and caller ids, site by site.

The numbers are fictitious (555-01xx in NANP, made-up subscriber digits
elsewhere) but phonenumbers considers each of them valid, which is what the
table relies on; ``test_every_number_in_the_tables_is_valid_for_phonenumbers``
keeps it that way when the metadata changes.
"""

from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calltally.numbering import CATEGORIES, Normalized, Normalizer, NumberingPlan, normalize
from calltally.numbering.bench import main as bench_main
from calltally.numbering.normalizer import site_type_matcher


def _extensions(low: int, high: int):
    def is_extension(number: str) -> bool:
        return low <= len(number) <= high and number.isdigit()

    return is_extension


MILAN = NumberingPlan("IT", "02", ("0",), _extensions(3, 4))
MANHATTAN = NumberingPlan("US", "212", ("9",), _extensions(4, 4))

OUT, IN = True, False

# dialled, outbound, digits, e164, category, country, destination
ITALY = [
    pytest.param("00223456789", OUT, "0223456789", "+390223456789", "local", "IT", "Italy, Milan",
                 id="a Milan number after the access code is local"),
    pytest.param("0223456789", OUT, "0223456789", "+390223456789", "local", "IT", "Italy, Milan",
                 id="a Milan number recorded without the access code keeps its leading 0"),
    pytest.param("0 02-2345.6789", OUT, "0223456789", "+390223456789", "local", "IT", "Italy, Milan",
                 id="spaces dashes and dots are dropped"),
    pytest.param("00612345678", OUT, "0612345678", "+390612345678", "national", "IT", "Italy, Rome",
                 id="a Rome number is national"),
    pytest.param("00111234567", OUT, "0111234567", "+390111234567", "national", "IT", "Italy, Turin",
                 id="a Turin number is national"),
    pytest.param("00392345678", OUT, "0392345678", "+390392345678", "national", "IT", "Italy, Monza",
                 id="a Monza number after the access code is national"),
    pytest.param("0392345678", OUT, "392345678", "+39392345678", "mobile", "IT", "Italy (mobile)",
                 id="when both readings are numbers the access code wins"),
    pytest.param("03471234567", OUT, "3471234567", "+393471234567", "mobile", "IT", "Italy (mobile)",
                 id="a mobile after the access code is mobile"),
    pytest.param("3471234567", OUT, "3471234567", "+393471234567", "mobile", "IT", "Italy (mobile)",
                 id="a mobile recorded without the access code is mobile"),
    pytest.param("000442079460123", OUT, "00442079460123", "+442079460123", "international", "GB",
                 "United Kingdom, London", id="a London number via 00 is international"),
    pytest.param("000447400123456", OUT, "00447400123456", "+447400123456", "international", "GB",
                 "United Kingdom (mobile)", id="a British mobile via 00 is international"),
    pytest.param("0 0049 30 12345678", OUT, "00493012345678", "+493012345678", "international", "DE",
                 "Germany, Berlin", id="a Berlin number via 00 is international"),
    pytest.param("+33 1 42 68 53 00", OUT, "+33142685300", "+33142685300", "international", "FR",
                 "France, Paris", id="a number recorded with a plus is international"),
    pytest.param("00669812345", OUT, "0669812345", "+390669812345", "international", "VA",
                 "Vatican, Vatican City", id="the Vatican shares +39 but is another country"),
    pytest.param("0800123456", OUT, "800123456", "+39800123456", "toll_free", "IT", "Italy (toll free)",
                 id="an 800 number is toll free"),
    pytest.param("0803123", OUT, "803123", "+39803123", "toll_free", "IT", "Italy (toll free)",
                 id="an 803 number is toll free"),
    pytest.param("0899123456", OUT, "899123456", "+39899123456", "premium", "IT", "Italy (premium rate)",
                 id="an 899 number is premium"),
    pytest.param("0848123456", OUT, "848123456", "+39848123456", "special", "IT", "Italy (shared cost)",
                 id="an 848 number is shared cost so special"),
    pytest.param("112", OUT, "112", "", "emergency", "IT", "Emergency",
                 id="112 is an emergency even though it looks like an extension"),
    pytest.param("0112", OUT, "112", "", "emergency", "IT", "Emergency",
                 id="112 after the access code is an emergency"),
    pytest.param("113", OUT, "113", "", "emergency", "IT", "Emergency", id="113 is an emergency"),
    pytest.param("0113", OUT, "113", "", "emergency", "IT", "Emergency",
                 id="113 after the access code is an emergency"),
    pytest.param("0118", OUT, "118", "", "emergency", "IT", "Emergency",
                 id="118 after the access code is an emergency"),
    pytest.param("0 116000", OUT, "116000", "", "special", "IT", "Italy (short number)",
                 id="a short service number after the access code is special"),
    pytest.param("201", OUT, "201", "", "internal", "", "", id="a three digit extension is internal"),
    pytest.param("0187", OUT, "0187", "", "internal", "", "",
                 id="an extension shaped string is internal unless it is an emergency"),
    pytest.param("*21*201#", OUT, "*21*201#", "", "special", "", "Service code",
                 id="a star code is a special service code"),
    pytest.param("0223456789#", OUT, "0223456789", "+390223456789", "local", "IT", "Italy, Milan",
                 id="a trailing hash is the dial now key"),
    pytest.param("02 2345 6789", IN, "0223456789", "+390223456789", "local", "IT", "Italy, Milan",
                 id="an inbound caller id in national format"),
    pytest.param("+393471234567", IN, "+393471234567", "+393471234567", "mobile", "IT", "Italy (mobile)",
                 id="an inbound caller id in E.164"),
    pytest.param("00612345678", IN, "0612345678", "+390612345678", "national", "IT", "Italy, Rome",
                 id="an inbound caller id with the trunk digit in front"),
    pytest.param("000442079460123", IN, "00442079460123", "+442079460123", "international", "GB",
                 "United Kingdom, London", id="an inbound international caller id with the trunk digit"),
    pytest.param("abc", OUT, "abc", "", "unknown", "", "", id="letters are unknown"),
    pytest.param("", OUT, "", "", "unknown", "", "", id="nothing is unknown"),
    pytest.param("0+39", OUT, "0+39", "", "unknown", "", "", id="a plus inside the digits is unknown"),
]

UNITED_STATES = [
    pytest.param("95550123", OUT, "5550123", "+12125550123", "local", "US", "United States, New York, NY",
                 id="seven digits after the access code are local"),
    pytest.param("92125550123", OUT, "2125550123", "+12125550123", "local", "US", "United States, New York, NY",
                 id="ten digits in the site's NPA are local"),
    pytest.param("9 1 (212) 555-0123", OUT, "12125550123", "+12125550123", "local", "US",
                 "United States, New York, NY", id="one plus ten digits in the site's NPA are local"),
    pytest.param("913125550123", OUT, "13125550123", "+13125550123", "national", "US",
                 "United States, Chicago, IL", id="a Chicago number is national"),
    pytest.param("96465550123", OUT, "6465550123", "+16465550123", "national", "US", "United States, New York",
                 id="an overlay NPA is another area so national"),
    pytest.param("918005550123", OUT, "18005550123", "+18005550123", "toll_free", "US",
                 "United States (toll free)", id="an 800 number is toll free"),
    pytest.param("918885550123", OUT, "18885550123", "+18885550123", "toll_free", "US",
                 "United States (toll free)", id="an 888 number is toll free"),
    pytest.param("919005550123", OUT, "19005550123", "+19005550123", "premium", "US",
                 "United States (premium rate)", id="a 900 number is premium"),
    pytest.param("9011442079460123", OUT, "011442079460123", "+442079460123", "international", "GB",
                 "United Kingdom, London", id="a London number via 011 is international"),
    pytest.param("9011393471234567", OUT, "011393471234567", "+393471234567", "international", "IT",
                 "Italy (mobile)", id="an Italian mobile via 011 is international"),
    pytest.param("918765550123", OUT, "18765550123", "+18765550123", "international", "JM", "Jamaica (mobile)",
                 id="Jamaica is in NANP but international"),
    pytest.param("9 1 416 555 0123", OUT, "14165550123", "+14165550123", "international", "CA",
                 "Canada, Ontario", id="Canada is in NANP but international"),
    pytest.param("911", OUT, "911", "", "emergency", "US", "Emergency", id="911 is an emergency"),
    pytest.param("9911", OUT, "911", "", "emergency", "US", "Emergency",
                 id="911 after the access code is an emergency although it looks like an extension"),
    pytest.param("411", OUT, "411", "", "special", "US", "United States (short number)",
                 id="411 is a special short number"),
    pytest.param("2001", OUT, "2001", "", "internal", "", "", id="a four digit extension is internal"),
    pytest.param("9411", OUT, "9411", "", "internal", "", "",
                 id="a non emergency short number after the access code that fits the plan is internal"),
    pytest.param("*67", OUT, "*67", "", "special", "", "Service code", id="a star code is special"),
    pytest.param("2125550123", IN, "2125550123", "+12125550123", "local", "US", "United States, New York, NY",
                 id="an inbound caller id in national format"),
    pytest.param("+12125550123", IN, "+12125550123", "+12125550123", "local", "US",
                 "United States, New York, NY", id="an inbound caller id in E.164"),
    pytest.param("12125550123", IN, "12125550123", "+12125550123", "local", "US", "United States, New York, NY",
                 id="an inbound caller id with the trunk prefix"),
    pytest.param("92125550123", IN, "2125550123", "+12125550123", "local", "US", "United States, New York, NY",
                 id="an inbound caller id with the access digit in front"),
    pytest.param("+442079460123", IN, "+442079460123", "+442079460123", "international", "GB",
                 "United Kingdom, London", id="an inbound international caller id"),
    pytest.param("9-abc", OUT, "9abc", "", "unknown", "", "", id="letters after the access code are unknown"),
    pytest.param("12345678901234567890", OUT, "12345678901234567890", "", "unknown", "", "",
                 id="too many digits are unknown"),
]


@pytest.mark.parametrize(("dialled", "outbound", "digits", "e164", "category", "country", "destination"), ITALY)
def test_an_italian_site_normalizes(dialled, outbound, digits, e164, category, country, destination):
    assert normalize(dialled, MILAN, outbound=outbound) == Normalized(
        dialled, digits, e164, category, destination, country
    )


@pytest.mark.parametrize(
    ("dialled", "outbound", "digits", "e164", "category", "country", "destination"), UNITED_STATES
)
def test_a_us_site_normalizes(dialled, outbound, digits, e164, category, country, destination):
    assert normalize(dialled, MANHATTAN, outbound=outbound) == Normalized(
        dialled, digits, e164, category, destination, country
    )


def test_every_number_in_the_tables_is_valid_for_phonenumbers():
    for table in (ITALY, UNITED_STATES):
        for case in table:
            e164 = case.values[3]
            if e164:
                assert phonenumbers.is_valid_number(phonenumbers.parse(e164)), e164


def test_every_category_is_covered_by_the_tables():
    seen = {case.values[4] for case in ITALY + UNITED_STATES}
    assert seen == set(CATEGORIES)


def test_categories_are_the_documented_ones():
    assert CATEGORIES == (
        "internal", "local", "national", "mobile", "international", "toll_free", "premium", "special",
        "emergency", "unknown",
    )


# --- other countries and plans ------------------------------------------------------


def test_a_uk_number_dialled_without_the_area_code_is_local():
    london = Normalizer(NumberingPlan("GB", "020", ("9",)))
    result = london("979460123")
    assert (result.digits, result.e164, result.category) == ("79460123", "+442079460123", "local")
    assert london("901214960123").category == "national"


def test_a_nanp_area_code_may_be_written_with_its_trunk_prefix():
    plan = NumberingPlan("US", "1212", ("9",))
    assert normalize("95550123", plan).e164 == "+12125550123"
    assert normalize("95550123", plan).category == "local"


def test_a_site_without_an_area_code_has_no_local_calls():
    plan = NumberingPlan("IT", access_codes=("0",))
    assert normalize("00223456789", plan).category == "national"


def test_a_toll_free_nanp_number_is_toll_free_from_canada_too():
    toronto = NumberingPlan("CA", "416", ("9",))
    result = normalize("918005550123", toronto)
    assert (result.category, result.country) == ("toll_free", "CA")


def test_a_country_phonenumbers_does_not_know_still_reads_plus_numbers():
    nowhere = Normalizer(NumberingPlan("ZZ", "02", ("0",)))
    assert nowhere("+442079460123").category == "international"
    assert nowhere("0223456789").category == "unknown"


def test_an_access_code_with_a_star_is_stripped():
    plan = NumberingPlan("IT", "02", ("*9",))
    result = normalize("*90223456789", plan)
    assert (result.digits, result.category) == ("0223456789", "local")


def test_a_number_of_plausible_length_but_no_known_range_keeps_its_country():
    result = normalize("+39 212345678", MILAN)
    assert (result.e164, result.category, result.country) == ("+39212345678", "national", "IT")


# --- robustness ------------------------------------------------------------------


def test_a_failing_extension_predicate_counts_as_not_an_extension():
    def broken(number: str) -> bool:
        raise RuntimeError("bad pattern")

    result = normalize("0223456789", NumberingPlan("IT", "02", ("0",), broken))
    assert result.category == "local"


def test_a_plan_that_cannot_be_hashed_still_normalizes():
    class Extensions:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self, number: str) -> bool:
            return len(number) == 3

    plan = NumberingPlan("IT", "02", ("0",), Extensions())
    assert normalize("201", plan).category == "internal"


@pytest.mark.parametrize("value", [None, b"0223456789", 12345, ["list"], object()])
def test_inputs_that_are_not_text_do_not_raise(value):
    assert Normalizer(MILAN)(value).category in CATEGORIES


@settings(max_examples=300, deadline=None)
@given(text=st.text(), outbound=st.booleans())
def test_arbitrary_text_never_raises(text, outbound):
    for plan in (MILAN, MANHATTAN):
        result = normalize(text, plan, outbound=outbound)
        assert result.category in CATEGORIES
        assert result.dialled == text


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="0123456789+*# -()", max_size=24), outbound=st.booleans())
def test_arbitrary_dial_strings_never_raise(text, outbound):
    for plan in (MILAN, MANHATTAN):
        result = normalize(text, plan, outbound=outbound)
        assert result.category in CATEGORIES
        assert result.e164 == "" or result.e164.startswith("+")


# --- the cache and the fast type check ------------------------------------------------


def test_a_normalizer_answers_a_repeated_number_from_its_cache():
    normalizer = Normalizer(MILAN, cache_size=10)
    assert normalizer("00223456789") is normalizer("00223456789")
    assert normalizer("0223456789", outbound=False).category == "local"


def test_a_normalizer_without_cache_gives_the_same_answers():
    cached, uncached = Normalizer(MANHATTAN), Normalizer(MANHATTAN, cache_size=0)
    for number in ("95550123", "9911", "918005550123", "+442079460123", "junk"):
        assert cached(number) == uncached(number)


@pytest.mark.parametrize("region", ["IT", "US", "CA", "GB", "DE", "FR", "BR", "AU", "RU"])
def test_the_fast_type_check_agrees_with_phonenumbers(region):
    matcher = site_type_matcher(region)
    country_code = phonenumbers.country_code_for_region(region)
    rng = random.Random(region)
    samples = []
    for kind in range(11):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is not None:
            samples.append(phonenumbers.national_significant_number(example))
    for _ in range(3000):
        samples.append(samples[rng.randrange(len(samples))][: rng.randint(1, 4)] + "".join(
            rng.choice("0123456789") for _ in range(rng.randint(3, 10))
        ))
    for nsn in samples:
        try:
            number = phonenumbers.parse(f"+{country_code}{nsn}")
        except phonenumbers.NumberParseException:
            continue
        national = phonenumbers.national_significant_number(number)
        if phonenumbers.is_valid_number_for_region(number, region):
            expected = phonenumbers.number_type(number) if phonenumbers.region_code_for_number(number) == region \
                else matcher(national)
            assert matcher(national) == expected != phonenumbers.PhoneNumberType.UNKNOWN, nsn
        else:
            assert matcher(national) == phonenumbers.PhoneNumberType.UNKNOWN, nsn


def test_the_benchmark_prints_both_figures(capsys):
    bench_main(["--site", "IT", "--distinct", "200", "--calls", "2000"])
    out = capsys.readouterr().out
    assert "cold" in out and "realistic" in out
