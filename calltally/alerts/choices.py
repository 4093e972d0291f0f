"""The alerts' vocabulary: what a rule watches, what it covers, what state an alert is in."""

from django.db import models


class Kind(models.TextChoices):
    SILENT_SITE = "silent-site", "Site silent within business hours"
    CALL_COST = "call-cost", "Call cost above an amount"
    CALL_DURATION = "call-duration", "Call duration above a length"
    DESTINATION = "destination", "Calls to premium or blocked destinations"
    OUT_OF_HOURS = "out-of-hours", "International calls outside business hours"
    REPEATED = "repeated-number", "Many calls to one number in a short time"
    COST_SPIKE = "cost-spike", "A person's daily cost far above their usual"


class Scope(models.TextChoices):
    ALL = "all", "Every site"
    SITE = "site", "One site"
    COST_CENTER = "cost-center", "A cost center and those below it"
    PERSON = "person", "One person"


class State(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESET = "reset", "Reset"


# The states in which an alert holds its rule and key: new matches add to it, nothing is sent again.
ARMED_OFF = (State.OPEN, State.ACKNOWLEDGED)

# What each kind needs among the rule's parameters (checked by the model's clean()).
REQUIRED = {
    Kind.SILENT_SITE: (),
    Kind.CALL_COST: ("cost",),
    Kind.CALL_DURATION: ("duration",),
    Kind.DESTINATION: (),  # prefixes, countries or categories: at least one (checked apart)
    Kind.OUT_OF_HOURS: ("business_hours",),
    Kind.REPEATED: ("count", "minutes"),
    Kind.COST_SPIKE: ("factor", "baseline_days"),
}
# The parameters each kind reads (the rule form shows only these for the chosen kind).
PARAMETERS = {
    Kind.SILENT_SITE: ("hours", "business_hours"),
    Kind.CALL_COST: ("cost", "currency"),
    Kind.CALL_DURATION: ("duration",),
    Kind.DESTINATION: ("prefixes", "countries", "categories"),
    Kind.OUT_OF_HOURS: ("business_hours", "holidays", "site_holidays"),
    Kind.REPEATED: ("count", "minutes"),
    Kind.COST_SPIKE: ("factor", "baseline_days", "floor", "currency"),
}
# The kinds that look at calls (the others at sites).
CALL_KINDS = frozenset(Kind) - {Kind.SILENT_SITE}
