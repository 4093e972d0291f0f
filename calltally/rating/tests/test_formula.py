"""The cost formula of docs/rating.md: its invariants, for any rate and any call."""

import math
from decimal import Decimal
from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from calltally.rating.engine import Terms, billed_seconds, price

amounts = st.decimals(min_value=0, max_value=5, places=6, allow_nan=False, allow_infinity=False)
seconds = st.integers(min_value=0, max_value=4000)
increments = st.integers(min_value=1, max_value=600)
markups = st.decimals(min_value=-100, max_value=200, places=4, allow_nan=False, allow_infinity=False)


@st.composite
def terms(draw) -> Terms:
    least = draw(amounts)
    cap = draw(st.none() | amounts)  # possibly below the minimum charge: then the cap wins (it comes second)
    return Terms(draw(amounts), draw(amounts), draw(seconds), draw(increments), draw(seconds), least, cap)


def reference(t: Terms, talk: int, answered: bool, markup: Decimal, decimals: int) -> Fraction:
    """The formula as docs/rating.md writes it, step by step, in exact fractions."""
    if not answered or talk == 0:
        return Fraction(0)
    billed = max(talk, t.minimum_duration)
    if billed <= t.first_increment:
        billed = t.first_increment
    else:
        billed = t.first_increment + math.ceil(Fraction(billed - t.first_increment, t.next_increment)) \
            * t.next_increment
    cost = Fraction(t.connection_fee) + Fraction(t.rate_per_minute) * billed / 60
    cost = max(cost, Fraction(t.minimum_charge))
    if t.maximum_charge is not None:
        cost = min(cost, Fraction(t.maximum_charge))
    cost = cost * (1 + Fraction(markup) / 100)
    unit = Fraction(1, 10 ** decimals)
    return math.floor(cost / unit + Fraction(1, 2)) * unit  # half-up (cost ≥ 0)


@settings(max_examples=400, deadline=None)
@given(terms(), seconds, st.booleans(), markups, st.integers(min_value=0, max_value=4))
def test_the_engine_computes_exactly_the_documented_formula(t, talk, answered, markup, decimals):
    billed, cost = price(t, talk, answered, markup, decimals)
    assert Fraction(cost) == reference(t, talk, answered, markup, decimals)
    assert cost.as_tuple().exponent == -decimals


@given(terms(), seconds, markups)
def test_a_cost_is_never_negative(t, talk, markup):
    assert price(t, talk, True, markup)[1] >= 0


@given(terms(), seconds, seconds, markups)
def test_a_longer_call_never_costs_less(t, one, other, markup):
    short, long = sorted((one, other))
    assert price(t, short, True, markup)[1] <= price(t, long, True, markup)[1]


@given(terms(), st.integers(min_value=1, max_value=4000))
def test_billed_seconds_are_at_least_the_talk_and_fall_on_an_increment(t, talk):
    billed, _ = price(t, talk, True)
    assert billed >= talk
    assert billed >= t.minimum_duration
    assert billed >= t.first_increment
    if billed > t.first_increment:
        assert (billed - t.first_increment) % t.next_increment == 0
        # …and on the first increment that covers the talk: one increment less would not.
        assert billed - t.next_increment < max(talk, t.minimum_duration)
    assert billed == billed_seconds(talk, t.first_increment, t.next_increment, t.minimum_duration)


@given(terms(), seconds, st.booleans())
def test_a_call_without_talk_time_or_not_answered_costs_nothing(t, talk, answered):
    if not answered or talk == 0:
        assert price(t, talk, answered) == (0, Decimal("0.0000"))


@given(terms(), st.integers(min_value=1, max_value=4000))
def test_the_cost_stays_within_the_minimum_and_maximum_charges(t, talk):
    assume(t.maximum_charge is None or t.maximum_charge >= t.minimum_charge)
    _, cost = price(t, talk, True)
    half = Decimal("0.00005")  # the rounding to 4 decimals
    assert cost >= t.minimum_charge - half
    if t.maximum_charge is not None:
        assert cost <= t.maximum_charge + half


@given(terms(), st.integers(min_value=1, max_value=4000), markups, markups)
def test_the_markup_scales_the_cost_and_a_larger_markup_never_costs_less(t, talk, one, other):
    low, high = sorted((one, other))
    assert price(t, talk, True, low)[1] <= price(t, talk, True, high)[1]
    # The marked-up cost is the bare cost × (1 + markup/100), give or take the two roundings.
    _, bare = price(t, talk, True, Decimal(0))
    _, marked = price(t, talk, True, high)
    factor = 1 + Fraction(high) / 100
    assert abs(Fraction(marked) - Fraction(bare) * factor) <= Fraction(1, 20000) * (1 + factor)
    assert price(t, talk, True, Decimal(-100))[1] == 0


@given(terms(), st.integers(min_value=1, max_value=4000), markups)
def test_the_explained_cost_is_the_cost(t, talk, markup):
    steps: list[str] = []
    assert price(t, talk, True, markup, 4, steps) == price(t, talk, True, markup, 4)
    assert steps[-1].endswith(str(price(t, talk, True, markup, 4)[1]))
    assert len(steps) == 6


def test_rounding_is_half_up_not_half_even():
    t = Terms(Decimal("0.0003"))  # 1/1 increments
    assert price(t, 10, True)[1] == Decimal("0.0001")  # 0.00005 exactly
    t = Terms(Decimal("0.0009"))
    assert price(t, 10, True)[1] == Decimal("0.0002")  # 0.00015 exactly
    assert price(Terms(Decimal("0.30")), 1, True, decimals=2)[1] == Decimal("0.01")  # 0.005 exactly
