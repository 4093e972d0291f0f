"""`calltally drivers detect` names the driver that wrote a sample first."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from calltally.cliutil import key_values
from calltally.drivers import make_driver
from calltally.drivers.base import DriverOptions
from calltally.drivers.detect import detect, option_arguments
from calltally.drivers.mitel.driver import EXTENDED
from calltally.drivers.mitel.synth import record

from .helpers import records, rejects

FIXTURES = Path(__file__).parent / "fixtures"
MINER_FIXTURES = Path(__file__).parents[2] / "miner" / "tests" / "fixtures"
SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "samples"

# fixture file → the driver that must come first
EXPECTED = {
    FIXTURES / "cucm10_cdr.csv": "cisco_ucm",
    FIXTURES / "cucm12_cdr.csv": "cisco_ucm",
    FIXTURES / "asterisk_master18.csv": "asterisk_csv",
    FIXTURES / "asterisk_master21.csv": "asterisk_csv",
    FIXTURES / "avaya_ipo_smdr.txt": "avaya_ipo",
    MINER_FIXTURES / "asterisk-hq.csv": "asterisk_csv",
    FIXTURES / "alcatel_oxe_ed52.txt": "alcatel_oxe",
    FIXTURES / "asterisk_custom_freepbx.csv": "asterisk_custom",
    FIXTURES / "asterisk_custom_master.csv": "asterisk_custom",
    FIXTURES / "avaya_ipo_smdr.txt": "avaya_ipo",
    FIXTURES / "cisco_cme_syslog.txt": "cisco_cme",
    FIXTURES / "freeswitch_example.csv": "freeswitch_csv",
    FIXTURES / "freeswitch_sql.csv": "freeswitch_csv",
    FIXTURES / "grandstream_ucm.csv": "grandstream",
    FIXTURES / "hipath_compressed.txt": "hipath",
    FIXTURES / "mitel_smdr.txt": "mitel",
    FIXTURES / "nec_sv_mat.txt": "nec_sv",
    FIXTURES / "nec_sv_page.txt": "nec_sv",
    FIXTURES / "panasonic_pattern_c.txt": "panasonic",
    FIXTURES / "panasonic_smdr.txt": "panasonic",
    FIXTURES / "teams_direct_routing.csv": "teams",
    FIXTURES / "teams_pstn.csv": "teams",
    FIXTURES / "threecx_v16.txt": "threecx",
    FIXTURES / "threecx_v18.txt": "threecx",
    FIXTURES / "yeastar_dsttrcunkname.csv": "yeastar",
    FIXTURES / "yeastar_p_series.csv": "yeastar",
    FIXTURES / "yeastar_s_series.csv": "yeastar",
    FIXTURES / "hipath_no_node.txt": "hipath",
    FIXTURES / "freeswitch_spreadsheet_ymd.csv": "freeswitch_csv",
    FIXTURES / "freeswitch_spreadsheet_dmy.csv": "freeswitch_csv",
    FIXTURES / "freeswitch_spreadsheet_mdy.csv": "freeswitch_csv",
    FIXTURES / "freeswitch_spreadsheet_dmy_early.csv": "freeswitch_csv",
}
# The anonymised captures beside the project (absent from a user's clone).
SAMPLE_EXPECTED = {
    "3cx/cdr-v18-single.log": "threecx",
    "asterisk-cdr-custom/Master.csv": "asterisk_custom",
    "avaya-ipoffice/ipo500-2017-08.smdr": "avaya_ipo",
    "nec-sv9500/KKrecord.smdr": "nec_sv",
    "nec-sv9500/KLrecord.smdr": "nec_sv",
    "nec-sv9500/KMrecord.smdr": "nec_sv",
}


@pytest.mark.parametrize("path", sorted(EXPECTED), ids=lambda p: p.name)
def test_the_right_driver_comes_first_for_each_fixture(path):
    found = detect(path.read_bytes())
    assert found, "no driver read the fixture"
    assert found[0].driver == EXPECTED[path]
    assert found[0].confidence > 0.5


@pytest.mark.parametrize("relative", sorted(SAMPLE_EXPECTED))
def test_the_right_driver_comes_first_for_each_shared_sample(relative):
    path = SAMPLES / relative
    if not path.exists():
        pytest.skip(f"{path} is absent: the anonymised samples live beside the project only on developer machines")
    found = detect(path.read_bytes())
    assert found and found[0].driver == SAMPLE_EXPECTED[relative]


def test_garbage_is_read_by_no_driver():
    assert detect(bytes(range(256)) * 20) == []


def test_each_candidate_reports_its_share_of_lines():
    [best, *_] = detect((FIXTURES / "cucm10_cdr.csv").read_bytes())
    data = best.as_dict()
    assert data["lines"] == 12 and data["calls"] == 9 and 0 < data["confidence"] <= 1



# sample → (driver, the options detection must propose for it)
PROPOSED = {
    "hipath_no_node.txt": ("hipath", {}),
    "freeswitch_spreadsheet_ymd.csv": ("freeswitch_csv", {}),
    "freeswitch_spreadsheet_dmy.csv": ("freeswitch_csv", {"date_order": "DMY"}),
    "freeswitch_spreadsheet_mdy.csv": ("freeswitch_csv", {"date_order": "MDY"}),
    # every day of this one is 12 or less: only how close together the calls fall tells the order
    "freeswitch_spreadsheet_dmy_early.csv": ("freeswitch_csv", {"date_order": "DMY"}),
}


def read_back(name: str, options: dict, data: bytes) -> list:
    return make_driver(name, DriverOptions(options=options)).parse_many(data.splitlines())


@pytest.mark.parametrize("fixture", sorted(PROPOSED))
def test_detection_proposes_the_options_that_read_every_record_of_the_sample(fixture):
    data = (FIXTURES / fixture).read_bytes()
    [best, *_] = detect(data)
    assert (best.driver, best.options) == PROPOSED[fixture]
    assert best.confidence > 0.95 and best.rejected == 0
    out = read_back(best.driver, best.options, data)
    assert rejects(out) == [] and len(records(out)) == best.calls


def site_settings(arguments: str) -> tuple[str, dict]:
    """The driver and options `calltally site add` takes from pasted ``--driver … --driver-option …``."""
    words = shlex.split(arguments)
    driver = words[words.index("--driver") + 1]
    pairs = [words[i + 1] for i, word in enumerate(words) if word == "--driver-option"]
    return driver, key_values(pairs, "--driver-option")


@pytest.mark.parametrize("fixture", sorted(PROPOSED))
def test_the_printed_site_settings_read_every_record_when_pasted_back(cli, fixture):
    path = FIXTURES / fixture
    out = cli("drivers", "detect", str(path)).splitlines()
    pasted = out[out.index(next(line for line in out if line.startswith("Best: "))) + 1]
    driver, options = site_settings(pasted.split("   (")[0])
    assert (driver, options) == PROPOSED[fixture]
    data = path.read_bytes()
    assert rejects(read_back(driver, options, data)) == []
    [best, *_] = json.loads(cli("drivers", "detect", str(path), "--json"))
    # Options may come before the file too.
    assert json.loads(cli("drivers", "detect", "--json", str(path)))[0] == best
    assert site_settings(best["site_arguments"]) == PROPOSED[fixture]
    assert key_values(best["driver_options"], "--driver-option") == PROPOSED[fixture][1]


def test_options_are_printed_so_that_site_add_reads_back_the_same_values():
    options = {"date_order": "DMY", "fields": [["date", 8], ["call_type", 2]], "usegmtime": True,
               "year": 2026, "digits": "0039", "mapping": {"start": 0}, "flag": "true", "note": "two words"}
    arguments = option_arguments(options)
    assert arguments[:3] == ["date_order=DMY", 'fields=[["date", 8], ["call_type", 2]]', "usegmtime=true"]
    assert key_values(arguments, "--driver-option") == options
    pasted = " ".join(f"--driver-option {shlex.quote(a)}" for a in arguments)
    assert site_settings("--driver x " + pasted) == ("x", options)


def test_a_day_first_panasonic_printout_is_given_its_date_order():
    data = (FIXTURES / "panasonic_smdr.txt").read_bytes().replace(b"03/02/26", b"14/03/26")
    [best, *_] = detect(data)
    assert (best.driver, best.options) == ("panasonic", {"date_order": "dmy"})


def test_a_month_first_hipath_printout_is_given_its_date_order():
    # 2 then 3 March written month first: read day first, the sample would jump from 3 February to 3 March
    data = (FIXTURES / "hipath_no_node.txt").read_bytes().replace(b"02.03.26", b"03.02.26")
    [best, *_] = detect(data)
    assert (best.driver, best.options) == ("hipath", {"date_order": "MDY"})


def test_a_mitel_printout_with_the_extended_digit_length_is_given_its_layout():
    fields = [
        dict(date="03/02", time="09:00", duration="00:01:00", calling="2001234", digits="0612345678", status="A",
             called="T101", account="55"),
        dict(date="03/02", time="09:05", duration="00:02:10", calling="T102", answer_time="012",
             digits="2002345", called="2002345"),
        dict(date="03/02", time="09:10", duration="00:00:30", calling="2001234", digits="2003456", called="2003456"),
    ]
    data = b"\n".join(record(f, EXTENDED).encode() for f in fields)
    [best, *_] = detect(data)
    assert (best.driver, best.options) == ("mitel", {"layout": "extended"})
