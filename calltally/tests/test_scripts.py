"""scripts/ensure-venv, which scripts/start and scripts/test install with: pip runs only when
the environment is missing or the project's dependencies changed.

The script is run for real (a real virtual environment, a real pip) on a tiny project
of its own, so the test installs one small package, not CallTally's dependencies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "ensure-venv-probe"
version = "1.0"
dependencies = []
"""

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "ensure-venv", root / "scripts" / "ensure-venv")
    (root / "pyproject.toml").write_text(PROJECT)
    (root / "ensure_venv_probe").mkdir()
    (root / "ensure_venv_probe" / "__init__.py").write_text("")
    return root


def ensure_venv(root: Path, *args: str, offline: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": sys.executable}
    if offline:
        # As on a server without a package index: any pip install would fail.
        env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS="")
    return subprocess.run([str(root / "scripts" / "ensure-venv"), *args], cwd="/", env=env, capture_output=True,
                          text=True, timeout=600)


def test_the_second_start_installs_nothing_and_needs_no_package_index(project):
    first = ensure_venv(project)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("installing")
    stamp = project / ".venv" / ".calltally-installed"
    recorded = stamp.read_text()

    second = ensure_venv(project, offline=True)

    assert second.returncode == 0, second.stderr
    assert second.stdout == ""
    assert stamp.read_text() == recorded


def test_changed_dependencies_or_a_new_extra_install_again(project):
    assert ensure_venv(project).returncode == 0
    (project / "pyproject.toml").write_text(PROJECT.replace('version = "1.0"', 'version = "1.1"')
                                            + '\n[project.optional-dependencies]\ntest = []\n')

    changed = ensure_venv(project)
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.startswith("installing")

    extra = ensure_venv(project, "test")
    assert extra.returncode == 0, extra.stderr
    assert extra.stdout.startswith("installing CallTally with [test]")
    # The extra's install holds the plain one too: neither needs pip any more.
    assert ensure_venv(project, "test", offline=True).stdout == ""
    assert ensure_venv(project, offline=True).stdout == ""
