"""What every driver promises: never raise, one outcome per line, resumable
state, and synthesizers whose output reads back without a reject."""

from __future__ import annotations

import collections
import datetime as dt
import importlib
import json
import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calltally.drivers import make_driver, names
from calltally.drivers.base import UTC, CdrRecord, DriverOptions, Reject, Skip, local_to_utc
from calltally.drivers.csvkit import BATCH, LocalClock

from .helpers import raw_lines, records, rejects

DRIVERS = tuple(names())  # the contract holds for every registered driver
DEFAULT_MIX = {"outbound": 0.45, "inbound": 0.35, "internal": 0.20}


def synth_module(name: str):
    return importlib.import_module(f"calltally.drivers.{name}.synth")


def direction_mix(name: str) -> dict:
    """The mix of direction hints a synthesizer makes (some formats have no internal calls)."""
    return getattr(synth_module(name), "DIRECTION_MIX", DEFAULT_MIX)


def options_for(name: str) -> dict:
    return dict(getattr(synth_module(name), "SYNTH_OPTIONS", {}))


def new_driver(name: str, zone: str = "Europe/Rome"):
    return make_driver(name, DriverOptions(timezone=ZoneInfo(zone), options=options_for(name)))


def test_the_registry_finds_every_driver():
    assert set(DRIVERS) <= set(names())
    for name in DRIVERS:
        d = new_driver(name)
        assert d.name == name and d.brand and d.description


def test_the_drivers_do_not_import_django():
    code = (
        "import sys\n"
        "import calltally.drivers.cisco_ucm, calltally.drivers.asterisk_csv, calltally.drivers.generic_csv\n"
        "from calltally.drivers import registry\n"
        "registry()\n"
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), 'django imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- never raise -------------------------------------------------------------------

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BYTES = st.binary(max_size=400)
# Lines close to real ones are more likely to reach deep code than random bytes.
MUTATED = st.builds(
    lambda raw, at, junk: raw[:at] + junk + raw[at + len(junk):],
    st.sampled_from(
        raw_lines("cucm10_cdr.csv") + raw_lines("asterisk_master18.csv") + raw_lines("generic_calls.csv")
        + raw_lines("avaya_ipo_smdr.txt") + raw_lines("avaya_cm_customized.txt")
    ),
    st.integers(min_value=0, max_value=900),
    st.binary(min_size=1, max_size=8),
)


def _primed(name: str):
    d = new_driver(name)
    if name == "cisco_ucm":
        d.parse(raw_lines("cucm10_cdr.csv")[0])
    elif name == "generic_csv":
        d.parse(next(iter(synth_module(name).synthesize(0))))
    return d


@pytest.mark.parametrize("name", DRIVERS)
@FUZZ
@given(raw=st.one_of(BYTES, MUTATED))
def test_parse_never_raises_on_arbitrary_bytes(name, raw):
    for d in (new_driver(name), _primed(name)):
        out = d.parse(raw)
        assert isinstance(out, CdrRecord | Skip | Reject)
        if isinstance(out, CdrRecord):
            assert out.start.tzinfo is not None and out.start.utcoffset() == dt.timedelta(0)
            assert out.talk_seconds >= 0 and out.ring_seconds >= 0


@pytest.mark.parametrize("name", DRIVERS)
@FUZZ
@given(raws=st.lists(st.one_of(BYTES, MUTATED), max_size=30))
def test_parse_many_gives_one_outcome_per_line_and_agrees_with_parse(name, raws):
    batch = _primed(name)
    single = _primed(name)
    out = batch.parse_many(raws)
    assert len(out) == len(raws)
    assert out == [single.parse(raw) for raw in raws]
    assert json.loads(json.dumps(batch.get_state())) == batch.get_state()


@pytest.mark.parametrize("name", DRIVERS)
def test_parse_many_reads_across_batches_and_recovers_from_a_bad_line(name):
    lines = list(synth_module(name).synthesize(BATCH * 2 + 50, seed=3))
    clean = new_driver(name).parse_many(lines)
    broken = list(lines)
    broken[BATCH + 7] = broken[BATCH + 7][:40] + b'"unterminated'
    broken[BATCH + 9] = b"\x00\xff\r garbage \r\n,,"
    out = new_driver(name).parse_many(broken)
    assert len(out) == len(lines)
    assert isinstance(out[BATCH + 9], Reject)
    # A driver that pairs legs as it reads (Cisco CME) fills a leg from its partner:
    # the partners of the broken lines may differ, nothing else may.
    broken_keys = {getattr(clean[i], "leg_key", "") for i in (BATCH + 7, BATCH + 9)} - {""}
    same = [
        i for i in range(len(lines))
        if i not in (BATCH + 7, BATCH + 9) and getattr(clean[i], "leg_key", "") not in broken_keys
    ]
    assert [out[i] for i in same] == [clean[i] for i in same]


