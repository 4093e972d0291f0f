"""mask(): the last N digits of an outside number shown as *."""

from hypothesis import given
from hypothesis import strategies as st

from calltally.directory.privacy import mask


def test_the_last_digits_are_masked_and_a_leading_plus_stays():
    assert mask("+390612345678", 4) == "+39061234****"
    assert mask("0612345678", 3) == "0612345***"
    assert mask("+44 20 7946 0958", 6) == "+44 20 79** ****"


def test_no_more_digits_are_masked_than_the_number_has():
    assert mask("123", 5) == "***"
    assert mask("+1", 3) == "+*"
    assert mask("", 4) == ""


def test_zero_or_negative_digits_change_nothing():
    assert mask("+390612345678", 0) == "+390612345678"
    assert mask("123", -2) == "123"


def test_non_digits_are_kept_and_not_counted():
    assert mask("*31#", 2) == "***#"
    assert mask("anonymous", 3) == "anonymous"


@given(st.text(alphabet="+0123456789 -", max_size=20), st.integers(min_value=0, max_value=25))
def test_masking_keeps_the_length_and_masks_min_of_n_and_the_digit_count(number, digits):
    masked = mask(number, digits)
    assert len(masked) == len(number)
    digit_count = sum(ch.isdigit() for ch in number)
    assert masked.count("*") == min(digits, digit_count)
    assert sum(ch.isdigit() for ch in masked) == digit_count - min(digits, digit_count)
    assert masked.startswith("+") == number.startswith("+")
