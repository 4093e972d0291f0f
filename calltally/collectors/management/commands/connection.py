"""`calltally connection add|list|set|test|remove`: how each site's records arrive."""

from __future__ import annotations

import asyncio

from django.core.management.base import BaseCommand, CommandError

from calltally.cliutil import key_values, print_json
from calltally.collectors import COLLECTOR_PATHS, collector_class, schema
from calltally.collectors.base import ConfigError, ConnectionConfig
from calltally.collectors.common import check_port_free
from calltally.collectors.forms import changed_parameters, checked_parameters
from calltally.collectors.models import Connection, ConnectionState
from calltally.sites.services import get_site

TEST_TIMEOUT = 30


class _NullSink:
    def append(self, records, source):
        return len(records)

    def append_file(self, path, name, source):
        return 0, False


class _NullStatus:
    def set(self, state, detail=""):
        pass

    def received(self, count):
        pass


def load_class(kind: str):
    try:
        return collector_class(kind)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    except ImportError as exc:
        raise CommandError(f"the {kind} collector is not available in this installation: {exc}") from None


def validated(kind: str, parameters: dict, connection_id: int | None = None, enabled: bool = True) -> dict:
    load_class(kind)  # an unknown or unavailable kind, said as such
    try:
        # The connection pages check with the same function: what is refused here is refused there.
        return checked_parameters(kind, parameters, connection_id, enabled)
    except schema.SecretKeyError as exc:  # it says what to do
        where = kind if connection_id is None else f"connection #{connection_id}"
        raise CommandError(f"{where}: {exc}") from None
    except ConfigError as exc:
        raise CommandError(f"{kind}: {exc}") from None


def get_connection(connection_id: int) -> Connection:
    try:
        return Connection.objects.select_related("site").get(pk=connection_id)
    except Connection.DoesNotExist:
        raise CommandError(f"no connection #{connection_id} (see `calltally connection list`)") from None


