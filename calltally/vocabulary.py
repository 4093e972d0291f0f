"""The words CallTally's data is made of, declared once, without Django.

Drivers, numbering, the rating engine and the Miner are plain Python and use
these constants; the models' choices are derived from the labels here
(``calltally.calls.choices``), so a value can never be spelled two ways.
"""

from __future__ import annotations

# --- directions: who called whom, seen from the site ---------------------------------
INBOUND = "inbound"
OUTBOUND = "outbound"
INTERNAL = "internal"
DIRECTION_LABELS = {INBOUND: "Inbound", OUTBOUND: "Outbound", INTERNAL: "Internal"}
DIRECTIONS = tuple(DIRECTION_LABELS)
# A call's trunk/device, as reports and rollups read it: the column naming the device an outbound
# call went out by, an inbound one came in by. Internal calls use no trunk (blank).
TRUNK_DEVICE = {OUTBOUND: "dest_device", INBOUND: "orig_device"}

# --- dispositions: how a call ended ----------------------------------------------------
ANSWERED = "answered"
NO_ANSWER = "no_answer"
BUSY = "busy"
FAILED = "failed"
DISPOSITION_LABELS = {ANSWERED: "Answered", NO_ANSWER: "No answer", BUSY: "Busy", FAILED: "Failed"}
DISPOSITIONS = tuple(DISPOSITION_LABELS)

# --- categories: what kind of number the remote party is -------------------------------
LOCAL = "local"
NATIONAL = "national"
MOBILE = "mobile"
INTERNATIONAL = "international"
TOLL_FREE = "toll_free"
PREMIUM = "premium"
SPECIAL = "special"
EMERGENCY = "emergency"
UNKNOWN = "unknown"
CATEGORY_LABELS = {
    INTERNAL: "Internal", LOCAL: "Local", NATIONAL: "National", MOBILE: "Mobile",
    INTERNATIONAL: "International", TOLL_FREE: "Toll free", PREMIUM: "Premium rate", SPECIAL: "Special",
    EMERGENCY: "Emergency", UNKNOWN: "Unknown",
}
CATEGORIES = tuple(CATEGORY_LABELS)
# Calls to these numbers are never charged, whatever a tariff says, and never "unrated".
FREE_CATEGORIES = frozenset({EMERGENCY})

# --- weekdays, Monday first (date.weekday() order), as tariffs and schedules write them -
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# --- why a record did not become a call (the words administrators of the products we
# replace know; keep them) ---------------------------------------------------------------
UNRECOGNISED = "unrecognised"
EXTENSION_NOT_CONFIGURED = "extension_not_configured"
DISCARD_REASON_LABELS = {
    UNRECOGNISED: "Cannot recognise call type",
    EXTENSION_NOT_CONFIGURED: "Extension not configured",
}

# --- what a row of the calls table stands for ------------------------------------------
CALL = "call"  # one raw record, one call
LEG = "leg"  # one record of a call that several records describe
MERGED = "merged"  # the call those legs make together
KIND_LABELS = {CALL: "Call", LEG: "Leg", MERGED: "Merged call"}
