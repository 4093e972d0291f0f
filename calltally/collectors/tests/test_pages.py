"""The connection pages: the same checks as `calltally connection add|set`, secrets never shown back,
an http-push token shown once, *test connection*, and who may do what."""

from __future__ import annotations

import html
import re
import socket

import pytest
from django.core.management.base import CommandError
from django.urls import reverse

from calltally.audit.models import AuditEvent
from calltally.collectors import schema
from calltally.collectors.http_push import token_matches
from calltally.collectors.models import Connection, ConnectionState

from .helpers import free_port
from .test_secrets import FTP_PASSWORD, LOGIN_SCRIPT, PUSH_TOKEN, SFTP_PASSWORD, leaked

pytestmark = pytest.mark.django_db


@pytest.fixture
def sites(make_site):
    return make_site("MI", name="Milan office"), make_site("RM", name="Rome office")


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def web_add(client, site: str, kind: str, options: dict, enabled: bool = True):
    """Post the add page as a browser would: every option in its own field."""
    from calltally.sites.models import Site

    data = {"site": Site.objects.get(code=site).pk, "kind": kind,
            **{f"option_{name}": value for name, value in options.items()}}
    if enabled:
        data["enabled"] = "on"
    return client.post(reverse("collectors:connection_add"), data)


def cli_add(cli, site: str, kind: str, options: dict) -> str:
    arguments = ["connection", "add", "--site", site, "--kind", kind]
    for name, value in options.items():
        arguments += ["--option", f"{name}={value}"]
    return cli(*arguments)


def web_errors(response) -> str:
    assert response.status_code == 400, response.status_code
    return html.unescape(response.content.decode())


# --- one validation: the web refuses what the CLI refuses, in the same words ----------------------------

REFUSED = [
    pytest.param("tcp-listen", {"port": "99999"}, "option port=99999 must be between 1 and 65535.", id="port-99999"),
    pytest.param("ftp", {"port": "2121", "username": "pbx", "password": "pw", "colour": "blue"},
                 "unknown option(s) colour; this kind takes", id="unknown-option"),
    pytest.param("ftp", {"port": "2121", "username": "pbx"}, "option password is required", id="missing-password"),
    pytest.param("http-push", {"token": "short"}, "option token must be at least 16 characters", id="short-token"),
]


@pytest.mark.parametrize(("kind", "options", "message"), REFUSED)
def test_the_web_refuses_a_connection_as_the_cli_does_with_the_same_words(admin_client, sites, cli, kind, options,
                                                                           message):
    with pytest.raises(CommandError) as refused:
        cli_add(cli, "MI", kind, options)
    assert message in str(refused.value)
    shown = web_errors(web_add(admin_client, "MI", kind, options))
    assert message in shown
    assert not Connection.objects.exists()


def test_a_port_another_connection_listens_on_is_refused_on_the_web_as_on_the_cli(admin_client, sites, cli):
    port = free_port()
    cli_add(cli, "MI", "tcp-listen", {"port": port, "bind": "0.0.0.0"})
    first = Connection.objects.get()
    expected = (f"port {port} on 127.0.0.1 is already taken by connection #{first.pk} (site MI, tcp-listen on "
                f"0.0.0.0:{port})")
    with pytest.raises(CommandError, match=re.escape(expected)):
        cli_add(cli, "RM", "tcp-listen", {"port": port})
    assert expected in web_errors(web_add(admin_client, "RM", "tcp-listen", {"port": str(port)}))
    # and on the edit page, moving another connection onto the port
    other = Connection.objects.create(site=sites[1], kind="tcp-listen", parameters={"port": free_port()})
    response = admin_client.post(reverse("collectors:connection_edit", args=[other.pk]),
                                 {"enabled": "on", "option_port": str(port), "option_bind": "127.0.0.1"})
    assert "is already taken by connection" in web_errors(response)
    with pytest.raises(CommandError, match="is already taken by connection"):
        cli("connection", "set", str(other.pk), "--option", f"port={port}")
    assert Connection.objects.count() == 2


