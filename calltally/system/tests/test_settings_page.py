"""The settings page: administrators only; data retention; the logo of reports, checked by its
content; the LDAP section as configured; every change audited before and after."""

from __future__ import annotations

import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from calltally.audit.choices import Action
from calltally.audit.models import AuditEvent
from calltally.directory.models import Person
from calltally.directory.tests.conftest import directory, slapd_server  # noqa: F401 - the fixtures
from calltally.system.images import MAX_BYTES, ImageError, check_image
from calltally.system.models import LdapStatus, ReportLogo, RetentionSettings

pytestmark = pytest.mark.django_db
SETTINGS = "/settings/"


def png(width=40, height=20) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def jpeg(width=64, height=32) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40"/></svg>'


@pytest.fixture
def admin(role_client):
    return role_client("administrator", username="boss")


def test_only_administrators_open_the_settings_page(role_client, make_site):
    assert reverse("system:settings") == SETTINGS
    site_admin = role_client("site-admin", sites=[make_site("ROM")])
    assert site_admin.get(SETTINGS).status_code == 403
    assert site_admin.post(reverse("system:settings_section", args=["retention"]),
                           {"calls_days": "1", "raw_days": "1", "mask_after_days": "0"}).status_code == 403
    assert RetentionSettings.load().calls_days == 0


def test_the_page_shows_every_section_and_says_where_retention_runs_are(admin):
    page = admin.get(SETTINGS)
    assert page.status_code == 200
    body = page.content.decode()
    for title in ("Outgoing mail (SMTP)", "LDAP directory", "Data retention", "Logo for reports"):
        assert title in body
    assert "The Scheduler applies these limits once a day" in body
    assert reverse("privacy:overview") in body


def test_retention_is_saved_and_audited_and_inconsistent_limits_are_refused(admin):
    url = reverse("system:settings_section", args=["retention"])
    refused = admin.post(url, {"calls_days": "365", "raw_days": "30", "mask_after_days": "0"})
    assert refused.status_code == 400 and "raw_days" in refused.context["retention_form"].errors
    assert admin.post(url, {"calls_days": "365", "raw_days": "400", "mask_after_days": "90"}).status_code == 302
    retention = RetentionSettings.load()
    assert (retention.calls_days, retention.raw_days, retention.mask_after_days) == (365, 400, 90)
    event = AuditEvent.objects.get(action=Action.CONFIGURATION)
    assert (event.before["calls_days"], event.after["calls_days"]) == (0, 365)
    assert event.username == "boss"


def test_png_jpeg_and_svg_logos_are_recognised_by_their_content():
    assert check_image(png(40, 20)) == check_image(png(40, 20))
    assert (check_image(png(40, 20)).width, check_image(png(40, 20)).height) == (40, 20)
    image = check_image(jpeg(64, 32))
    assert (image.content_type, image.width, image.height) == ("image/jpeg", 64, 32)
    image = check_image(SVG)
    assert (image.content_type, image.width, image.height) == ("image/svg+xml", 120, 40)


