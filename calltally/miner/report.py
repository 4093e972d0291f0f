"""Human-readable mining summaries for the CLI."""

from __future__ import annotations

from .pipeline import MineSummary


def summary_lines(summary: MineSummary) -> list[str]:
    data = summary.as_dict()
    by_direction = ", ".join(f"{k} {v}" for k, v in data["calls_by_direction"].items())
    lines = [
        f"records read      {data['records']:>9}",
        f"calls stored      {data['calls']:>9}  ({by_direction})",
    ]
    if data["merged_calls"]:
        lines.append(f"merged calls      {data['merged_calls']:>9}  (made of {data['merged_legs']} of those records: "
                     "ring groups, transfers, forwards)")
    reasons = ", ".join(f"{k} {v}" for k, v in data["discarded_by_reason"].items())
    lines.append(f"discarded         {data['discarded']:>9}" + (f"  ({reasons})" if reasons else ""))
    lines.append(f"skipped internal  {data['skipped_internal']:>9}")
    lines.append(f"not calls         {data['skipped_not_calls']:>9}  (headers, blank lines)")
    if data["unrated"]:
        lines.append(f"unrated           {data['unrated']:>9}  (outbound calls no tariff rate matched)")
    if data["unallocated_account_codes"]:
        count = data["unallocated_account_codes"]
        lines.append(f"unknown accounts  {count:>9}  (outbound calls with an unallocated code)")
    if data["auto_acquired_extensions"]:
        lines.append(f"new extensions    {data['auto_acquired_extensions']:>9}  (automatic acquisition)")
    if summary.reprocessed:
        lines.append(f"reprocessed       {summary.reprocessed:>9}")
    lines.append(f"seconds           {data['seconds']:>9.2f}")
    return lines
