"""One port, one listener: `connection add|set` refuse a port another enabled connection listens on."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from calltally.collectors.base import ConfigError
from calltally.collectors.common import validate_connection
from calltally.collectors.models import Connection


@pytest.fixture
def sites(make_site):
    return make_site("MI"), make_site("RM")


def add(cli, site: str, kind: str, *options: str) -> str:
    arguments = ["connection", "add", "--site", site, "--kind", kind]
    for option in options:
        arguments += ["--option", option]
    return cli(*arguments)


def ftp(port: int, *more: str) -> list[str]:
    return [f"port={port}", "username=ucm", "password=secret", *more]


def test_a_second_listener_on_the_same_address_and_port_is_refused_naming_the_first(sites, cli):
    add(cli, "MI", "tcp-listen", "port=1150", "bind=127.0.0.1")
    with pytest.raises(CommandError, match=r"port 1150 on 127\.0\.0\.1 is already taken by connection #\d+ "
                                           r"\(site MI, tcp-listen on 127\.0\.0\.1:1150\)"):
        add(cli, "RM", "tcp-listen", "port=1150", "bind=127.0.0.1")
    assert Connection.objects.count() == 1


@pytest.mark.parametrize(("first", "second"), [
    ("0.0.0.0", "10.0.0.5"), ("10.0.0.5", "0.0.0.0"), ("::", "127.0.0.1"), ("127.0.0.1", "localhost"),
])
def test_every_address_overlaps_a_specific_one_on_the_same_port(sites, cli, first, second):
    add(cli, "MI", "tcp-listen", "port=1150", f"bind={first}")
    with pytest.raises(CommandError, match="already taken by connection"):
        add(cli, "RM", "tcp-listen", "port=1150", f"bind={second}")


def test_distinct_ports_and_disjoint_addresses_may_coexist(sites, cli):
    add(cli, "MI", "tcp-listen", "port=1150", "bind=127.0.0.1")
    add(cli, "RM", "tcp-listen", "port=1151", "bind=127.0.0.1")
    add(cli, "RM", "tcp-listen", "port=1150", "bind=127.0.0.2")
    add(cli, "RM", "tcp-listen", "port=1150", "bind=::1")  # IPv6 only: 127.0.0.1 is another socket
    assert Connection.objects.count() == 4


def test_ftp_and_tcp_listen_share_one_port_space(sites, cli):
    add(cli, "MI", "ftp", *ftp(2121, "bind=0.0.0.0"))
    with pytest.raises(CommandError, match=r"tcp-listen: port 2121 on 127\.0\.0\.1 is already taken by connection "
                                           r"#\d+ \(site MI, ftp on 0\.0\.0\.0:2121\)"):
        add(cli, "RM", "tcp-listen", "port=2121")
    with pytest.raises(CommandError, match="already taken by connection"):
        add(cli, "RM", "ftp", *ftp(2121))


def test_a_listener_inside_an_ftp_passive_range_is_refused_but_two_ftp_servers_may_share_a_range(sites, cli):
    add(cli, "MI", "ftp", *ftp(2121, "passive_ports=60000-60100"))
    with pytest.raises(CommandError, match=r"port 60050 is in the passive range 60000-60100 of connection #\d+"):
        add(cli, "RM", "tcp-listen", "port=60050")
    # pyftpdlib skips a passive port in use, so two FTP servers can draw from one range.
    add(cli, "RM", "ftp", *ftp(2122, "passive_ports=60050-60200"))
    add(cli, "RM", "tcp-listen", "port=1150")
    with pytest.raises(CommandError, match=r"the passive range 1100-1200 holds port 1150, taken by connection #\d+"):
        add(cli, "RM", "ftp", *ftp(2123, "passive_ports=1100-1200"))


def test_changing_a_connection_to_a_taken_port_is_refused_and_leaves_it_unchanged(sites, cli):
    add(cli, "MI", "tcp-listen", "port=1150")
    add(cli, "RM", "tcp-listen", "port=1151")
    second = Connection.objects.get(site__code="RM")
    with pytest.raises(CommandError, match=r"port 1150 on 127\.0\.0\.1 is already taken by connection #\d+ "
                                           r"\(site MI"):
        cli("connection", "set", str(second.pk), "--option", "port=1150")
    second.refresh_from_db()
    assert second.parameters["port"] == 1151
    # Its own port is no clash: changing another option keeps it.
    cli("connection", "set", str(second.pk), "--option", "idle_timeout=30")


def test_a_disabled_connection_holds_no_port_until_it_is_enabled(sites, cli):
    add(cli, "MI", "tcp-listen", "port=1150")
    cli("connection", "add", "--site", "RM", "--kind", "tcp-listen", "--option", "port=1150", "--disabled")
    spare = Connection.objects.get(site__code="RM")
    with pytest.raises(CommandError, match=r"already taken by connection #\d+ \(site MI"):
        cli("connection", "set", str(spare.pk), "--enable")
    spare.refresh_from_db()
    assert not spare.enabled
    first = Connection.objects.get(site__code="MI")
    cli("connection", "set", str(first.pk), "--disable")
    cli("connection", "set", str(spare.pk), "--enable")  # the port is free now
    with pytest.raises(CommandError, match=rf"already taken by connection #{spare.pk} \(site RM"):
        cli("connection", "set", str(first.pk), "--enable")


def test_the_one_validation_path_refuses_for_any_caller(sites):
    site, _ = sites
    Connection.objects.create(site=site, kind="tcp-listen", parameters={"port": 1150, "bind": "0.0.0.0"})
    with pytest.raises(ConfigError, match=r"already taken by connection #\d+ \(site MI"):
        validate_connection("tcp-listen", {"port": "1150"})
    assert validate_connection("tcp-listen", {"port": "1150"}, enabled=False)["port"] == 1150