class Command(BaseCommand):
    help = "Add, list, change, test and remove connections (how a site's PBX delivers its records)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="add|list|set|test|remove")
        add = sub.add_parser("add", help="add a connection to a site")
        add.add_argument("--site", required=True, metavar="CODE")
        add.add_argument("--kind", required=True, choices=list(COLLECTOR_PATHS))
        add.add_argument("--option", action="append", dest="options", metavar="KEY=VALUE",
                         help="an option of the kind (repeat); see docs/collectors.md")
        add.add_argument("--disabled", action="store_true", help="add it disabled")

        listing = sub.add_parser("list", help="list the connections and their state")
        listing.add_argument("--site", metavar="CODE")
        listing.add_argument("--json", action="store_true")

        change = sub.add_parser("set", help="change a connection's options or enable/disable it")
        change.add_argument("id", type=int)
        change.add_argument("--option", action="append", dest="options", metavar="KEY=VALUE",
                            help="set an option (repeat), a secret included (it replaces the stored one); "
                                 "KEY= with no value removes it")
        state = change.add_mutually_exclusive_group()
        state.add_argument("--enable", dest="enabled", action="store_true", default=None)
        state.add_argument("--disable", dest="enabled", action="store_false")

        test = sub.add_parser("test", help="check a connection (can it bind, connect, open…)")
        test.add_argument("id", type=int)

        remove = sub.add_parser("remove", help="remove a connection (its spooled records stay)")
        remove.add_argument("id", type=int)

    def handle(self, *args, **options):
        return getattr(self, "do_" + options["action"])(options)

    def do_add(self, options):
        from calltally.collectors.http_push import new_token

        site = get_site(options["site"])
        kind = options["kind"]
        parameters = key_values(options["options"], "--option")
        generated = None
        if kind == "http-push" and not parameters.get("token"):
            generated = parameters["token"] = new_token()
        parameters = validated(kind, parameters, enabled=not options["disabled"])
        connection = Connection.objects.create(site=site, kind=kind, parameters=parameters,
                                               enabled=not options["disabled"])
        self.stdout.write(f"connection #{connection.pk} added: {site.code} {kind} "
                          f"{self.describe(schema.redacted(kind, parameters))}"
                          + ("" if connection.enabled else " (disabled)"))
        if kind == "http-push":
            self.stdout.write(f"POST records to /push/{connection.pk}/ with the header "
                              "Authorization: Bearer <token>")
        if generated:
            self.stdout.write(f"token: {generated}")
            self.stdout.write("(shown only now: it is stored hashed; set a new one with "
                              f"`calltally connection set {connection.pk} --option token=…`)")

    def do_set(self, options):
        connection = get_connection(options["id"])
        enabled = connection.enabled if options["enabled"] is None else options["enabled"]
        if options["options"]:
            # Stored secrets stay encrypted here; validation decrypts what it needs and seals again.
            parameters = changed_parameters(connection.kind, connection.parameters,
                                            key_values(options["options"], "--option"))
            connection.parameters = validated(connection.kind, parameters, connection.pk, enabled)
        elif enabled and not connection.enabled:
            # Enabling it makes it listen again: its port may have been taken meanwhile.
            try:
                check_port_free(connection.kind, connection.parameters or {}, connection.pk)
            except ConfigError as exc:
                raise CommandError(f"{connection.kind}: {exc}") from None
        connection.enabled = enabled
        connection.save()
        self.stdout.write(f"connection #{connection.pk} updated: {connection.site.code} {connection.kind} "
                          f"{self.describe(schema.redacted(connection.kind, connection.parameters))}"
                          + ("" if connection.enabled else " (disabled)"))

    def do_remove(self, options):
        connection = get_connection(options["id"])
        text = str(connection)
        connection.delete()
        self.stdout.write(f"connection #{options['id']} ({text}) removed; its spooled records stay")

    def do_test(self, options):
        connection = get_connection(options["id"])
        cls = load_class(connection.kind)
        try:
            config = ConnectionConfig(connection.pk, connection.site.code, connection.kind,
                                      schema.opened(connection.kind, connection.parameters, connection.pk))
            collector = cls(config, _NullSink(), _NullStatus())
            result = asyncio.run(asyncio.wait_for(collector.test(), TEST_TIMEOUT))
        except schema.SecretKeyError as exc:
            raise CommandError(f"connection #{connection.pk}: {exc}") from None  # it says what to do
        except ConfigError as exc:
            raise CommandError(f"#{connection.pk}: {exc}") from None
        except TimeoutError:
            raise CommandError(f"#{connection.pk}: no answer within {TEST_TIMEOUT}s") from None
        self.stdout.write(f"#{connection.pk} {connection.kind}: {result}")
        if result.startswith("FAILED"):
            raise CommandError("the test failed")

    def do_list(self, options):

        connections = Connection.objects.select_related("site")
        if options.get("site"):
            connections = connections.filter(site=get_site(options["site"]))
        states = {s.connection_id: s for s in ConnectionState.objects.filter(connection__in=connections)}
        rows = []
        for c in connections:
            state = states.get(c.pk)
            rows.append({
                "id": c.pk, "site": c.site.code, "kind": c.kind, "enabled": c.enabled,
                "parameters": schema.redacted(c.kind, c.parameters),
                "state": state.state if state else "never started",
                "detail": state.detail if state else "",
                "records": state.records_total if state else 0,
                "last_record_at": state.last_record_at if state else None,
                "last_error": state.last_error if state else "",
                "updated": c.updated,
            })
        if options["json"]:
            print_json(rows, self.stdout)
            return
        if not rows:
            self.stdout.write("no connections; add one with `calltally connection add --site CODE --kind KIND`")
            return
        for row in rows:
            self.stdout.write(
                f"#{row['id']:<4} {row['site']:<12} {row['kind']:<12} "
                f"{'enabled ' if row['enabled'] else 'disabled'} {row['state']:<12} {row['records']:>9} records  "
                f"{self.describe(row['parameters'])}" + (f"  [{row['detail']}]" if row["detail"] else ""))

    @staticmethod
    def describe(parameters: dict) -> str:
        return " ".join(f"{key}={value}" for key, value in parameters.items())