# --- synthesizers ------------------------------------------------------------------

@pytest.mark.parametrize("name", DRIVERS)
def test_the_synthesizer_output_parses_with_zero_rejects(name):
    lines = list(synth_module(name).synthesize(5000, seed=7))
    out = new_driver(name, "UTC").parse_many(lines)
    assert rejects(out) == []
    calls = records(out)
    assert len(calls) == 5000
    assert all(b"\n" not in raw and b"\r" not in raw for raw in lines)


@pytest.mark.parametrize("name", DRIVERS)
def test_the_synthesizer_is_deterministic_and_follows_its_arguments(name):
    synth = synth_module(name).synthesize
    assert list(synth(300, seed=1)) == list(synth(300, seed=1))
    assert list(synth(300, seed=1)) != list(synth(300, seed=2))
    # Some formats print no year (Mitel, NEC page reports): their drivers take the year that
    # puts the record in the last eleven months, so the start must be recent for them.
    start = dt.datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
    if getattr(synth_module(name), "YEARLESS", False):
        start = (dt.datetime.now(UTC) - dt.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    lines = list(synth(200, extensions=[2001, 2002], start=start))
    calls = records(new_driver(name, "UTC").parse_many(lines))
    assert len(calls) == 200
    assert min(c.start for c in calls) >= start
    internal = [c for c in calls if c.direction_hint == "internal"]
    if direction_mix(name).get("internal"):
        assert internal
    assert all({c.calling, c.called} <= {"2001", "2002"} for c in internal)


@pytest.mark.parametrize("name", DRIVERS)
def test_the_synthesizer_mixes_directions_and_outcomes_like_a_real_site(name):
    lines = list(synth_module(name).synthesize(4000, seed=11))
    calls = records(new_driver(name, "UTC").parse_many(lines))
    n = len(calls)
    mix = direction_mix(name)
    unanswered = sum(1 for c in calls if not c.answered) / n
    assert 0.15 < unanswered < 0.25
    if None in mix:  # a format whose records are legs without a direction (Cisco CME syslog)
        assert all(c.direction_hint is None for c in calls)
        return
    # the asterisk carrier is not a configured trunk: its outbound calls carry no hint
    hints = collections.Counter(c.direction_hint or "outbound" for c in calls)
    for direction, share in mix.items():
        assert abs(hints[direction] / n - share) < 0.04, (direction, hints)
    outbound = [c.called for c in calls if c.direction_hint in (None, "outbound")]
    assert all(number.startswith(("0", "+39", "+")) or number[:1].isdigit() for number in outbound)


# --- local time ----------------------------------------------------------------------

ZONES = ["Europe/Rome", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]


@pytest.mark.parametrize("zone", ZONES)
def test_the_local_clock_agrees_with_local_to_utc_across_dst_changes(zone):
    tz = ZoneInfo(zone)
    clock = LocalClock(tz)
    for day in ("2026-03-08", "2026-03-29", "2026-04-05", "2026-10-04", "2026-10-25", "2026-11-01"):
        moment = dt.datetime.fromisoformat(f"{day} 00:00:00")
        for step in range(0, 86400, 397):
            local = moment + dt.timedelta(seconds=step)
            text = local.isoformat(" ")
            expected = local_to_utc(local, tz)
            got = clock.parse_iso(text)
            assert got == expected and got.utcoffset() == dt.timedelta(0), text
            assert clock.to_utc(local) == expected, text


def test_the_local_clock_honours_explicit_offsets_and_fixed_zones():
    clock = LocalClock(dt.timezone(dt.timedelta(hours=-5)))
    assert clock.parse_iso("2026-03-02 08:00:00") == dt.datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    assert clock.parse_iso("2026-03-02T08:00:00+01:00") == dt.datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    assert clock.parse_iso("2026-03-02 08:00") == dt.datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.parse_iso("2026-03-02 08:00:0x")
