"""`calltally drivers detect` names the driver that wrote a sample first."""

from __future__ import annotations

from pathlib import Path

import pytest

from calltally.drivers.detect import detect

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

