from __future__ import annotations

from decimal import Decimal

from django.db import models

from calltally.directory.models import CostCenter, Extension, Person
from calltally.sites.models import Site
from calltally.spool.models import SpoolSegment

from .choices import CallKind, Direction, DiscardReason, Disposition


class CountedCallManager(models.Manager):
    """The calls reports count: single-record calls and merged calls, never the
    legs a merged call is made of."""

    def get_queryset(self):
        return super().get_queryset().exclude(kind=CallKind.LEG)


class EveryRowManager(models.Manager):
    """Every row: calls, legs and merged calls (the Miner, recalculation, detail views)."""


class Call(models.Model):
    """One call as CallTally accounts for it, derived from the spool.

    A call is never edited by hand: it is made by the Miner from the spool, and
    recalculation or reprocessing makes it again the same way. Most calls come
    from one raw record (kind ``call``): ``segment`` and ``raw_offset`` point
    back at it, and are unique, so a record cannot become two calls. When
    several records describe one call (a ring group, a transfer, a forward),
    each stays as a ``leg`` and one more row, the ``merged`` call, stands for
    the conversation; legs and merged call share ``leg_key``, and the merged
    call has no raw record of its own. ``Call.objects`` hides the legs (what
    reports count); ``Call.rows`` has every row.

    ``start`` is stored in UTC; show it in the site's time zone.
    ``extension_number`` keeps the number as the PBX gave it even if the
    extension is later deleted.
    """

    # Every index slows the Miner's inserts (on SQLite, 100k rows/s with seven
    # indexes, 160k with three), so calls keep few: the raw-record key,
    # (site, start) for every period query — a query over all sites uses it too,
    # with site IN (…) — and (person, start) for a person's own calls. Cost
    # center and extension queries are period queries filtered further.
    #
    # The foreign keys have no database constraint: a constraint is checked row by
    # row (on PostgreSQL a trigger per row and key: 17 µs a call, two thirds of the
    # Miner's writing). The Miner checks each batch's references instead, with one
    # statement per referenced table, locking those rows on PostgreSQL as a
    # constraint would (calltally.miner.store.Store.referenced); deletions go
    # through the ORM, which applies on_delete as always.
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="calls", db_index=False,
                             db_constraint=False)
    segment = models.ForeignKey(
        SpoolSegment, null=True, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    raw_offset = models.BigIntegerField(null=True)
    kind = models.CharField(max_length=8, choices=CallKind.choices, default=CallKind.CALL)
    # The PBX's id shared by the records of one call (Asterisk linkedid, Cisco global
    # call id, IP Office Call ID…); NULL when the record cannot be a leg of anything.
    leg_key = models.CharField(max_length=128, null=True, blank=True)
    start = models.DateTimeField()
    direction = models.CharField(max_length=8, choices=Direction.choices)
    disposition = models.CharField(max_length=10, choices=Disposition.choices)
    answered = models.BooleanField()
    ring_seconds = models.IntegerField(default=0)
    talk_seconds = models.IntegerField(default=0)
    extension_number = models.CharField(max_length=32)
    extension = models.ForeignKey(
        Extension, null=True, on_delete=models.SET_NULL, related_name="calls", db_index=False, db_constraint=False
    )
    person = models.ForeignKey(Person, null=True, on_delete=models.SET_NULL, related_name="calls", db_index=False,
                               db_constraint=False)
    cost_center = models.ForeignKey(
        CostCenter, null=True, on_delete=models.SET_NULL, related_name="calls", db_index=False, db_constraint=False
    )
    billing_enabled = models.BooleanField(default=True)
    remote_number = models.CharField(max_length=64, blank=True, help_text="The other party: caller or called.")
    dialled_number = models.CharField(max_length=64, blank=True, help_text="Digits as the PBX recorded them.")
    calling_number = models.CharField(max_length=64, blank=True)
    called_number = models.CharField(max_length=64, blank=True)
    original_called = models.CharField(max_length=64, blank=True)
    final_called = models.CharField(max_length=64, blank=True)
    redirecting = models.CharField(max_length=64, blank=True)
    orig_device = models.CharField(max_length=128, blank=True)
    dest_device = models.CharField(max_length=128, blank=True)
    account_code = models.CharField(max_length=64, blank=True, help_text="As the PBX recorded it, never altered.")
    account = models.CharField(
        max_length=200, blank=True, help_text="The account as shown: its code, or its description when so configured."
    )
    account_unallocated = models.BooleanField(
        default=False, help_text="An outbound call carried an account code that matches no configured account."
    )
    pbx_call_id = models.CharField(max_length=128, blank=True)
    cost = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    currency = models.CharField(max_length=3)
    # How the call was priced (see the rating app): the remote number in E.164, its
    # category and destination, the tariff plan version, the prefix and band that
    # priced it and the seconds billed. ``unrated``: an outbound call no rate matched.
    e164 = models.CharField(max_length=32, blank=True)
    category = models.CharField(max_length=16, blank=True)
    destination = models.CharField(max_length=100, blank=True)
    tariff = models.CharField(max_length=120, blank=True)
    rated_prefix = models.CharField(max_length=20, blank=True)
    band = models.CharField(max_length=32, blank=True)
    billed_seconds = models.IntegerField(default=0)
    unrated = models.BooleanField(default=False)

    objects = CountedCallManager()
    rows = EveryRowManager()

    class Meta:
        ordering = ["-start"]
        base_manager_name = "rows"
        constraints = [
            models.UniqueConstraint(fields=["segment", "raw_offset"], name="call_unique_raw_record"),
        ]
        indexes = [
            models.Index(fields=["site", "start"], name="call_site_start"),
            models.Index(fields=["person", "start"], name="call_person_start"),
            # The call list's first page over every site, newest first: without it, ten million
            # rows are sorted to show 25 (SQLite 2M calls: see `calltally bench reports`).
            models.Index(fields=["start"], name="call_start"),
            # Leg merging looks keys up per batch. Partial: records that cannot be legs cost the
            # index nothing; with kind in it, the lookup never reads the table.
            models.Index(
                fields=["site", "leg_key", "kind"], name="call_site_leg", condition=models.Q(leg_key__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.extension_number}↔{self.remote_number} at {self.start:%Y-%m-%d %H:%M}"

    @property
    def local_start(self):
        return self.start.astimezone(self.site.zone)

    @property
    def is_merged(self) -> bool:
        return self.kind == CallKind.MERGED

    @property
    def is_leg(self) -> bool:
        return self.kind == CallKind.LEG

    def legs(self):
        """The legs of a merged call, or the other legs of a leg's call, in call order."""
        if not self.leg_key or self.kind == CallKind.CALL:
            return Call.rows.none()
        return Call.rows.filter(site_id=self.site_id, leg_key=self.leg_key, kind=CallKind.LEG).order_by(
            "start", "segment_id", "raw_offset"
        )

    def merged_call(self):
        """The merged call a leg belongs to (None for anything else)."""
        if self.kind != CallKind.LEG:
            return None
        # A key reused after months (a PBX restart) makes a second merged call: take the one before the leg.
        return Call.rows.filter(
            site_id=self.site_id, leg_key=self.leg_key, kind=CallKind.MERGED, start__lte=self.start
        ).order_by("-start").first()


class DiscardedCall(models.Model):
    """A raw record that did not become a call, with the reason and its text.

    Nothing is lost: the raw text is here for the administrator and the exact
    bytes stay in the spool. Reprocessing (after adding the missing extension,
    say) turns it into a call and removes this row.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="discarded_calls", db_index=False)
    segment = models.ForeignKey(SpoolSegment, on_delete=models.CASCADE, related_name="+", db_index=False)
    raw_offset = models.BigIntegerField()
    reason = models.CharField(max_length=32, choices=DiscardReason.choices)
    detail = models.CharField(max_length=500, blank=True)
    raw_text = models.TextField()
    received = models.DateTimeField(null=True)
    start = models.DateTimeField(null=True)
    extension_number = models.CharField(max_length=32, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "raw_offset"], name="discarded_unique_raw_record"),
        ]
        indexes = [models.Index(fields=["site", "reason"], name="discarded_site_reason")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} at {self.segment}@{self.raw_offset}"


class Grain(models.IntegerChoices):
    """Which dimensions a rollup row keeps (the others are left at 0 or blank)."""

    HOUR = 1, "site, local day and hour, direction, answered"
    DAY = 2, "site, local day, every dimension"
    DAY_PEOPLE = 3, "site, local day, direction, answered, extension, person, cost center"
    DAY_ROUTES = 4, "site, local day, direction, answered, category, destination, account, tariff, trunk"
    # The month grains count answered calls (answered_calls) without keeping them apart (answered is False).
    MONTH = 5, "site, local month, every dimension but answered"
    MONTH_PEOPLE = 6, "site, local month, direction, extension, person, cost center"
    MONTH_ROUTES = 7, "site, local month, direction, category, destination, account, tariff, trunk"


# A rollup row's key, and what it sums.
KEY_FIELDS = ["grain", "day", "site", "hour", "direction", "answered", "extension_id", "person_id", "cost_center_id",
              "category", "destination", "account", "tariff", "trunk", "currency"]
MEASURE_FIELDS = ["calls", "answered_calls", "talk_seconds", "billed_seconds", "ring_seconds", "cost"]


class CallRollup(models.Model):
    """Sums over the counted calls (never legs), so that summaries need not read the calls.

    Every counted call adds to one row of each grain (:class:`Grain`): its site,
    its local day in the site's zone (``day``; the first of the month for the
    month grains) and local ``hour`` (hour grain only; 0 elsewhere), direction,
    whether it was answered, extension, person, cost center, category,
    destination, account, tariff, trunk and currency, each kept only by the grains
    that name it. A dimension a grain does not keep, or a call does not have,
    is 0 (ids) or blank (text): ids are plain integers, not foreign keys,
    because a NULL would make the unique key never match and every batch's
    upsert add a row instead of adding to one.

    Why seven grains in one table rather than one wide table: on two million
    synthetic calls (``calltally bench reports``; benchmarks/reports_results.md)
    the wide day grain keeps 1.77 million rows and the wide month grain one
    million — an extension's calls of a day rarely share category,
    destination, tariff and account — so a year summary over them reads about
    as many rows as the calls. The narrower grains (people: extension, person,
    cost center; routes: category, destination, account, tariff, trunk) are smaller
    (a year of month_people: 93,000 rows, whatever the calls), and
    :func:`calltally.calls.rollups.summary` picks the smallest grain whose
    dimensions cover what is grouped and filtered: whole months from a month
    grain, the remaining days from a day grain. The wide grains answer the
    cross-filters (a person's mobile calls); the hour grain the traffic by hour.
    One table keeps the Miner's upkeep to one statement per write.

    Kept by the Miner in the transaction of each batch (additions for the rows
    it writes, subtractions for what recalculation, reprocessing and leg merging
    replace: :class:`calltally.calls.rollups.Tally`), and rebuilt from the calls
    by ``calltally rollups rebuild``. ``cost`` adds costs of one currency only.
    A row whose calls fell to 0 may remain until a rebuild; it adds nothing.
    """

    # The key is the primary key: on SQLite the table is made WITHOUT ROWID (migration 0010), one
    # B-tree ordered by the key that holds the sums too, so an upsert touches one tree instead of
    # three (rows, unique key, covering index): the Miner's rollup writes took 40% less. On
    # PostgreSQL the primary key holds the sums too (key INCLUDE sums, migration 0011): summaries
    # read only the index, and an upsert writes one index, not a covering copy of it beside.
    pk = models.CompositePrimaryKey(*KEY_FIELDS)
    grain = models.PositiveSmallIntegerField(choices=Grain.choices)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    day = models.DateField(help_text="The local day in the site's zone; the first of the month for month grains.")
    hour = models.PositiveSmallIntegerField(default=0, help_text="Local hour, 0-23 (hour grain only).")
    direction = models.CharField(max_length=8, choices=Direction.choices, blank=True)
    answered = models.BooleanField(default=False)
    extension_id = models.IntegerField(default=0, help_text="The extension's id; 0: none or not kept.")
    person_id = models.IntegerField(default=0, help_text="The person's id; 0: none or not kept.")
    cost_center_id = models.IntegerField(default=0, help_text="The cost center's id; 0: none or not kept.")
    category = models.CharField(max_length=16, blank=True)
    destination = models.CharField(max_length=100, blank=True)
    account = models.CharField(max_length=200, blank=True)
    tariff = models.CharField(max_length=120, blank=True)
    trunk = models.CharField(max_length=128, blank=True, help_text=(
        "The call's trunk/device: the destination device of an outbound call, the originating device of an "
        "inbound one, blank for internal calls (as rating and the trunk report read it)."))
    currency = models.CharField(max_length=3, blank=True)
    calls = models.BigIntegerField(default=0)
    answered_calls = models.BigIntegerField(default=0)
    talk_seconds = models.BigIntegerField(default=0)
    billed_seconds = models.BigIntegerField(default=0)
    ring_seconds = models.BigIntegerField(default=0)
    cost = models.DecimalField(max_digits=18, decimal_places=4, default=Decimal("0"))

    def __str__(self) -> str:
        return f"{self.get_grain_display()} {self.site_id} {self.day}: {self.calls} calls"
