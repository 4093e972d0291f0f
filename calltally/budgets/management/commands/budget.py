"""`calltally budget add|set|list|show|remove|check`: budgets per person or cost center.

``add`` and ``set`` fill the same form as the web page (calltally.budgets.forms.BudgetForm) from its flags, so a
value is accepted or refused the same way on both, in the same words.
"""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from calltally.audit import services as audit
from calltally.audit.choices import Action
from calltally.budgets import services
from calltally.budgets.forms import BudgetForm
from calltally.budgets.models import Budget
from calltally.cliutil import print_json


def status_dict(status: services.Status) -> dict:
    budget = status.budget
    return {
        "name": budget.name, "person": budget.person.username if budget.person_id else None,
        "cost_center": budget.cost_center.code if budget.cost_center_id else None, "period": budget.period,
        "period_first": status.first.isoformat(), "period_last": status.last.isoformat(),
        "amount": str(budget.amount), "carried": str(status.carried), "period_amount": str(status.amount),
        "spent": str(status.spent.quantize(services.CENT)), "percent": status.percent,
        "remaining": str(status.remaining.quantize(services.CENT)), "currency": budget.currency,
        "thresholds": budget.threshold_list, "notify": budget.notify, "emails": budget.emails,
        "carry_over": budget.carry_over, "timezone": budget.timezone, "enabled": budget.enabled,
        "state": status.state,
    }


