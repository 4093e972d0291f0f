"""Plan files (TOML) and rate decks (CSV): in, out, and refused with a clear message."""

import io
import re
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from calltally.rating.models import Rate, TariffPlan, TariffVersion, TimeBand
from calltally.rating.planfile import PlanFileError, parse_plan

from .conftest import plan_text

pytestmark = pytest.mark.django_db
DOCS = Path(__file__).resolve().parents[3] / "docs" / "rating.md"


def docs_example() -> str:
    return re.search(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S).group(1)


def snapshot() -> list:
    """Everything the tariff tables hold, to see that nothing changed."""
    return [
        list(TariffPlan.objects.values_list("name", "carrier__name")),
        list(TariffVersion.objects.values_list("plan__name", "valid_from", "valid_to", "currency", "rounding_decimals",
                                               "markup_percent", "directions", "default_band", "holiday_band",
                                               "public_holidays")),
        list(TimeBand.objects.order_by("version", "position")
             .values_list("name", "days", "start_minute", "end_minute")),
        sorted(Rate.objects.values_list("version__plan__name", "prefix", "destination", "category", "band",
                                        "rate_per_minute", "connection_fee", "first_increment", "next_increment",
                                        "minimum_duration", "minimum_charge", "maximum_charge")),
    ]


def test_the_documented_example_loads_and_exports_back_exactly(cli, tmp_path):
    source = tmp_path / "carrier.toml"
    source.write_text(docs_example(), encoding="utf-8")
    assert "version from 2026-01-01 created" in cli("tariff", "load", str(source))
    assert cli("tariff", "export", "Carrier 2026") == docs_example()


