"""A call as the API gives it: the columns of `calltally calls export`, under the same names."""

from __future__ import annotations

from rest_framework import serializers

from calltally.calls.choices import CallKind, Direction, Disposition
from calltally.calls.services import AccountNames


class CallSerializer(serializers.Serializer):
    """One call (see docs/api.md, "Calls"). The site is its code; ``start`` an ISO 8601 instant with
    the site's UTC offset; ``cost`` a decimal string in ``currency``; ``person`` and
    ``cost_center`` "" when the call has none; ``account`` the account as every page shows it —
    a code configured *replace with description* is never given, ``account_code`` is then ""."""

    id = serializers.IntegerField()
    site = serializers.CharField(help_text="The site's code.")
    start = serializers.DateTimeField(help_text="When the call began, with the site's UTC offset.")
    direction = serializers.ChoiceField(choices=Direction.choices)
    disposition = serializers.ChoiceField(choices=Disposition.choices)
    extension = serializers.CharField(help_text="The extension number as the PBX gave it.")
    person = serializers.CharField(help_text="The person's username, or \"\".")
    cost_center = serializers.CharField(help_text="The cost center's code, or \"\".")
    remote_number = serializers.CharField(help_text="The other party, masked as privacy requires.")
    dialled_number = serializers.CharField()
    talk_seconds = serializers.IntegerField()
    ring_seconds = serializers.IntegerField()
    answered = serializers.BooleanField()
    account_code = serializers.CharField(help_text="The account code as dialled; \"\" where it is shown as its "
                                                   "description.")
    account = serializers.CharField(help_text="The account as shown: its code, or its description.")
    cost = serializers.DecimalField(max_digits=14, decimal_places=4)
    currency = serializers.CharField()
    pbx_call_id = serializers.CharField()
    e164 = serializers.CharField()
    category = serializers.CharField()
    destination = serializers.CharField()
    tariff = serializers.CharField()
    rated_prefix = serializers.CharField()
    band = serializers.CharField()
    billed_seconds = serializers.IntegerField()
    unrated = serializers.BooleanField(help_text="An outbound call that no rate matched: its cost is not known.")
    kind = serializers.ChoiceField(choices=[c for c in CallKind.choices if c[0] != CallKind.LEG] + [
        (CallKind.LEG.value, CallKind.LEG.label)], help_text="call (one record), merged (several records of one "
                                                             "call) or leg (one record of a merged call).")

    def names(self) -> AccountNames:
        # One AccountNames for the whole page: its rules are read once (one query, not one per call).
        names = self.context.get("account_names")
        if names is None:
            names = self.context["account_names"] = AccountNames()
        return names

    def to_representation(self, call) -> dict:
        replaced = self.names().replacement(call.site_id, call.account_code)
        return {
            "id": call.pk,
            "site": call.site.code,
            "start": call.start.astimezone(call.site.zone).isoformat(),
            "direction": call.direction,
            "disposition": call.disposition,
            "extension": call.extension_number,
            "person": call.person.username if call.person_id else "",
            "cost_center": call.cost_center.code if call.cost_center_id else "",
            "remote_number": call.remote_number,
            "dialled_number": call.dialled_number,
            "talk_seconds": call.talk_seconds,
            "ring_seconds": call.ring_seconds,
            "answered": call.answered,
            "account_code": "" if replaced is not None else call.account_code,
            "account": replaced if replaced is not None else call.account,
            "cost": str(call.cost),
            "currency": call.currency,
            "pbx_call_id": call.pbx_call_id,
            "e164": call.e164,
            "category": call.category,
            "destination": call.destination,
            "tariff": call.tariff,
            "rated_prefix": call.rated_prefix,
            "band": call.band,
            "billed_seconds": call.billed_seconds,
            "unrated": call.unrated,
            "kind": call.kind,
        }

