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
}


@pytest.mark.parametrize("path", sorted(EXPECTED), ids=lambda p: p.name)
def test_the_right_driver_comes_first_for_each_fixture(path):
    found = detect(path.read_bytes())
    assert found, "no driver read the fixture"
    assert found[0].driver == EXPECTED[path]
    assert found[0].confidence > 0.5


def test_garbage_is_read_by_no_driver():
    assert detect(bytes(range(256)) * 20) == []


def test_each_candidate_reports_its_share_of_lines():
    [best, *_] = detect((FIXTURES / "cucm10_cdr.csv").read_bytes())
    data = best.as_dict()
    assert data["lines"] == 12 and data["calls"] == 9 and 0 < data["confidence"] <= 1

