"""The tariff example in the README loads, and prices a call as the README says."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[3] / "README.md"
pytestmark = pytest.mark.django_db


def test_the_readme_tariff_example_loads_and_round_trips(cli, tmp_path):
    block = re.search(r"```toml\n(.*?)```", README.read_text(), re.DOTALL)
    assert block, "the README has a TOML tariff example"
    plan = tmp_path / "readme.toml"
    plan.write_text(block.group(1))
    cli("tariff", "load", str(plan))
    exported = cli("tariff", "export", "Carrier 2026")
    again = tmp_path / "again.toml"
    again.write_text(exported)
    cli("tariff", "load", str(again))
    assert cli("tariff", "export", "Carrier 2026") == exported
