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
    """One version of a file whose records were appended to a site's spool.

    The content hash makes a file pushed or imported twice land in the spool
    only once. The row is written *before* the records, as not ``complete``,
    with where they start (``spool_day``, ``spool_offset``) and the source tag
    they carry: if spooling is cut short (a crash, a kill), the next attempt
    with the same content counts the records already there and appends only
    the rest, so a file is never spooled twice nor in part.

    A file that grows (Asterisk's Master.csv, a 3CX or FreeSWITCH log) arrives
    again longer: each arrival is a row of its own. ``from_byte`` and
    ``to_byte`` are the part of the file whose lines this row spooled: a
    version that begins with an earlier one (same first line, related name,
    and the earlier content as its exact beginning) spools only from where the
    earlier one stopped. ``to_byte`` stops short of ``size`` while an
    unterminated last line is held back (it may be a record cut mid-write).
    ``origin`` is the first version of the content a row continues; a version
    that was edited rather than appended to is ``compared``: only its lines
    not already spooled from its origin's versions were spooled.
    See docs/collectors-files.md.
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
    # Finding the earlier versions of a file: the hash of its first line (with its line end)
    # and its name up to the first dot (a rotated Master.csv.1 or Master-20260302.csv begins with it).
    head_sha256 = models.CharField(max_length=64, blank=True)
    stem = models.CharField(max_length=255, blank=True)
    from_byte = models.BigIntegerField(default=0)
    to_byte = models.BigIntegerField(null=True, help_text="Null on rows written before versions: the whole size.")
    origin = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    compared = models.BooleanField(default=False)

    class Meta:
        ordering = ["-received"]
        constraints = [models.UniqueConstraint(fields=["site", "sha256"], name="spooled_file_unique_content")]
        # Finding a file's earlier versions goes by stem or name: selective where the first
        # line is not (every Cisco file begins with the same header line).
        indexes = [
            models.Index(fields=["site", "stem"], name="spooled_file_stem"),
            models.Index(fields=["site", "name"], name="spooled_file_name"),
        ]

    def __str__(self) -> str:
        return f"{self.site.code}:{self.name}"

    @property
    def spooled_to(self) -> int:
        """Bytes of the file whose records are in the spool once this row is complete."""
        return self.size if self.to_byte is None else self.to_byte
