"""`calltally costcenter add|set|list`: the cost center tree."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from calltally.cliutil import print_json
from calltally.directory.forms import CostCenterForm
from calltally.directory.models import CostCenter
from calltally.directory.services import cost_center_tree


class Command(BaseCommand):
    help = "Add, change and list cost centers (a tree of any depth)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="add|set|list")
        add = sub.add_parser("add", help="add a cost center")
        add.add_argument("code")
        add.add_argument("--name", required=True)
        add.add_argument("--parent", metavar="CODE", help="the cost center it is part of")
        add.add_argument("--manager", metavar="USERNAME", help="the person who manages it")

        change = sub.add_parser("set", help="change a cost center")
        change.add_argument("code")
        change.add_argument("--name")
        change.add_argument("--parent", metavar="CODE", help="a new parent; '' makes it a root")
        change.add_argument("--manager", metavar="USERNAME", help="a new manager; '' for none")

        listing = sub.add_parser("list", help="show the tree")
        listing.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "list":
            return self.list(options)
        existing = CostCenter.objects.filter(code=options["code"]).first()
        if action == "add" and existing is not None:
            raise CommandError(f"cost center {options['code']!r} exists already; change it with "
                               "`calltally costcenter set`.")
        if action == "set" and existing is None:
            raise CommandError(f"no cost center with code {options['code']!r}; add it with "
                               "`calltally costcenter add`.")
        data = {"code": options["code"], "name": "", "parent": "", "manager": ""}
        if existing is not None:
            data.update(name=existing.name, parent=existing.parent.code if existing.parent else "",
                        manager=existing.manager.username if existing.manager else "")
        for name in ("name", "parent", "manager"):
            if options.get(name) is not None:
                data[name] = options[name]
        form = CostCenterForm(data, instance=existing or CostCenter())
        if not form.is_valid():
            raise CommandError(form.error_text())
        center = form.save()
        verb = "added" if existing is None else "updated"
        path = " / ".join(c.code for c in reversed([center, *center.ancestors()]))
        manager = f", managed by {center.manager.username}" if center.manager else ""
        self.stdout.write(f"cost center {center.code} {verb}: {center.name} ({path}){manager}")

    def list(self, options):
        tree = cost_center_tree()
        if options["json"]:
            print_json([
                {"code": c.code, "name": c.name, "parent": c.parent.code if c.parent else None,
                 "manager": c.manager.username if c.manager else None, "depth": depth}
                for c, depth in tree
            ], self.stdout)
            return
        if not tree:
            self.stdout.write("no cost centers yet; add one with `calltally costcenter add CODE --name NAME`")
            return
        width = max(len(c.code) + 2 * depth for c, depth in tree)
        self.stdout.write(f"{'CODE':<{width}}  {'MANAGER':<16} NAME")
        for center, depth in tree:
            code = "  " * depth + center.code
            manager = center.manager.username if center.manager else ""
            self.stdout.write(f"{code:<{width}}  {manager:<16} {center.name}")
