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
