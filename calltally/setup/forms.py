"""The setup wizard's own forms: a sample file to detect the driver from, and the tariff step.

The site and its connection are checked by the forms every other page and command uses
(``sites.forms.SiteForm``, ``collectors.forms.ConnectionForm``); the tariff step reads a file with
the readers of `calltally tariff load` and `tariff rates-import` (``planfile.parse_plan``,
``rating.services.parse_deck``) and stores it with theirs, at the end.
"""

from __future__ import annotations

import io
import secrets
from pathlib import Path, PurePath

from django import forms
from django.conf import settings

from calltally.drivers.detect import Candidate, detect
from calltally.rating import services as rating
from calltally.rating.models import TariffPlan
from calltally.rating.planfile import PlanFileError, parse_plan

SAMPLE_BYTES = 1024 * 1024  # the start of a sample is enough to tell its PBX
UPLOADS = "setup-uploads"  # under the data dir: a plan file waits there until the wizard's end


class DetectForm(forms.Form):
    sample = forms.FileField(label="Sample of the PBX's records",
                             help_text="A file the PBX wrote (a CDR file, a capture of its SMDR output): CallTally "
                                       "reads its first lines with every driver and picks the one that understands "
                                       "them best.")

    def candidates(self) -> list[Candidate]:
        data = self.cleaned_data["sample"].read(SAMPLE_BYTES)
        return detect(data)


def upload_folder() -> Path:
    folder = Path(settings.DATA_DIR) / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def problems_text(error: PlanFileError) -> list[str]:
    lines = str(error).splitlines()
    return [line.strip() for line in lines[1:]] or [str(error)]


class TariffForm(forms.Form):
    """How the new site's calls are priced: no tariff yet, a plan already loaded, or a file."""

    NONE, PLAN, FILE = "none", "plan", "file"
    mode = forms.ChoiceField(label="Tariff", widget=forms.RadioSelect, initial="none", choices=(
        ("none", "No tariff yet: calls are stored without a cost (a plan can be assigned later)"),
        ("plan", "A plan already loaded"),
        ("file", "Upload a plan file (.toml) or a rate deck (.csv) for a loaded plan")))
    plan = forms.ModelChoiceField(label="Plan", queryset=TariffPlan.objects.all(), required=False,
                                  empty_label="Choose a plan…",
                                  help_text="The plan to assign; for a rate deck, the plan whose rates it replaces.")
    file = forms.FileField(label="Plan file or rate deck", required=False,
                           help_text="Read as `calltally tariff load` (TOML) or `tariff rates-import` (CSV) read it; "
                                     "stored only when the wizard finishes.")

    def __init__(self, *args, kept: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kept = kept or {}  # a file given before (the step visited again)
        self.problems: list[str] = []
        self.result: dict = {}

    def clean(self):
        cleaned = super().clean()
        mode = cleaned.get("mode")
        plan = cleaned.get("plan")
        if mode == self.NONE:
            self.result = {"mode": mode}
        elif mode == self.PLAN:
            if plan is None:
                self.add_error("plan", "Choose the plan to assign.")
            else:
                self.result = {"mode": mode, "plan": plan.name}
        elif mode == self.FILE:
            self.result = self._file(cleaned.get("file"), plan)
        return cleaned

    def _file(self, upload, plan) -> dict:
        if upload is None:
            if self.kept.get("mode") == self.FILE and Path(self.kept.get("path", "")).is_file():
                name, text = self.kept["name"], Path(self.kept["path"]).read_text(encoding="utf-8")
            else:
                self.add_error("file", "Choose the file to upload.")
                return {}
        else:
            name = PurePath(upload.name).name
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                self.add_error("file", f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start}).")
                return {}
        suffix = PurePath(name).suffix.lower()
        try:
            if suffix == ".toml":
                spec = parse_plan(text, source=name)
                summary = f"plan {spec.name} from {spec.valid_from}, {spec.currency}, {len(spec.rates)} rates"
                plan_name = spec.name
            elif suffix == ".csv":
                if plan is None:
                    self.add_error("plan", "Choose the plan whose rates this deck replaces.")
                    return {}
                rows = rating.parse_deck(plan.name, io.StringIO(text, newline=""), source=name)
                summary = f"{len(rows)} rates for plan {plan.name}"
                plan_name = plan.name
            else:
                self.add_error("file", f"{name}: give a plan file ending in .toml or a rate deck ending in .csv.")
                return {}
        except PlanFileError as exc:
            self.problems = problems_text(exc)
            self.add_error("file", f"{name}: {len(self.problems)} problem{'s' if len(self.problems) > 1 else ''}.")
            return {}
        except ValueError as exc:
            self.add_error("plan", str(exc))
            return {}
        path = Path(self.kept["path"]) if upload is None else upload_folder() / f"{secrets.token_hex(8)}{suffix}"
        if upload is not None:
            path.write_text(text, encoding="utf-8")
        return {"mode": self.FILE, "kind": suffix[1:], "name": name, "path": str(path), "plan": plan_name,
                "summary": summary}


def store_tariff(site, choice: dict) -> str:
    """Store the tariff step's choice for a site just made (inside the wizard's transaction): load the
    file as `tariff load` / `rates-import` would, then assign the plan. Returns what was done."""
    mode = choice.get("mode", TariffForm.NONE)
    if mode == TariffForm.NONE:
        return "no tariff yet"
    if mode == TariffForm.FILE:
        text = Path(choice["path"]).read_text(encoding="utf-8")
        if choice["kind"] == "toml":
            spec = parse_plan(text, source=choice["name"])
            rating.store_plan(spec, source=choice["name"])
        else:
            rows = rating.parse_deck(choice["plan"], io.StringIO(text, newline=""), source=choice["name"])
            rating.store_deck(choice["plan"], rows, source=choice["name"])
    rating.assign_plan(site, choice["plan"])
    return f"tariff plan {choice['plan']}"


def forget_upload(choice: dict | None) -> None:
    """Remove a plan file the wizard kept (it was stored, or the wizard was started again)."""
    if choice and choice.get("path"):
        path = Path(choice["path"])
        if path.parent == upload_folder():
            path.unlink(missing_ok=True)