def test_the_web_stores_what_the_cli_stores_for_the_same_options(admin_client, sites, cli):
    options = {"port": str(free_port()), "bind": "0.0.0.0", "framing": "crlf", "idle_timeout": "30"}
    assert web_add(admin_client, "MI", "tcp-listen", options).status_code == 302
    web = Connection.objects.get()
    web.enabled = False
    web.save()  # the CLI's would clash with it otherwise
    cli_add(cli, "RM", "tcp-listen", options)
    command = Connection.objects.exclude(pk=web.pk).get()
    assert web.parameters == command.parameters


def test_options_are_fields_of_the_kind_chosen(admin_client, sites):
    shown = page(admin_client.get(reverse("collectors:connection_add") + "?site=MI&kind=sftp-pull"))
    for name in ("host", "remote_path", "pattern", "known_hosts"):
        assert f'name="option_{name}"' in shown
    assert 'name="option_password" type="password"' in shown or 'type="password" name="option_password"' in shown
    assert 'name="option_framing"' not in shown  # a tcp option


# --- secrets ---------------------------------------------------------------------------------------------


def test_a_secret_is_never_shown_back_on_the_edit_page_the_detail_page_or_the_export(admin_client, sites):
    assert web_add(admin_client, "MI", "sftp-pull", {"host": "pbx.example", "username": "cdr",
                                                     "password": SFTP_PASSWORD,
                                                     "known_hosts": "ignore"}).status_code == 302
    assert web_add(admin_client, "MI", "tcp-connect", {"host": "127.0.0.1", "port": "1752",
                                                       "login_script": LOGIN_SCRIPT}).status_code == 302
    assert web_add(admin_client, "RM", "ftp", {"port": str(free_port()), "username": "pbx",
                                                "password": FTP_PASSWORD}).status_code == 302
    for connection in Connection.objects.all():
        assert not leaked(str(connection.parameters).encode())  # sealed: encrypted or hashed
        for url in (reverse("collectors:connection_detail", args=[connection.pk]),
                    reverse("collectors:connection_edit", args=[connection.pk]),
                    reverse("sites:site_detail", args=[connection.site.code])):
            response = admin_client.get(url)
            assert response.status_code == 200 and not leaked(response.content), url
        assert "Set (never shown)" in page(admin_client.get(reverse("collectors:connection_edit",
                                                                    args=[connection.pk])))
    export = admin_client.get(reverse("collectors:connection_list") + "?export=csv")
    assert export.status_code == 200 and b"pbx.example" in body(export) and not leaked(body(export))
    events = AuditEvent.objects.filter(object_type="collectors.connection")
    assert events.count() == 3 and not any(leaked(str((e.before, e.after)).encode()) for e in events)


def test_a_secret_left_empty_is_kept_a_new_one_replaces_it_and_the_box_clears_it(admin_client, sites):
    web_add(admin_client, "MI", "sftp-pull", {"host": "pbx.example", "username": "cdr", "password": SFTP_PASSWORD,
                                              "known_hosts": "ignore"})
    connection = Connection.objects.get()
    url = reverse("collectors:connection_edit", args=[connection.pk])
    fields = {"enabled": "on", "option_host": "pbx2.example", "option_username": "cdr", "option_known_hosts": "ignore"}
    assert admin_client.post(url, fields).status_code == 302
    connection.refresh_from_db()
    opened = schema.opened(connection.kind, connection.parameters)
    assert opened["password"] == SFTP_PASSWORD and opened["host"] == "pbx2.example"
    assert admin_client.post(url, {**fields, "option_password": "an0ther-Pa55"}).status_code == 302
    connection.refresh_from_db()
    assert schema.opened(connection.kind, connection.parameters)["password"] == "an0ther-Pa55"
    # Clearing the password alone would leave no way to log in: refused, and the password stays.
    assert "give a password" in web_errors(admin_client.post(url, {**fields, "clear_password": "on"}))
    web_add(admin_client, "RM", "tcp-connect", {"host": "127.0.0.1", "port": "1752", "login_script": LOGIN_SCRIPT})
    script = Connection.objects.get(kind="tcp-connect")
    assert admin_client.post(reverse("collectors:connection_edit", args=[script.pk]), {
        "enabled": "on", "option_host": "127.0.0.1", "option_port": "1752", "clear_login_script": "on"},
    ).status_code == 302
    script.refresh_from_db()
    assert "login_script" not in script.parameters