def test_toml_load_then_export_then_load_again_is_identical(cli, tmp_path):
    # Written by hand: defaults left out, a per-band table with equal values, dates as TOML dates.
    source = tmp_path / "plan.toml"
    source.write_text(plan_text("Round trip", """
        [[rates]]
        prefix = "+44"
        rate_per_minute = { peak = "0.1", offpeak = "0.1" }

        [[rates]]
        prefix = "39"
        destination = "Italy"
        rate_per_minute = { peak = "0.03", offpeak = 0.015 }
        first_increment = { peak = 30, offpeak = 60 }
        maximum_charge = "1.5"
    """, extra='markup_percent = "2.5"\nvalid_to = 2026-12-31\n'), encoding="utf-8")
    cli("tariff", "load", str(source))
    first = snapshot()
    exported = cli("tariff", "export", "Round trip")
    again = tmp_path / "again.toml"
    again.write_text(exported, encoding="utf-8")
    assert "replaced" in cli("tariff", "load", str(again))
    assert snapshot() == first
    assert cli("tariff", "export", "Round trip") == exported
    assert 'prefix = "44"\ndestination = ""\nrate_per_minute = "0.1000"' in exported
    assert 'rate_per_minute = { peak = "0.0300", offpeak = "0.0150" }' in exported
    assert 'markup_percent = "2.5"' in exported and 'valid_to = "2026-12-31"' in exported


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('rate_per_minute = "0.0300"', 'rate_per_minute = "0,03"'), r"line \d+: \[\[rates\]\] #1 \(prefix 39\): "
                                                                      r"rate_per_minute: '0,03' is not an amount"),
        (('rate_per_minute = "0.0300"', 'rate_per_minute = { peak = "0.03" }'), "no value for band 'offpeak'"),
        (('rate_per_minute = "0.0300"', 'rate_per_minute = { peak = "0.03", night = "0.01", offpeak = "0.01" }'),
         "'night' is not a band of this plan"),
        (('rate_per_minute = "0.0300"', 'rate_per_minute = "-0.03"'), "negative"),
        (('rate_per_minute = "0.0300"', 'rate_per_minute = "0.0000001"'), "more than 6 decimal places"),
        (('prefix = "39"', 'prefix = "39a"'), "not a prefix"),
        (('prefix = "39"', 'prefx = "39"'), r"unknown key 'prefx' \(did you mean 'prefix'\?\)"),
        (('first_increment = 30', 'first_increment = -1'), "between 0 and 86400"),
        (('first_increment = 30', 'next_increment = 0'), "between 1 and 86400"),
        (('first_increment = 30', 'maximum_charge = "0.01"\nminimum_charge = "0.02"'), "above maximum_charge"),
        (('end = "19:00"', 'end = "07:00"'), "line 13: .*end: 07:00 is not after start 08:00"),
        (('days = ["mon", "tue", "wed", "thu", "fri"]', 'days = ["mon", "funday"]'), "'funday' is not a day"),
        (('currency = "EUR"', 'currency = "Euro"'), "line 3: currency: 'Euro' is not a currency"),
        (('valid_from = "2026-01-01"', 'valid_from = "1 Jan 2026"'), "valid_from: '1 Jan 2026' is not a date"),
        (('valid_from = "2026-01-01"', ''), "valid_from: is missing"),
        (('category = "national"', 'category = "cheap"'), "'cheap' is not a category"),
        (('[[rates]]', '[[rates]]\nprefix = "39"\nrate_per_minute = "1"\n\n[[rates]]'), "prefix 39 is also rates #1"),
        (('start = "08:00"', 'start = 08:00'), "not valid TOML"),
        (('[[bands]]', '[[bands]]\nname = "early"\ndays = ["mon"]\nstart = "07:00"\nend = "09:00"\n\n[[bands]]'),
         "overlap"),
    ],
)
def test_a_bad_plan_file_gives_a_clear_error_and_changes_nothing(cli, tmp_path, change, message):
    good = plan_text("Checked", """
        [[rates]]
        prefix = "39"
        destination = "Italy"
        category = "national"
        rate_per_minute = "0.0300"
        first_increment = 30
    """)
    source = tmp_path / "plan.toml"
    source.write_text(good.replace("0.0300", "0.0200"), encoding="utf-8")
    cli("tariff", "load", str(source))
    before = snapshot()
    assert change[0] in good
    source.write_text(good.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(CommandError, match=message) as raised:
        cli("tariff", "load", str(source))
    assert str(source) in str(raised.value) and "Nothing was changed" in str(raised.value)
    assert snapshot() == before


def test_every_problem_of_a_file_is_listed_at_once():
    text = plan_text("Many", "".join(f'\n[[rates]]\nprefix = "{p}"\nrate_per_minute = "x"\n' for p in range(40, 70)))
    with pytest.raises(PlanFileError) as raised:
        parse_plan(text, "many.toml")
    assert str(raised.value).startswith("many.toml: 20 problems (the first 20; fix them and try again):")
    assert str(raised.value).count("is not an amount") == 20


DECK_HEADER = ("prefix,destination,category,band,rate_per_minute,connection_fee,first_increment,next_increment,"
               "minimum_duration,minimum_charge,maximum_charge\n")


def deck(count: int) -> str:
    lines = [DECK_HEADER]
    for n in range(count):
        prefix = str(100000 + n)
        if n % 3:
            lines.append(f"{prefix},Destination {n % 97},,,0.{1 + n % 4999:04d},0.0500,30,6,0,0,\n")
        else:
            lines.append(f"{prefix},Destination {n % 97},mobile,peak,0.{1 + n % 4999:04d},0,60,60,0,0.1000,2.0000\n")
            lines.append(f"{prefix},Destination {n % 97},mobile,offpeak,0.00005,0,60,60,0,0.1000,2.0000\n")
    return "".join(lines)


@pytest.fixture
def plan(load_plan):
    return load_plan(plan_text("Deck plan", '[[rates]]\nprefix = "39"\nrate_per_minute = "0.0300"\n'))


def test_a_rate_deck_of_thousands_of_prefixes_loads_and_exports_back_exactly(cli, plan, tmp_path):
    text = deck(5000)
    source = tmp_path / "deck.csv"
    source.write_text(text, encoding="utf-8")
    out = cli("tariff", "rates-import", "Deck plan", str(source))
    rows = 5000 + 5000 // 3 + 1
    assert f"{rows} rates stored" in out
    assert Rate.objects.filter(version=plan).count() == rows
    assert not Rate.objects.filter(prefix="39").exists()  # the deck replaced the table
    exported = cli("tariff", "rates-export", "Deck plan")
    assert sorted(exported.splitlines()[1:]) == sorted(text.splitlines()[1:])
    output = tmp_path / "out.csv"
    cli("tariff", "rates-export", "Deck plan", "--output", str(output))
    assert output.read_text(encoding="utf-8") == exported


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("39,0.03\n40,abc\n", "line 3: rate_per_minute: 'abc' is not an amount"),
        ("39,0.03\n4x,0.1\n", "line 3: '4x' is not a prefix"),
        ("39,0.03\n,0.1\n", "line 3: is empty; write E.164 digits"),
        ("39,0.03\n39,0.04\n", "line 2: prefix 39 has a row for every band"),
        ("39,0.03,1\n", "line 2: 3 fields where the header has 2"),
    ],
)
def test_a_bad_rate_deck_names_the_row_and_changes_nothing(cli, plan, tmp_path, rows, message):
    before = snapshot()
    source = tmp_path / "deck.csv"
    source.write_text("prefix,rate_per_minute\n" + rows, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        cli("tariff", "rates-import", "Deck plan", str(source))
    assert snapshot() == before


def test_a_deck_needs_a_row_for_every_band_of_a_prefix_and_known_columns(cli, plan, tmp_path):
    source = tmp_path / "deck.csv"
    source.write_text("prefix,band,rate_per_minute\n39,peak,0.03\n39,night,0.01\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 3: band 'night' is not a band of this plan"):
        cli("tariff", "rates-import", "Deck plan", str(source))
    source.write_text("prefix,band,rate_per_minute\n39,peak,0.03\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 2: prefix 39 has no rate for band 'offpeak'"):
        cli("tariff", "rates-import", "Deck plan", str(source))
    source.write_text("prefix,rate,band\n39,0.03,\n", encoding="utf-8")
    with pytest.raises(CommandError, match="(?s)unknown column 'rate'.*no rate_per_minute column"):
        cli("tariff", "rates-import", "Deck plan", str(source))
    source.write_text("", encoding="utf-8")
    with pytest.raises(CommandError, match="the file is empty"):
        cli("tariff", "rates-import", "Deck plan", str(source))


def test_a_deck_for_an_unknown_plan_or_a_plan_without_a_version_is_refused(cli, tmp_path):
    source = tmp_path / "deck.csv"
    source.write_text("prefix,rate_per_minute\n39,0.03\n", encoding="utf-8")
    with pytest.raises(CommandError, match="no tariff plan named 'Nope'"):
        cli("tariff", "rates-import", "Nope", str(source))


def test_identical_rows_for_every_band_are_stored_as_one(plan):
    from calltally.rating.services import import_rates

    text = "prefix,band,rate_per_minute\n39,peak,0.03\n39,offpeak,0.0300\n"
    _, count, _ = import_rates("Deck plan", io.StringIO(text))
    assert count == 1
    assert list(Rate.objects.values_list("band", flat=True)) == [""]


def test_load_check_stores_nothing_and_export_writes_a_file(cli, tmp_path):
    source = tmp_path / "carrier.toml"
    source.write_text(docs_example(), encoding="utf-8")
    out = cli("tariff", "load", str(source), "--check")
    assert "is valid (EUR, 2 band windows, bands peak, offpeak, 5 prefixes)" in out
    assert not TariffPlan.objects.exists()
    with pytest.raises(CommandError, match="no tariff plan named"):
        cli("tariff", "export", "Carrier 2026")
    cli("tariff", "load", str(source))
    target = tmp_path / "out" / "exported.toml"
    with pytest.raises(CommandError, match="cannot write"):
        cli("tariff", "export", "Carrier 2026", "--output", str(target))
    target.parent.mkdir()
    assert "written to" in cli("tariff", "export", "Carrier 2026", "--output", str(target))
    assert target.read_text(encoding="utf-8") == docs_example()
    assert not list(target.parent.glob("*.partial"))
    with pytest.raises(CommandError, match="cannot read"):
        cli("tariff", "load", str(tmp_path / "missing.toml"))
    with pytest.raises(CommandError, match="has no version starting on 2027-01-01"):
        cli("tariff", "export", "Carrier 2026", "--valid-from", "2027-01-01")
