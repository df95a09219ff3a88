"""Dependencies point one way (pyproject.toml [tool.importlinter]): config and
the demo loader on top, the apps in the middle, core at the bottom importing no app; no app
imports another's pages or API. The contracts run here as well as in `make lint`, and every app
of ours must be named in them, so a new app cannot slip past the layering."""

import subprocess
import sys
import tomllib
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "contracts"]
ON_TOP = {"warmstation.config", "warmstation.demo"}
# An app's entry points from the outside: only the app itself and config may import them.
ENTRY_POINTS = ("api", "hsds", "urls", "views")


def _our_apps() -> list[str]:
    return [c.name for c in apps.get_app_configs() if c.name.startswith("warmstation.")]


def test_the_import_contracts_hold():
    linter = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_every_app_sits_in_a_layer():
    layers = next(c for c in CONTRACTS if c["id"] == "layers")["layers"]
    named = {m.strip() for layer in layers for m in layer.replace("|", ":").split(":")}
    missing = set(_our_apps()) - named
    assert not missing, f"add {sorted(missing)} to the layers contract in pyproject.toml"
    assert layers[-1] == "warmstation.core"
    assert {m.strip() for m in layers[0].split("|")} == ON_TOP


def test_every_apps_pages_and_api_are_protected():
    protected = {m for c in CONTRACTS if c["type"] == "protected"
                 for m in c["protected_modules"]}
    for name in _our_apps():
        if name in ON_TOP or name == "warmstation.core":
            continue
        package = ROOT / Path(*name.split("."))
        entry = {f"{name}.{f.stem}" for f in package.glob("*.py")
                 if f.stem.split("_")[0] in ENTRY_POINTS}
        assert entry <= protected, f"protect {sorted(entry - protected)} in pyproject.toml"


def test_core_names_no_app_even_as_a_string():
    """import-linter sees imports; a dotted path handed to import_string is an import too."""
    apps_of_ours = [c.name for c in apps.get_app_configs()
                    if c.name.startswith("warmstation.") and c.name != "warmstation.core"]
    offenders = []
    for path in (ROOT / "warmstation" / "core").rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(ROOT)}: {name}" for name in apps_of_ours
                      if f'"{name}.' in text or f"'{name}." in text]
    assert not offenders
