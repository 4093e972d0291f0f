"""The project's layers: no module imports one above it, and the plain-Python cores stay plain.

Each app is a layer, above everything it is made from: a call has a site, a
spool segment, an extension and a person, so ``calls`` stands above
``sites``, ``spool`` and ``directory``; the Miner makes calls, so it stands
above them; the service host runs the Miner and the Recorder; the web shows
everything. An import may go down or sideways within a layer, never up. A
command lives in the lowest app that holds everything it uses (``site`` in
``rating``, because ``site set --tariff`` assigns a plan; ``accounts`` in
``calls``, because ``accounts unallocated`` reads calls).

Above every layer stand the web *faces*: each app's pages (``views``, ``urls``,
``tables``, ``filtersets``, ``api``, ``templatetags``, ``admin``), the generic
page kit (``webkit``) and the shell (``web``). A page shows what it shows — a
site's page lists its connections and counts its calls, and every page asks
the signed-in account's scope — so a face may import any app's domain modules,
the kit and the faces of its own app; no domain module ever imports a face.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]

# Bottom first. A module may import modules of its own layer or of the layers below.
LAYERS = [
    # Foundations: settings and helpers that know no domain.
    {"vocabulary", "conf", "settings", "wsgi", "forking", "db", "cliutil", "secretstore", "claims"},
    # Plain-Python domain cores.
    {"drivers", "numbering"},
    # What happened, and who did it: knows no domain.
    {"audit"},
    {"sites"},
    {"spool"},
    {"directory"},
    {"accounts"},
    {"calls"},
    {"rating"},
    {"collectors"},
    {"system"},
    {"miner"},
    {"reports"},
    {"jobs"},
    # The Scheduler's work: scheduled reports, alerts, budgets, retention and privacy.
    {"schedules", "alerts", "budgets", "privacy"},
    {"services"},
    {"setup"},
    # The faces (see the module's doc): the page kit, the web shell and the API shell.
    {"webkit", "web", "api"},
    # The project's entry points.
    {"urls", "cli"},
]
LAYER_OF = {unit: index for index, units in enumerate(LAYERS) for unit in units}
# An app's modules (or packages) that are its web face.
FACE_NAMES = {"views", "urls", "tables", "filtersets", "api", "templatetags", "admin"}
FACE_UNITS = {"webkit", "web", "api"}
# Modules that must never load Django, even indirectly: they are tested and reasoned
# about as plain Python.
PLAIN_PYTHON = [
    "calltally.vocabulary", "calltally.drivers", "calltally.drivers.detect", "calltally.numbering",
    "calltally.rating.engine", "calltally.miner.classify", "calltally.miner.rows", "calltally.miner.legs",
]


def unit_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "calltally" else None


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of the file, at any depth (function-level ones too)."""
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    package = list(relative.parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def source_files():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if "tests" in parts or "migrations" in parts or path.name == "conftest.py":
            continue
        yield path


def test_every_part_of_the_package_has_a_layer():
    units = {path.relative_to(PACKAGE).with_suffix("").parts[0] for path in source_files()} - {"__init__"}
    assert units <= set(LAYER_OF), f"give these a layer in LAYERS: {sorted(units - set(LAYER_OF))}"


def is_face(parts: tuple[str, ...] | list[str]) -> bool:
    """Whether a module (its dotted parts under calltally) is a web face (``undefined_views``: more
    pages of an app, kept beside its ``views``)."""
    return bool(parts) and (parts[0] in FACE_UNITS or any(
        part in FACE_NAMES or part.endswith("_views") for part in parts[1:]))


def test_no_module_imports_a_layer_above_its_own():
    upward = []
    for path in source_files():
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        unit = parts[0]
        if unit == "__init__":
            continue
        face = is_face(parts)
        for line, module in imports(path):
            target = unit_of(module)
            if not target or target not in LAYER_OF:
                continue
            where = f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
            target_parts = module.split(".")[1:]
            if is_face(target_parts):
                if not face:
                    upward.append(f"{where} (a domain module never imports a web face)")
                elif target not in FACE_UNITS and target != unit:
                    upward.append(f"{where} (a face imports the faces of its own app only)")
            elif not face and LAYER_OF[target] > LAYER_OF[unit]:
                upward.append(f"{where} ({unit} is below {target})")
    assert not upward, "imports that run upward:\n" + "\n".join(upward)


def test_the_plain_python_cores_never_load_django():
    code = (
        "import importlib, sys\n"
        f"for name in {PLAIN_PYTHON!r}:\n"
        "    importlib.import_module(name)\n"
        "from calltally.drivers import registry\n"
        "registry()\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not loaded, f'django loaded: {loaded[:5]}'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_layer_check_sees_an_upward_import(tmp_path, monkeypatch):
    # The check must be able to fail: a sites module importing the Miner is caught.
    fake = tmp_path / "calltally"
    (fake / "sites").mkdir(parents=True)
    (fake / "sites" / "bad.py").write_text("def f():\n    from calltally.miner.pipeline import SiteMiner\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    try:
        test_no_module_imports_a_layer_above_its_own()
    except AssertionError as exc:
        assert "sites/bad.py:2 imports calltally.miner.pipeline" in str(exc)
    else:
        raise AssertionError("an upward import went unnoticed")
