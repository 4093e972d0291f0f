"""The alert pages: the rules (list, add, edit, delete) and the alerts raised, open first, with
acknowledge and reset buttons.

Administrators see everything; a site administrator sees and changes the rules of their sites (one
site, or a person of one) and the alerts of their sites; managers and users have no alert pages.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from calltally.webkit import views as kit

from . import services
from .choices import State
from .filtersets import AlertFilterSet
from .forms import AlertRuleForm
from .models import Alert, AlertRule
from .tables import AlertTable, RuleTable


class RulePage:
    """What the rule pages share: the model, its names, who sees and changes which rule."""

    model = AlertRule
    url_base = "alerts:rule"
    audience = "runs-sites"

    def base_queryset(self):
        return AlertRule.objects.select_related("site", "cost_center", "person", "person__site")

    def scoped(self, queryset):
        return services.rules_in_scope(self.scope, queryset)

    def site_of(self, obj):
        return obj.owner_site() if obj is not None else None

    def may_change(self, obj=None) -> bool:
        return obj is not None and services.may_change_rule(self.scope, obj)

    def may_add(self) -> bool:
        return self.scope.runs_sites

    def url(self, action: str, *args):
        # A rule has no page of its own: its edit page stands for it (the delete page's Cancel).
        return super().url("edit" if action == "detail" else action, *args)


class RuleListView(RulePage, kit.ObjectListView):
    title = "Alert rules"
    table_class = RuleTable
    bulk_actions = ()
    empty_hint = ("A rule watches the calls as they arrive (costly, long or premium calls, international calls at "
                  "night, a number dialled again and again, a person's cost far above their usual) or a site that "
                  "falls silent, and tells people by e-mail or webhook.")

    def base_queryset(self):
        return super().base_queryset().annotate(open_alerts=Count("alerts", filter=Q(alerts__state=State.OPEN)))


class RuleEditView(RulePage, kit.ObjectEditView):
    form_class = AlertRuleForm
    template_name = "alerts/rule_edit.html"

    # The form in groups: what the rule is, what it covers, the kind's parameters, whom it tells.
    GROUPS = (
        ("Rule", ("name", "kind", "enabled")),
        ("Over", ("scope", "site", "cost_center", "person")),
        ("Parameters of the rule's kind", (
            "hours", "cost", "currency", "duration", "prefixes", "countries", "categories", "business_hours",
            "holidays", "site_holidays", "count", "minutes", "factor", "baseline_days", "floor")),
        ("Tell", ("emails", "webhook", "digest")),
    )

    def detail_url(self, obj):
        return None

    def show(self, form, status: int = 200):
        self.groups = [(title, [form[name] for name in names if name in form.fields])
                       for title, names in self.GROUPS]
        self.delete_url = (reverse("alerts:rule_delete", args=[self.object.pk])
                           if self.object is not None and self.may_change(self.object) else None)
        return super().show(form, status)

    def context(self, **extra):
        return super().context(groups=getattr(self, "groups", []), delete_url=getattr(self, "delete_url", None),
                               **extra)

    def success_url(self, obj):
        return reverse("alerts:rule_list")


class RuleDeleteView(RulePage, kit.ObjectDeleteView):
    """Deleting a rule deletes its alerts with it."""


class AlertListView(kit.ObjectListView):
    model = Alert
    title = "Alerts"
    url_base = "alerts:alert"
    audience = "runs-sites"
    table_class = AlertTable
    filterset_class = AlertFilterSet
    bulk_actions = ()
    template_name = "alerts/alert_list.html"
    empty_hint = "The alert rules raise alerts here; each is told once, until someone resets it."

    def base_queryset(self):
        order = Case(When(state=State.OPEN, then=Value(0)), When(state=State.ACKNOWLEDGED, then=Value(1)),
                     default=Value(2), output_field=IntegerField())
        return (Alert.objects.select_related("rule", "site", "acknowledged_by")
                .annotate(state_order=order).order_by("state_order", "-last_seen"))

    def scoped(self, queryset):
        return services.alerts_in_scope(self.scope, queryset)

    def may_add(self) -> bool:
        return False

    def may_change(self, obj=None) -> bool:
        return False  # no bulk actions: each alert has its own buttons

    def table_data(self, queryset):
        return ActingRows(queryset, self.scope)

    def context(self, **extra):
        rules_url = reverse("alerts:rule_list")
        return super().context(rules_url=rules_url, **extra)


class ActingRows:
    """The alerts of a page, each told whether the account may acknowledge or reset it (the table
    asks only for the rows it shows)."""

    def __init__(self, queryset, scope):
        self.queryset, self.scope = queryset, scope

    def __getattr__(self, name):
        return getattr(self.queryset, name)

    def __len__(self):
        return self.queryset.count()

    def __iter__(self):
        return iter(self._mark(list(self.queryset)))

    def __getitem__(self, key):
        rows = self.queryset[key]
        return self._mark(list(rows)) if isinstance(key, slice) else self._mark([rows])[0]

    def _mark(self, rows):
        for row in rows:
            row.may_act = services.may_act_on(self.scope, row)
        return rows


class AlertActionView(kit.Page):
    """POST only: acknowledge or reset one alert (audited), then back to the list."""

    model = Alert
    audience = "runs-sites"
    http_method_names = ["post"]

    def post(self, request, pk: int):
        alert = services.alerts_in_scope(self.scope, Alert.objects.select_related("rule", "site")).filter(pk=pk).first()
        if alert is None:
            raise Http404("No such alert here.")
        if not services.may_act_on(self.scope, alert):
            raise PermissionDenied("Your account may not change this alert.")
        action = request.POST.get("action")
        verbs = {"ack": (services.acknowledge, "acknowledged"),
                 "reset": (services.reset, "reset: the rule fires again on the next match")}
        if action not in verbs:
            raise Http404("No such action.")
        verb, done = verbs[action]
        try:
            verb(alert, request=request)
        except services.AlertRefused as exc:
            messages.info(request, str(exc).capitalize() + ".")
        else:
            messages.success(request, f"Alert #{alert.pk} ({alert.rule.name}: {alert.key}) {done}.")
        back = request.POST.get("next") or request.headers.get("Referer") or ""
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = ""
        return HttpResponseRedirect(back or reverse("alerts:alert_list"))
