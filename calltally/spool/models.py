from __future__ import annotations

from django.db import models

from calltally.sites.models import Site


class SpoolSegment(models.Model):
    """One day file of a site's raw spool, and the Miner's checkpoint in it.

    The file itself (``spool/<SITE>/<YYYY-MM-DD>.cdr``) is written by the
    Recorder and never changes except by appending. ``mined_offset`` is the byte
    offset up to which every record has become a call, a discarded call or a
    counted skip; it is committed in the same transaction as those rows, which
    is what makes mining exactly-once. ``driver_state`` is what the driver needs
    to go on reading from that offset (the Cisco header, for instance).
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="spool_segments")
    day = models.DateField()
    mined_offset = models.BigIntegerField(default=0)
    driver_state = models.JSONField(null=True, blank=True)
    records = models.BigIntegerField(default=0, help_text="Raw records mined so far.")
    calls = models.BigIntegerField(default=0)
    discarded = models.BigIntegerField(default=0)
    skipped_internal = models.BigIntegerField(default=0)
    skipped_other = models.BigIntegerField(default=0, help_text="Headers, blank lines and other non-call records.")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["site__code", "day"]
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="spool_segment_unique_day")]

    def __str__(self) -> str:
        return f"{self.site.code}/{self.day.isoformat()}.cdr"

    @property
    def relative_path(self) -> str:
        return f"{self.site.code}/{self.day.isoformat()}.cdr"


class SpooledFile(models.Model):
    """A file whose records were appended to a site's spool.

    The content hash makes a file pushed or imported twice land in the spool
    only once. The row is written *before* the records, as not ``complete``,
    with where they start (``spool_day``, ``spool_offset``) and the source tag
    they carry: if spooling is cut short (a crash, a kill), the next attempt
    with the same content counts the records already there and appends only
    the rest, so a file is never spooled twice nor in part.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="spooled_files")
    sha256 = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    records = models.IntegerField()
    received = models.DateTimeField(auto_now_add=True)
    complete = models.BooleanField(default=True)
    spool_day = models.DateField(null=True)
    spool_offset = models.BigIntegerField(null=True)
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received"]
        constraints = [models.UniqueConstraint(fields=["site", "sha256"], name="spooled_file_unique_content")]

    def __str__(self) -> str:
        return f"{self.site.code}:{self.name}"
