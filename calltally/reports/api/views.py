"""``/api/reports/`` (the catalogue) and ``/api/reports/<name>/?options…``: the very object
`calltally report NAME --format json` prints — ``{"report", "options", "columns", "rows", "totals"}``
— for the options of the query string, validated by the report options form (the web's and the
CLI's) and run with the account's scope."""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from calltally.api.resources import ApiView, form_errors
from calltally.reports import catalogue
from calltally.reports.options import OptionsError, OptionsForm, validate

OPTIONS = [OpenApiParameter(name, str, description=str(field.help_text or field.label or name))
           for name, field in OptionsForm.base_fields.items()]

ENTRY = inline_serializer("ReportEntry", {
    "name": serializers.CharField(), "title": serializers.CharField(), "group": serializers.CharField(),
    "description": serializers.CharField(), "url": serializers.CharField()})
RESULT = inline_serializer("ReportResult", {
    "report": serializers.CharField(),
    "options": serializers.DictField(help_text="The options the report ran with (defaults filled in)."),
    "columns": serializers.ListField(child=serializers.DictField(), help_text="name, label and type of each column"),
    "rows": serializers.ListField(child=serializers.DictField(), help_text="One object per row, by column name: "
                                  "numbers as numbers, money as decimal strings."),
    "totals": serializers.DictField(help_text="Sums of the rows (money by currency, as decimal strings)."),
})


class ReportListView(ApiView):
    """Every report of the catalogue, by group."""

    @extend_schema(responses={200: serializers.ListSerializer(child=ENTRY)}, operation_id="reports_list")
    def get(self, request):
        return Response([{"name": r.name, "title": r.title, "group": r.group, "description": r.description,
                          "url": request.build_absolute_uri(reverse("api:report-detail", args=[r.name]))}
                         for r in catalogue.catalogue()])


class ReportView(ApiView):
    """One report run for the query's options, with the account's scope (a manager's summary
    holds only their subtree's calls, a user's only their own)."""

    @extend_schema(parameters=OPTIONS, responses={200: RESULT}, operation_id="reports_run")
    def get(self, request, name: str):
        try:
            report = catalogue.get_report(name)
        except catalogue.UnknownReport as exc:
            raise exceptions.NotFound(str(exc)) from None
        try:
            options = validate(request.query_params, scope=self.scope)
        except OptionsError as exc:
            raise exceptions.ValidationError(form_errors(exc.form)) from None
        result = report.run(options, self.scope)
        if report.name in catalogue.STREAMED and request.accepted_renderer.format == "json":
            # A call-shaped report can be millions of rows: written as they are read, never held.
            return StreamingHttpResponse(streamed_json(result), content_type="application/json")
        return Response(result.as_json())


def streamed_json(result, batch: int = 1000) -> Iterator[str]:
    """``result.as_json()`` as text, a batch of rows at a time (the same object, key for key)."""
    head = {"report": result.report.name, "options": result.options.to_dict(),
            "columns": [c.as_dict() for c in result.columns]}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "rows": ['
    separator, chunk = "", []
    for row in result.rows:
        chunk.append(separator + json.dumps(catalogue.json_row(row, result.columns), ensure_ascii=False))
        separator = ", "
        if len(chunk) >= batch:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk) + '], "totals": ' + json.dumps(catalogue.json_totals(result.totals), ensure_ascii=False) + "}"