class Command(BaseCommand):
    help = "Budgets per person or cost center: add, list (with this period's spending), show, remove, check."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="add|set|list|show|remove|check")
        add = sub.add_parser("add", help="add a budget")
        add.add_argument("name")
        whose = add.add_mutually_exclusive_group(required=True)
        whose.add_argument("--person", metavar="USERNAME", help="the person whose calls count")
        whose.add_argument("--cost-center", metavar="CODE", help="the cost center (and those below it)")
        add.add_argument("--amount", required=True, metavar="AMOUNT", help="per period, e.g. 100.00")
        add.add_argument("--currency", metavar="CODE", help="default: the person's site's (or the first site's)")
        add.add_argument("--period", required=True, choices=("day", "week", "month"))
        add.add_argument("--thresholds", default="80,100", metavar="PERCENTS", help="default: 80,100")
        add.add_argument("--notify", default="", metavar="WHO",
                         help="comma-separated: person, manager, administrators")
        add.add_argument("--email", action="append", default=[], metavar="ADDRESS",
                         help="one more address to tell (repeatable)")
        add.add_argument("--carry-over", action="store_true", help="add the previous period's unspent amount")
        add.add_argument("--timezone", metavar="ZONE", help="default: the person's site's (or the first site's)")
        add.add_argument("--disabled", action="store_true", help="add it switched off")

        change = sub.add_parser("set", help="change a budget (only the options given)")
        change.add_argument("name")
        whose = change.add_mutually_exclusive_group()
        whose.add_argument("--person", metavar="USERNAME", help="count this person's calls instead")
        whose.add_argument("--cost-center", metavar="CODE", help="count this cost center's calls instead")
        change.add_argument("--rename", metavar="NAME")
        change.add_argument("--amount", metavar="AMOUNT")
        change.add_argument("--currency", metavar="CODE")
        change.add_argument("--period", choices=("day", "week", "month"))
        change.add_argument("--thresholds", metavar="PERCENTS")
        change.add_argument("--notify", metavar="WHO", help="comma-separated: person, manager, administrators; '' "
                            "for nobody")
        change.add_argument("--email", action="append", metavar="ADDRESS",
                            help="replaces the extra addresses (repeatable; --email '' for none)")
        change.add_argument("--carry-over", action=argparse.BooleanOptionalAction, default=None)
        change.add_argument("--timezone", metavar="ZONE")
        change.add_argument("--enabled", action=argparse.BooleanOptionalAction, default=None)

        listing = sub.add_parser("list", help="every budget with this period's spending")
        listing.add_argument("--json", action="store_true")
        show = sub.add_parser("show", help="one budget, its period and its notices")
        show.add_argument("name")
        show.add_argument("--json", action="store_true")
        remove = sub.add_parser("remove", help="delete a budget and its notices")
        remove.add_argument("name")
        sub.add_parser("check", help="check the budgets and mail the notices due now (as the Scheduler does)")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "add":
            return self.add(options)
        if action == "list":
            return self.listing(options)
        if action == "check":
            self.stdout.write(services.run_due())
            return None
        budget = Budget.objects.select_related("person", "cost_center").filter(name=options["name"]).first()
        if budget is None:
            raise CommandError(f"no budget named {options['name']!r} (calltally budget list shows them)")
        if action == "set":
            return self.change(budget, options)
        if action == "remove":
            before = audit.snapshot(budget)
            with transaction.atomic():
                budget.delete()
            audit.record(None, Action.DELETE, obj=budget, before=before, text=budget.name)
            self.stdout.write(f"budget {budget.name} removed")
            return None
        return self.show(budget, options)

    def add(self, options):
        notify = [part.strip() for part in options["notify"].split(",") if part.strip()]
        data = {"name": options["name"], "person": options["person"] or "",
                "cost_center": options["cost_center"] or "", "amount": options["amount"],
                "currency": options["currency"] or "", "period": options["period"],
                "thresholds": options["thresholds"], "notify": notify, "emails": " ".join(options["email"]),
                "carry_over": options["carry_over"], "timezone": options["timezone"] or "",
                "enabled": not options["disabled"]}
        form = BudgetForm(data)
        if not form.is_valid():
            raise CommandError(form.error_text())
        with transaction.atomic():
            budget = form.save()
        audit.record(None, Action.CREATE, obj=budget, after=audit.snapshot(budget))
        self.stdout.write(f"budget {budget.name} added: {budget.currency} {budget.amount} per {budget.period} for "
                          f"{budget.who}, thresholds {budget.thresholds}%")

    def change(self, budget, options):
        data = {"name": budget.name, "person": budget.person.username if budget.person_id else "",
                "cost_center": budget.cost_center.code if budget.cost_center_id else "",
                "amount": str(budget.amount), "currency": budget.currency, "period": budget.period,
                "thresholds": budget.thresholds, "notify": list(budget.notify), "emails": " ".join(budget.emails),
                "carry_over": budget.carry_over, "timezone": budget.timezone, "enabled": budget.enabled}
        if options["person"] is not None:
            data.update(person=options["person"], cost_center="")
        if options["cost_center"] is not None:
            data.update(cost_center=options["cost_center"], person="")
        for name in ("amount", "currency", "period", "thresholds", "timezone", "carry_over", "enabled"):
            if options[name] is not None:
                data[name] = options[name]
        if options["rename"] is not None:
            data["name"] = options["rename"]
        if options["notify"] is not None:
            data["notify"] = [part.strip() for part in options["notify"].split(",") if part.strip()]
        if options["email"] is not None:
            data["emails"] = " ".join(options["email"])
        before = audit.snapshot(budget)
        form = BudgetForm(data, instance=budget)
        if not form.is_valid():
            raise CommandError(form.error_text())
        with transaction.atomic():
            budget = form.save()
        audit.record(None, Action.UPDATE, obj=budget, before=before, after=audit.snapshot(budget))
        self.stdout.write(f"budget {budget.name} changed: {budget.currency} {budget.amount} per {budget.period} "
                          f"for {budget.who}, thresholds {budget.thresholds}%"
                          + ("" if budget.enabled else ", disabled"))

    def listing(self, options):
        budgets = list(Budget.objects.select_related("person", "cost_center"))
        found = services.statuses(budgets)
        if options["json"]:
            print_json([status_dict(found[b.pk]) for b in budgets], self.stdout)
            return
        if not budgets:
            self.stdout.write("no budgets yet; add one with `calltally budget add NAME --person USERNAME "
                              "--amount 100.00 --period month`")
            return
        name_width = max(4, *(len(b.name) for b in budgets))
        who_width = max(3, *(len(b.who) for b in budgets))
        self.stdout.write(f"{'NAME':<{name_width}}  {'WHO':<{who_width}}  {'PERIOD':<20} {'AMOUNT':>14} "
                          f"{'SPENT':>14} {'%':>6}  STATE")
        for budget in budgets:
            status = found[budget.pk]
            self.stdout.write(
                f"{budget.name:<{name_width}}  {budget.who:<{who_width}}  {status.text:<20} "
                f"{services.money(status.amount, budget.currency):>14} "
                f"{services.money(status.spent, budget.currency):>14} {status.percent:>6}  {status.state}")

    def show(self, budget, options):
        status = services.statuses([budget])[budget.pk]
        notices = list(budget.notices.all()[:50])
        if options["json"]:
            data = status_dict(status)
            data["notices"] = [{"period_start": n.period_start.isoformat(), "threshold": n.threshold,
                                "spent": str(n.spent), "state": n.state, "sent_at": n.sent_at,
                                "recipients": n.recipients, "error": n.error} for n in notices]
            print_json(data, self.stdout)
            return
        lines = [
            f"budget {budget.name}: {budget.who}, {'enabled' if budget.enabled else 'disabled'}",
            f"  amount     {services.money(budget.amount, budget.currency)} per {budget.period}"
            + (f" + {services.money(status.carried, budget.currency)} carried over" if budget.carry_over else ""),
            f"  period     {status.first:%Y-%m-%d} to {status.last:%Y-%m-%d} ({budget.timezone})",
            f"  spent      {services.money(status.spent, budget.currency)} ({status.percent}%), "
            f"remaining {services.money(status.remaining, budget.currency)}: {status.state}",
            f"  thresholds {budget.thresholds}%",
            f"  notifies   {', '.join([*budget.notify, *budget.emails]) or 'nobody'}",
            f"  sends to   {', '.join(services.recipients(budget)) or 'no address'}",
        ]
        lines.append("  notices    " + ("none yet" if not notices else ""))
        for notice in notices:
            lines.append(f"    {notice.period_start:%Y-%m-%d} {notice.threshold:>4}%  {notice.get_state_display()}"
                         + (f" {notice.sent_at:%Y-%m-%d %H:%M} UTC" if notice.sent_at else "")
                         + (f" ({notice.error})" if notice.error else ""))
        self.stdout.write("\n".join(lines))
