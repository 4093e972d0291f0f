"""The OpenAPI schema and its Swagger UI page."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from calltally.calls.api.serializers import CallSerializer
from calltally.calls.services import EXPORT_COLUMNS

pytestmark = pytest.mark.django_db


def test_the_schema_generates_and_validates_without_a_warning(tmp_path):
    # --fail-on-warn: a field whose type the generator had to guess fails here.
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ("/api/calls/", "/api/calls/{id}/", "/api/reports/", "/api/reports/{name}/", "/api/sites/{code}/",
                 "/api/connections/", "/api/people/", "/api/accounts/{id}/"):
        assert f"  {path}:" in text
    assert "token:" in text and "in: header" in text


def test_the_call_fields_are_the_columns_of_calls_export():
    assert list(CallSerializer().fields) == EXPORT_COLUMNS


def test_the_schema_is_served_to_a_token_and_refused_without_one(token_client, client):
    assert client.get("/api/schema/").status_code == 401
    response = token_client("user").get("/api/schema/?format=json")
    assert response.status_code == 403  # a user without a person sees nothing, the schema included
    assert token_client("administrator").get("/api/schema/", HTTP_ACCEPT="application/json").status_code == 200


def test_the_docs_page_loads_swagger_ui_from_static_files_and_runs_no_inline_code(admin_client, client):
    assert client.get(reverse("api:docs")).status_code == 302  # to the sign-in page, as every page
    page = admin_client.get(reverse("api:docs"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline script"
    assert "<style" not in html and " style=" not in html
    script = re.search(r'<script src="([^"]*script=[^"]*)"', html).group(1).replace("&amp;", "&")
    init = admin_client.get(script)
    assert init.status_code == 200 and init["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in init.content.decode() and "/api/schema/" in init.content.decode()


def test_the_schema_comes_as_json_when_asked(token_client):
    response = token_client("administrator").get("/api/schema/?format=json")
    assert response.status_code == 200 and response.json()["info"]["title"] == "CallTally API"
