"""A priced site with calls, one of them discarded for an extension nobody defined (203)."""

from __future__ import annotations

import pytest

from calltally.directory.models import Extension
from calltally.jobs import services
from calltally.miner.tests.test_rating import ASTERISK, PLAN


@pytest.fixture(autouse=True)
def quick_beats(monkeypatch):
    """The job heartbeat thread beats often enough to be seen within a test."""
    monkeypatch.setattr(services, "BEAT_SECONDS", 0.05)
    monkeypatch.setattr(services, "PROGRESS_SECONDS", 0)


@pytest.fixture
def priced(make_site, spool, cli, tmp_path):
    """Site HQ (Rome) on the plan "Carrier 2026", the Asterisk fixture imported: an outbound
    call of 201 costing €0.11, and one call of 203 discarded as extension not configured."""
    site = make_site("HQ", area_code="02")
    Extension.objects.create(site=site, number="201")
    Extension.objects.create(site=site, number="202")
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN)
    cli("tariff", "load", str(plan))
    cli("site", "set", "HQ", "--tariff", "Carrier 2026")
    cli("import", "--site", "HQ", str(ASTERISK))
    site.refresh_from_db()
    site.plan_file = plan
    return site
