"""Retention and privacy: deleting and masking what is older than its limit, and the export and
erasure of everything about one person or one number (data-subject requests)."""