# --- http-push ---------------------------------------------------------------------------------------------


def test_an_http_push_token_is_made_on_creation_and_shown_once(admin_client, sites):
    response = web_add(admin_client, "MI", "http-push", {})
    assert response.status_code == 302
    connection = Connection.objects.get()
    first = page(admin_client.get(response["Location"]))
    token = re.search(r'<code class="fs-6 user-select-all">([^<]+)</code>', first).group(1)
    assert token_matches(token, connection.parameters["token_sha256"]) and "shown this once" in first
    assert f"/push/{connection.pk}/" in first
    again = page(admin_client.get(response["Location"]))
    assert token not in again and "shown this once" not in again
    assert token not in page(admin_client.get(reverse("collectors:connection_edit", args=[connection.pk])))
    # The token works: the PBX may push with it.
    pushed = admin_client.post(reverse("http_push", args=[connection.pk]), b"a record\n",
                               content_type="text/plain", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert pushed.status_code == 200


def test_regenerating_a_token_shows_the_new_one_once_and_the_old_one_stops_working(admin_client, sites, cli):
    cli_add(cli, "MI", "http-push", {"token": PUSH_TOKEN})
    connection = Connection.objects.get()
    response = admin_client.post(reverse("collectors:connection_token", args=[connection.pk]))
    shown = page(admin_client.get(response["Location"]))
    token = re.search(r'<code class="fs-6 user-select-all">([^<]+)</code>', shown).group(1)
    connection.refresh_from_db()
    assert token_matches(token, connection.parameters["token_sha256"])
    assert not token_matches(PUSH_TOKEN, connection.parameters["token_sha256"])
    assert token not in page(admin_client.get(response["Location"]))


# --- enable, disable, test -----------------------------------------------------------------------------------


def test_enabling_a_connection_whose_port_was_taken_meanwhile_is_refused(admin_client, sites):
    port = free_port()
    waiting = Connection.objects.create(site=sites[0], kind="tcp-listen", parameters={"port": port}, enabled=False)
    Connection.objects.create(site=sites[1], kind="tcp-listen", parameters={"port": port, "bind": "127.0.0.1"})
    response = admin_client.post(reverse("collectors:connection_toggle", args=[waiting.pk]), follow=True)
    assert "Not enabled: port" in page(response)
    waiting.refresh_from_db()
    assert not waiting.enabled
    other = Connection.objects.exclude(pk=waiting.pk).get()
    admin_client.post(reverse("collectors:connection_toggle", args=[other.pk]))
    other.refresh_from_db()
    assert not other.enabled
    admin_client.post(reverse("collectors:connection_toggle", args=[waiting.pk]))
    waiting.refresh_from_db()
    assert waiting.enabled


def test_testing_a_listener_says_whether_its_port_is_free_or_held_by_the_recorder(admin_client, sites):
    port = free_port()
    connection = Connection.objects.create(site=sites[0], kind="tcp-listen",
                                           parameters={"port": port, "bind": "127.0.0.1"})
    shown = page(admin_client.post(reverse("collectors:connection_test", args=[connection.pk]), follow=True))
    assert "Test passed" in shown and "The port is free: no Recorder listens on it yet" in shown
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", port))
        holder.listen()
        shown = page(admin_client.post(reverse("collectors:connection_test", args=[connection.pk]), follow=True))
        assert "Test failed" in shown and "Another program holds the port" in shown
        ConnectionState.objects.create(connection=connection, state="listening", detail=f"127.0.0.1:{port}")
        shown = page(admin_client.post(reverse("collectors:connection_test", args=[connection.pk]), follow=True))
        assert "Test passed" in shown and "The running Recorder holds this port" in shown
    assert AuditEvent.objects.filter(action="configuration", object_type="collectors.connection").count() == 3


def test_testing_a_pulling_connection_tries_to_connect_and_says_what_happened(admin_client, sites):
    closed = free_port()
    connection = Connection.objects.create(site=sites[0], kind="tcp-connect",
                                           parameters={"host": "127.0.0.1", "port": closed, "connect_timeout": 2})
    shown = page(admin_client.post(reverse("collectors:connection_test", args=[connection.pk]), follow=True))
    assert "Test failed" in shown and f"127.0.0.1:{closed}" in shown
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        connection.parameters = {**connection.parameters, "port": server.getsockname()[1]}
        connection.save()
        shown = page(admin_client.post(reverse("collectors:connection_test", args=[connection.pk]), follow=True))
        assert "Test passed" in shown and "OK: connected to 127.0.0.1" in shown


# --- who sees what ---------------------------------------------------------------------------------------------


def test_a_site_administrator_sees_and_changes_only_the_connections_of_their_sites(role_client, sites):
    milan, rome = sites
    mine = Connection.objects.create(site=milan, kind="tcp-listen", parameters={"port": free_port()})
    theirs = Connection.objects.create(site=rome, kind="tcp-listen", parameters={"port": free_port()})
    client = role_client("site-admin", sites=[milan])
    listed = page(client.get(reverse("collectors:connection_list")))
    assert f"#{mine.pk}" in listed and f"#{theirs.pk}" not in listed
    exported = body(client.get(reverse("collectors:connection_list") + "?export=csv")).decode()
    assert "MI" in exported and "RM" not in exported
    for name in ("connection_detail", "connection_edit", "connection_delete"):
        assert client.get(reverse(f"collectors:{name}", args=[theirs.pk])).status_code == 404
    for name in ("connection_toggle", "connection_test", "connection_delete"):
        assert client.post(reverse(f"collectors:{name}", args=[theirs.pk])).status_code == 404
    # The add page offers only their sites, and refuses another.
    assert "Rome office" not in page(client.get(reverse("collectors:connection_add") + "?kind=tcp-listen"))
    assert web_add(client, "RM", "tcp-listen", {"port": str(free_port())}).status_code == 400
    assert web_add(client, "MI", "tcp-listen", {"port": str(free_port())}).status_code == 302
    assert Connection.objects.filter(site=rome).count() == 1


@pytest.mark.parametrize("role", ["manager", "user"])
def test_managers_and_users_have_no_connection_pages(role_client, sites, role):
    from calltally.directory.models import CostCenter, Person

    person = Person.objects.create(username=f"{role}-person")
    center = CostCenter.objects.create(code="SALES", name="Sales", manager=person)
    client = role_client(role, person=person, cost_center=center if role == "manager" else None)
    connection = Connection.objects.create(site=sites[0], kind="tcp-listen", parameters={"port": free_port()})
    for url in (reverse("collectors:connection_list"), reverse("collectors:connection_add"),
                reverse("collectors:connection_detail", args=[connection.pk])):
        assert client.get(url).status_code in (403, 404), url
    assert client.post(reverse("collectors:connection_toggle", args=[connection.pk])).status_code in (403, 404)
    connection.refresh_from_db()
    assert connection.enabled


def test_the_connection_list_needs_as_many_queries_for_twenty_connections_as_for_two(admin_client, sites,
                                                                                     django_assert_max_num_queries):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    def add(count):
        for _ in range(count):
            made = Connection.objects.create(site=sites[0], kind="ftp", parameters={
                "port": 0, "username": "pbx", "password": FTP_PASSWORD})
            ConnectionState.objects.create(connection=made, state="listening", records_total=7)

    add(2)
    admin_client.get(reverse("collectors:connection_list"))
    with CaptureQueriesContext(db) as two:
        page(admin_client.get(reverse("collectors:connection_list")))
    add(18)
    with django_assert_max_num_queries(len(two.captured_queries)):
        shown = page(admin_client.get(reverse("collectors:connection_list")))
    assert shown.count("listening") >= 20 and not leaked(shown.encode())


def test_the_connection_list_says_what_to_do_when_there_is_none(admin_client, sites):
    shown = page(admin_client.get(reverse("collectors:connection_list")))
    assert "No connections yet" in shown and "setup wizard" in shown