@pytest.mark.parametrize(("content", "reason"), [
    (b"GIF89a....", "not a PNG, JPEG or SVG"),
    (b"", "empty"),
    (png()[:20], "damaged"),
    (png(5000, 10), "each side must be"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * MAX_BYTES, "at most 512 KB"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "<script>"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "event attribute"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
     b'<image x:href="https://evil.example/a.png"/></svg>', "refers to"),
    (b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>', "DTD"),
    (b"<html><body/></html>", "not an SVG"),
])
def test_a_file_that_is_not_a_safe_image_is_refused_with_the_reason(content, reason):
    with pytest.raises(ImageError, match=reason):
        check_image(content)


def test_a_logo_is_uploaded_shown_served_safely_and_removed(admin, role_client):
    url = reverse("system:settings_section", args=["logo"])
    response = admin.post(url, {"logo": SimpleUploadedFile("logo.svg", SVG, content_type="image/png")})
    assert response.status_code == 302
    logo = ReportLogo.load()
    assert (logo.content_type, logo.filename, logo.width) == ("image/svg+xml", "logo.svg", 120)
    page = admin.get(SETTINGS)
    assert reverse("system:logo").encode() in page.content and b"120\xc3\x9740 px" in page.content
    served = admin.get(reverse("system:logo"))
    assert served.content == SVG and served["Content-Type"] == "image/svg+xml"
    assert "sandbox" in served["Content-Security-Policy"]
    event = AuditEvent.objects.get(action=Action.CONFIGURATION)
    assert event.after["filename"] == "logo.svg" and event.after["size"] == len(SVG)
    assert "content" not in event.after
    assert admin.post(url, {"remove": "on"}).status_code == 302
    assert not ReportLogo.load().present
    assert admin.get(reverse("system:logo")).status_code == 404


def test_a_bad_logo_is_refused_on_the_page_and_the_old_one_kept(admin):
    url = reverse("system:settings_section", args=["logo"])
    admin.post(url, {"logo": SimpleUploadedFile("logo.png", png())})
    refused = admin.post(url, {"logo": SimpleUploadedFile("evil.svg", b'<svg xmlns="http://www.w3.org/2000/svg" '
                                                                      b'onload="x()"/>')})
    assert refused.status_code == 400
    assert "event attribute" in str(refused.context["logo_form"].errors)
    assert ReportLogo.load().filename == "logo.png"


def test_without_ldap_settings_the_page_says_which_variable_is_missing(admin, monkeypatch):
    for name in ("CALLTALLY_LDAP_URL", "CALLTALLY_LDAP_BASE_DN"):
        monkeypatch.delenv(name, raising=False)
    page = admin.get(SETTINGS)
    assert b"LDAP is not set up: CALLTALLY_LDAP_URL is not set" in page.content
    answer = admin.post(reverse("system:settings_section", args=["ldap-test"]), follow=True)
    assert b"LDAP test: CALLTALLY_LDAP_URL is not set" in answer.content
    assert b"Last test" in answer.content


def test_the_ldap_settings_are_shown_as_read_with_the_password_only_as_set(admin, monkeypatch):
    monkeypatch.setenv("CALLTALLY_LDAP_URL", "ldap://127.0.0.1:1")
    monkeypatch.setenv("CALLTALLY_LDAP_BASE_DN", "ou=people,dc=example,dc=org")
    monkeypatch.setenv("CALLTALLY_LDAP_BIND_DN", "cn=reader,dc=example,dc=org")
    monkeypatch.setenv("CALLTALLY_LDAP_PASSWORD", "very secret bind")
    page = admin.get(SETTINGS)
    assert b"ou=people,dc=example,dc=org" in page.content and b"(set)" in page.content
    assert b"very secret bind" not in page.content
    answer = admin.post(reverse("system:settings_section", args=["ldap-test"]), follow=True)
    assert b"cannot reach ldap://127.0.0.1:1" in answer.content
    sync = admin.post(reverse("system:settings_section", args=["ldap-sync"]), follow=True)
    assert b"Last sync" in sync.content
    assert AuditEvent.objects.filter(details__sync="ldap", details__ok=False).exists()


def test_ldap_test_and_sync_now_against_a_real_directory_keep_their_last_result(admin, directory, make_site):  # noqa: F811
    make_site("HQ")
    tested = admin.post(reverse("system:settings_section", args=["ldap-test"]), follow=True)
    assert b"the search finds 4 entries" in tested.content
    synced = admin.post(reverse("system:settings_section", args=["ldap-sync"]), follow=True)
    assert b"4 entries: 4 created" in synced.content
    assert Person.objects.filter(username__in=["alice", "bob", "carol", "dave"]).count() == 4
    status = LdapStatus.load()
    assert status.last_test_ok and status.last_sync_ok and status.last_sync_report["created"] == 4
    page = admin.get(SETTINGS)
    assert b"Last test" in page.content and b"Last sync" in page.content
    assert directory.url.encode() in page.content
