"""Dependencies point one way: functions → api → logic → store/models → domain.

The package's rule is import-linter's contracts in pyproject.toml; this runs them, proves they catch a
use case that imports the HTTP layer, and holds the handlers (``functions/``, not a package) to the
same direction.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "shared" / "request_logs"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# What a handler may import of the package: the HTTP layer, use cases, models, pure domain; and the
# wiring every handler shares (settings, metrics).
HANDLER_IMPORTS = ("request_logs.api", "request_logs.logic", "request_logs.models", "request_logs.domain")
HANDLER_WIRING = ("request_logs.config", "request_logs.observability")


def _contract_settings() -> str:
    """The [tool.importlinter] tables of pyproject.toml, verbatim."""
    text = (ROOT / "pyproject.toml").read_text()
    return text[text.index("[tool.importlinter]") :]


def _lint(project: Path, python_path: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(python_path)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_package_keeps_every_dependency_contract() -> None:
    result = _lint(ROOT, PACKAGE.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout
    assert result.stdout.count("KEPT") == _contract_settings().count("[[tool.importlinter.contracts]]")


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("logic/pages.py", "from request_logs.api import errors", "api → logic → store/models → domain"),
        ("domain/ordering.py", "from request_logs.store import keys", "api → logic → store/models → domain"),
        ("store/logs.py", "from request_logs.models import logs", "api → logic → store/models → domain"),
        ("api/params.py", "from request_logs.store import logs", "the HTTP layer reaches storage only"),
        ("logic/totals.py", "import aws_lambda_powertools.event_handler", "use cases and storage do not know"),
        ("domain/rollups.py", "import boto3", "the domain is pure"),
    ],
)
def test_an_import_against_the_direction_breaks_a_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    copy = tmp_path / "shared" / "request_logs"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text(target.read_text() + f"\n{line}  # against the direction\n")
    (tmp_path / "pyproject.toml").write_text(_contract_settings())

    result = _lint(tmp_path, copy.parent)

    assert result.returncode != 0
    broken = result.stdout[result.stdout.index("Broken contracts") :]
    assert contract in broken, result.stdout


def _package_imports(path: Path) -> list[str]:
    modules = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.append(node.module)
        elif isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
    return [module for module in modules if module.split(".")[0] == "request_logs"]


HANDLERS = sorted((ROOT / "functions").glob("*/app.py"))


@pytest.mark.parametrize("handler", HANDLERS, ids=[path.parent.name for path in HANDLERS])
def test_handlers_import_only_the_layers_above_storage(handler: Path) -> None:
    imported = _package_imports(handler)
    assert imported, "a handler calls into the package"
    for module in imported:
        assert module in HANDLER_WIRING or module.startswith(HANDLER_IMPORTS), f"{handler}: {module}"


def test_the_handler_check_sees_a_storage_import(tmp_path: Path) -> None:
    wrong = tmp_path / "app.py"
    wrong.write_text("from request_logs.store import logs as log_store\n")
    (module,) = _package_imports(wrong)
    assert not module.startswith(HANDLER_IMPORTS)
