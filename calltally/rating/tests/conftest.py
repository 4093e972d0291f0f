"""Plans and calls the rating tests share."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal

import pytest

BANDS = """
default_band = "offpeak"
holiday_band = "offpeak"

[[bands]]
name = "peak"
days = ["mon", "tue", "wed", "thu", "fri"]
start = "08:00"
end = "19:00"
"""


def plan_text(name: str, rates: str, *, valid_from: str = "2026-01-01", extra: str = "", bands: str = BANDS,
              currency: str = "EUR") -> str:
    """A TOML plan: the header, ``extra`` top-level keys, the bands, then ``rates``."""
    head = f'name = "{name}"\ncarrier = "Carrier"\ncurrency = "{currency}"\nvalid_from = "{valid_from}"\n'
    return head + textwrap.dedent(extra) + textwrap.dedent(bands) + textwrap.dedent(rates)


@pytest.fixture
def load_plan(db):
    """Stores a plan file's text (the way `calltally tariff load` does); returns the version."""
    from calltally.rating.planfile import parse_plan
    from calltally.rating.services import store_plan

    def load(text: str):
        return store_plan(parse_plan(text, "test.toml"))[0]

    return load


@pytest.fixture
def make_call(db):
    """Stores a call the way the Miner would (its pricing columns as given)."""
    from calltally.calls.models import Call
    from calltally.spool.models import SpoolSegment

    offsets = iter(range(1, 10**9))

    def make(site, start: dt.datetime, *, e164="", direction="outbound", talk=60, answered=True, cost="0",
             category="", destination="", device=""):
        segment, _ = SpoolSegment.objects.get_or_create(site=site, day=start.date())
        return Call.objects.create(
            site=site, segment=segment, raw_offset=next(offsets), start=start, direction=direction,
            disposition="answered" if answered else "no_answer", answered=answered, talk_seconds=talk,
            extension_number="201", remote_number=e164, e164=e164, category=category, destination=destination,
            dest_device=device, cost=Decimal(cost), currency=site.currency,
        )

    return make


def local(site, text: str) -> dt.datetime:
    """A local time of the site ('YYYY-MM-DD HH:MM') as an aware UTC datetime."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=site.zone).astimezone(dt.UTC)
