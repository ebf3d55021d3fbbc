"""The committed response models are what datamodel-code-generator makes of docs/openapi.json today."""

from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def generator() -> ModuleType:
    path = REPO / "clients" / "python" / "scripts" / "generate_models.py"
    spec = importlib.util.spec_from_file_location("generate_models", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_models_are_fresh() -> None:
    script = generator()

    generated = script.generate()  # into a temporary directory, formatted as the committed file

    committed = script.TARGET.read_text(encoding="utf-8")
    diff = "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True), generated.splitlines(keepends=True), "committed", "generated", n=1
        )
    )
    assert generated == committed, f"run `make client-models`: the models are stale\n{diff[:4000]}"


def test_a_changed_document_changes_the_models(tmp_path: Path) -> None:
    """The comparison above can fail: a schema change shows up in the generated text."""
    import json

    script = generator()
    document = json.loads(script.OPENAPI.read_text(encoding="utf-8"))
    document["components"]["schemas"]["Pagination"]["properties"]["pageCount"] = {"type": "integer"}
    changed = tmp_path / "openapi.json"
    changed.write_text(json.dumps(document), encoding="utf-8")

    assert "pageCount" in script.generate(changed)
