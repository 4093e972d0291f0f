"""Rollups equal the sums over the counted calls, however the calls came to be."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from calltally.calls import rollups
from calltally.calls.models import Call, CallRollup, Grain
from calltally.directory.models import Extension
from calltally.miner.pipeline import SiteMiner
from calltally.miner.tests.test_leg_merging import PLN_PLAN, RING_GROUP
from calltally.spool.services import spool_file

pytestmark = pytest.mark.django_db

IPO_SMDR = Path(__file__).parents[2] / "drivers" / "tests" / "fixtures" / "avaya_ipo_smdr.txt"
WHOLE = (dt.date(2000, 1, 1), dt.date(2099, 12, 31))


def sums_over_calls() -> dict[tuple, tuple]:
    """Per grain and key, the sums computed straight from the counted calls (the legs left out)."""
    expected: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0, 0, Decimal(0)])
    for call in Call.objects.select_related("site"):
        local = call.start.astimezone(call.site.zone)
        day, month = local.date(), local.date().replace(day=1)
        people = (call.extension_id or 0, call.person_id or 0, call.cost_center_id or 0)
        trunk = {"outbound": call.dest_device, "inbound": call.orig_device}.get(call.direction, "")
        routes = (call.category, call.destination, call.account, call.tariff, trunk)
        base = (call.site_id, call.direction, call.answered)
        monthly = (call.site_id, call.direction, False)
        keys = [
            (Grain.HOUR, day, *base, local.hour, 0, 0, 0, "", "", "", "", ""),
            (Grain.DAY, day, *base, 0, *people, *routes),
            (Grain.DAY_PEOPLE, day, *base, 0, *people, "", "", "", "", ""),
            (Grain.DAY_ROUTES, day, *base, 0, 0, 0, 0, *routes),
            # The month grains count the answered calls without keeping them apart.
            (Grain.MONTH, month, *monthly, 0, *people, *routes),
            (Grain.MONTH_PEOPLE, month, *monthly, 0, *people, "", "", "", "", ""),
            (Grain.MONTH_ROUTES, month, *monthly, 0, 0, 0, 0, *routes),
        ]
        for key in keys:
            sums = expected[(*key, call.currency)]
            for at, value in enumerate((1, int(call.answered), call.talk_seconds, call.billed_seconds,
                                        call.ring_seconds, call.cost)):
                sums[at] += value
    return {key: tuple(values) for key, values in expected.items()}


def stored_rollups() -> dict[tuple, tuple]:
    found = {}
    for r in CallRollup.objects.filter(calls__gt=0):
        key = (r.grain, r.day, r.site_id, r.direction, r.answered, r.hour, r.extension_id, r.person_id,
               r.cost_center_id, r.category, r.destination, r.account, r.tariff, r.trunk, r.currency)
        found[key] = (r.calls, r.answered_calls, r.talk_seconds, r.billed_seconds, r.ring_seconds,
                      r.cost.quantize(Decimal("0.0001")))
    return found


def assert_rollups_match_calls():
    expected = sums_over_calls()
    assert expected, "the scenario made no calls"
    assert stored_rollups() == expected
    # A zero row left by a subtraction adds nothing, and no rollup counts what the calls do not.
    assert not CallRollup.objects.filter(calls__lt=0).exists()


@pytest.fixture
def ipo(make_site, spool):
    site = make_site("WAW", driver="avaya_ipo", country="PL", timezone="Europe/Warsaw", currency="PLN",
                     internal_digits_min=4, internal_digits_max=4, access_codes=["0"])
    Extension.objects.bulk_create([Extension(site=site, number=str(n)) for n in range(4001, 4006)])
    return site


def test_imported_calls_are_summed_into_every_grain_and_legs_count_once_as_their_merged_call(ipo, cli, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text(PLN_PLAN)
    cli("tariff", "load", str(plan))
    cli("site", "set", "WAW", "--tariff", "Orange 2026")
    cli("import", "--site", "WAW", str(IPO_SMDR))
    assert Call.rows.filter(kind="leg").exists()
    assert_rollups_match_calls()
    total = CallRollup.objects.filter(grain=Grain.MONTH_PEOPLE).values_list("calls", flat=True)
    assert sum(total) == Call.objects.count() < Call.rows.count()


def test_a_recalculation_that_undoes_a_merge_leaves_rollups_equal_to_the_calls(ipo, cli):
    cli("import", "--site", "WAW", str(IPO_SMDR))
    Extension.objects.filter(site=ipo, number="4002").delete()
    cli("recalc", "--site", "WAW")
    assert not Call.rows.filter(pbx_call_id="1000107", kind="merged").exists()
    assert_rollups_match_calls()


def test_a_recalculation_under_another_transfer_rule_moves_the_cost_to_the_last_extension(ipo, cli):
    cli("import", "--site", "WAW", str(IPO_SMDR))
    cli("site", "set", "WAW", "--transfer-billing", "last-extension")
    cli("recalc", "--site", "WAW")
    assert Call.objects.get(pbx_call_id="1000107").extension_number == "4002"
    assert_rollups_match_calls()


def test_a_recalculation_whose_calls_changed_after_they_were_read_subtracts_what_it_deleted(ipo, cli,
                                                                                             monkeypatch):
    # A replayed batch reads the calls it replaces before the writers' turn; the other process may
    # change them in between (a merge turning a call into a leg). Here the reading misses one.
    from django.db import connection

    from calltally.miner.store import Store

    if connection.vendor != "sqlite":
        pytest.skip("only SQLite's recalculation reads the calls it replaces before the turn")
    cli("import", "--site", "WAW", str(IPO_SMDR))
    read_before_the_turn = Store.made_rows
    monkeypatch.setattr(Store, "made_rows", lambda self, *args: read_before_the_turn(self, *args)[1:])
    cli("site", "set", "WAW", "--transfer-billing", "last-extension")
    cli("recalc", "--site", "WAW")
    assert_rollups_match_calls()


def test_reprocessing_that_turns_a_call_into_a_leg_of_a_merged_call_keeps_rollups_equal(ipo, cli):
    Extension.objects.filter(site=ipo, number="4002").delete()
    cli("import", "--site", "WAW", str(IPO_SMDR))
    assert_rollups_match_calls()
    Extension.objects.create(site=ipo, number="4002")
    cli("reprocess", "--site", "WAW")
    assert Call.objects.get(pbx_call_id="1000107").kind == "merged"
    assert_rollups_match_calls()


def test_legs_arriving_in_separate_batches_and_an_undone_merge_keep_rollups_equal(make_site, spool, tmp_path,
                                                                                   monkeypatch):
    from calltally.miner import legs as rules

    site = make_site("HQ")
    Extension.objects.bulk_create([Extension(site=site, number=n) for n in ("201", "202", "203")])
    path = tmp_path / "Master.csv"
    path.write_text(RING_GROUP)
    spool_file(site, path)
    SiteMiner(site).mine(batch_size=1)
    assert Call.objects.get(direction="inbound").kind == "merged"
    assert_rollups_match_calls()
    # Three more records under the same id: too many for one call, so the merge is undone.
    monkeypatch.setattr(rules, "MAX_ROWS_PER_KEY", 5)
    more = path.with_name("more.csv")
    more.write_text("\n".join(RING_GROUP.splitlines()[:3]).replace("11:00:", "11:30:") + "\n")
    spool_file(site, more, source="more")
    SiteMiner(site).mine()
    assert not Call.rows.filter(kind__in=["leg", "merged"]).exists()
    assert_rollups_match_calls()


def test_rebuild_makes_the_same_rollups_as_the_miner_and_clears_rows_fallen_to_zero(ipo, cli):
    cli("import", "--site", "WAW", str(IPO_SMDR))
    kept = stored_rollups()
    CallRollup.objects.filter(grain=Grain.DAY).update(calls=99)
    out = cli("rollups", "rebuild", "--site", "WAW")
    assert "WAW" in out
    assert stored_rollups() == kept
    assert_rollups_match_calls()


def test_rebuilding_one_month_leaves_the_other_months_alone(ipo, cli):
    cli("import", "--site", "WAW", str(IPO_SMDR))
    months = sorted(set(CallRollup.objects.filter(grain=Grain.MONTH).values_list("day", flat=True)))
    first = months[0]
    CallRollup.objects.exclude(day__gte=first, day__lt=(first + dt.timedelta(days=32)).replace(day=1)).update(
        calls=7)
    rollups.rebuild(ipo, first, first)
    assert not CallRollup.objects.filter(day__gte=first, day__lt=(first + dt.timedelta(days=32)).replace(day=1),
                                         calls=7).exists()
    assert CallRollup.objects.filter(calls=7).count() == CallRollup.objects.exclude(
        day__gte=first, day__lt=(first + dt.timedelta(days=32)).replace(day=1)).count()


def summed_calls(group: str, first: dt.date, last: dt.date, **filters) -> dict:
    """Calls, talk and cost per ``group`` value straight from the calls of [first, last] (local days)."""
    found: dict = defaultdict(lambda: [0, 0, Decimal(0)])
    for call in Call.objects.select_related("site").filter(**filters):
        day = call.start.astimezone(call.site.zone).date()
        if first <= day <= last:
            value = getattr(call, f"{group}_id", None) if group in ("person", "extension", "cost_center", "site") \
                else getattr(call, group)
            item = found[value]
            item[0] += 1
            item[1] += call.talk_seconds
            item[2] += call.cost
    return {key: tuple(value) for key, value in found.items()}


@pytest.mark.parametrize("group", ["extension", "person", "cost_center", "site", "direction", "category",
                                   "destination", "tariff", "account"])
def test_a_summary_from_rollups_equals_the_same_sums_over_the_calls(ipo, cli, group):
    cli("import", "--site", "WAW", str(IPO_SMDR))
    days = sorted({c.start.astimezone(ipo.zone).date() for c in Call.objects.all()})
    for first, last in ((days[0], days[-1]), (days[0], days[0]), (days[0].replace(day=1), days[-1]), WHOLE):
        rows = rollups.summary([group], first, last)
        got = {row[group]: (row["calls"], row["talk_seconds"], row["cost"]) for row in rows}
        assert got == summed_calls(group, first, last)


def test_a_summary_filtered_by_scope_and_direction_answers_from_a_grain_that_keeps_them(ipo, cli):
    from django.db.models import Q

    cli("import", "--site", "WAW", str(IPO_SMDR))
    extension = Extension.objects.get(site=ipo, number="4001")
    rows = rollups.summary(["category"], *WHOLE, filters={"direction": "outbound"},
                           where=Q(extension_id__in=[extension.pk]))
    got = {row["category"]: (row["calls"], row["talk_seconds"], row["cost"]) for row in rows}
    assert got == summed_calls("category", *WHOLE, direction="outbound", extension=extension)


def test_a_summary_by_hour_and_by_month_comes_from_the_hour_and_month_grains(ipo, cli):
    cli("import", "--site", "WAW", str(IPO_SMDR))
    by_hour = rollups.summary(["hour"], *WHOLE)
    assert sum(row["calls"] for row in by_hour) == Call.objects.count()
    assert {row["hour"] for row in by_hour} == {c.start.astimezone(ipo.zone).hour for c in Call.objects.all()}
    by_month = rollups.summary(["month"], *WHOLE)
    assert {row["month"] for row in by_month} == {c.start.astimezone(ipo.zone).date().replace(day=1)
                                                  for c in Call.objects.all()}


def test_what_no_rollup_keeps_is_not_answered_from_rollups(ipo):
    assert rollups.summary(["person"], *WHOLE, filters={"remote_number": "123"}) is None
    assert rollups.summary(["hour"], *WHOLE, filters={"person_id": 3}) is None
    with pytest.raises(ValueError, match="remote_number"):
        rollups.summary(["remote_number"], *WHOLE)


def test_deleting_an_extension_moves_its_rollups_to_no_extension_as_its_calls_are(ipo, cli):
    cli("import", "--site", "WAW", str(IPO_SMDR))
    extension = Extension.objects.get(site=ipo, number="4001")
    assert CallRollup.objects.filter(extension_id=extension.pk).exists()
    extension.delete()
    assert not CallRollup.objects.filter(extension_id=extension.pk).exists()
    assert_rollups_match_calls()


def test_answered_calls_alone_are_summed_from_a_day_grain_since_month_grains_only_count_them(ipo, cli):
    cli("import", "--site", "WAW", str(IPO_SMDR))
    rows = rollups.summary(["person"], *WHOLE, filters={"answered": False})
    got = {row["person"]: (row["calls"], row["talk_seconds"], row["cost"]) for row in rows}
    assert got == summed_calls("person", *WHOLE, answered=False)
    assert sum(row["answered_calls"] for row in rollups.summary(["site"], *WHOLE)) == Call.objects.filter(
        answered=True).count()


def test_a_summary_by_trunk_from_rollups_equals_the_calls_and_keeps_each_direction_on_its_own_device(ipo, cli):
    cli("import", "--site", "WAW", str(IPO_SMDR))
    rows = rollups.summary(["trunk"], *WHOLE)
    got = {row["trunk"]: (row["calls"], row["talk_seconds"], row["cost"]) for row in rows}
    expected: dict[str, list] = defaultdict(lambda: [0, 0, Decimal(0)])
    for call in Call.objects.exclude(kind="leg"):
        trunk = {"outbound": call.dest_device, "inbound": call.orig_device}.get(call.direction, "")
        for at, value in enumerate((1, call.talk_seconds, call.cost)):
            expected[trunk][at] += value
    assert len(expected) > 1, "the capture should use more than one device"
    assert got == {trunk: tuple(values) for trunk, values in expected.items()}


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_that_adds_trunks_makes_the_rollups_of_existing_calls_again(make_site):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    site = make_site("UPG")
    executor = MigrationExecutor(connection)
    executor.migrate([("calls", "0008_rollup_covering_index")])
    try:
        # Calls as an earlier version stored them (bulk_create: no rollup kept by a signal).
        start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
        Call.objects.bulk_create([
            Call(site=site, start=start, direction="outbound", answered=True, talk_seconds=60, cost=Decimal("0.5"),
                 currency="EUR", orig_device="SIP/201", dest_device="SIP/carrier-a", category="national"),
            Call(site=site, start=start, direction="inbound", answered=True, talk_seconds=30, currency="EUR",
                 orig_device="SIP/carrier-b", dest_device="SIP/201"),
        ])
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes("calls"))
    rows = rollups.summary(["trunk"], *WHOLE)
    assert {row["trunk"]: row["calls"] for row in rows} == {"SIP/carrier-a": 1, "SIP/carrier-b": 1}
    assert_rollups_match_calls()


@pytest.mark.django_db
def test_the_rollups_are_one_index_holding_their_sums_on_sqlite_and_postgresql():
    # A later migration that alters the table would make it again as Django makes tables, without
    # WITHOUT ROWID (or without the sums in the key): the Miner's rollup writes would be 40% slower,
    # or the summaries would read the table, and nothing would say so.
    from django.db import connection

    table = CallRollup._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
            assert cursor.fetchone()[0].endswith("WITHOUT ROWID")
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = %s", [table])
            assert cursor.fetchone()[0] == 0  # the table is its key's index
        else:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
            ((name, definition),) = cursor.fetchall()  # one index: the primary key, no second copy of it
            assert name == f"{table}_pkey"
            assert "INCLUDE (calls, answered_calls, talk_seconds, billed_seconds, ring_seconds, cost)" in definition
