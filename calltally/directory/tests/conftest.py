"""Fixtures of the directory tests: files to import, sites, and a private OpenLDAP server."""

from __future__ import annotations

import os
import shutil

import pytest

from calltally.directory.models import CostCenter

from .slapd import slapd_binary, start_slapd


@pytest.fixture
def hq(make_site):
    return make_site("HQ")


@pytest.fixture
def branch(make_site):
    return make_site("BR")


@pytest.fixture
def sales(db):
    return CostCenter.objects.create(code="SALES", name="Sales")


@pytest.fixture
def write(tmp_path):
    """Writes a file for a test to import: text (UTF-8 unless told) or bytes."""

    def make(name: str, content, encoding: str = "utf-8"):
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode(encoding))
        return path

    return make


@pytest.fixture(scope="session")
def slapd_server():
    binary = slapd_binary()
    if binary is None:
        pytest.skip("slapd is not installed (Debian: apt-get install slapd ldap-utils; scripts/test installs it)")
    server = start_slapd(binary)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture
def directory(slapd_server, monkeypatch):
    """The fixture directory with its four people, and CALLTALLY_LDAP_* pointing at it."""
    slapd_server.reset()
    for name in [n for n in os.environ if n.startswith("CALLTALLY_LDAP_")]:
        monkeypatch.delenv(name)
    for name, value in slapd_server.env().items():
        monkeypatch.setenv(name, value)
    return slapd_server
