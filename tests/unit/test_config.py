"""Settings are checked when a function starts: a missing, empty or unresolved variable fails the cold
start with a message naming it, before any request is served."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import pytest

from local.stack.template import load_template
from request_logs.config import ENVIRONMENT_VARIABLES, MissingSetting, get_settings, require_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch):
    for variable in ENVIRONMENT_VARIABLES.values():
        monkeypatch.setenv(variable, f"value-of-{variable.lower()}")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_present_settings_are_typed_attributes() -> None:
    settings = require_settings("logs_table", "cursor_signing_key")
    assert settings.logs_table == "value-of-logs_table"
    assert settings.cursor_signing_key == "value-of-cursor_signing_key"


@pytest.mark.parametrize("value", ["", "   "])
def test_a_missing_or_empty_variable_is_named(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("STATS_TABLE", value)
    monkeypatch.delenv("LOGS_TABLE")
    get_settings.cache_clear()
    with pytest.raises(MissingSetting, match="LOGS_TABLE is not set; STATS_TABLE is not set"):
        require_settings("logs_table", "stats_table", "content_table")
    require_settings("content_table")  # what is there still reads


def test_an_unresolved_secret_reference_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURSOR_SIGNING_KEY", "{{resolve:secretsmanager:arn:aws:secretsmanager:x:SecretString}}")
    get_settings.cache_clear()
    with pytest.raises(MissingSetting, match="CURSOR_SIGNING_KEY is an unresolved dynamic reference"):
        require_settings("cursor_signing_key")


def _load(app: Path) -> None:
    spec = importlib.util.spec_from_file_location(f"_config_probe_{uuid.uuid4().hex}", app)
    assert spec is not None and spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


# Functions that touch no table, bucket or secret: nothing to require.
ANSWERS_FROM_THE_REQUEST_ALONE = {"MethodNotAllowedFunction"}


@pytest.mark.parametrize("logical_id", sorted(load_template().functions()))
def test_each_function_fails_its_cold_start_without_a_table_it_uses(
    monkeypatch: pytest.MonkeyPatch, logical_id: str
) -> None:
    spec = load_template().functions()[logical_id]
    app = spec.code_uri / "app.py"
    required = [variable for variable in ENVIRONMENT_VARIABLES.values() if f'"{_setting(variable)}"' in app.read_text()]
    if logical_id in ANSWERS_FROM_THE_REQUEST_ALONE:
        assert not required and "Policies" not in load_template().resources[logical_id]["Properties"], logical_id
        return
    assert required, f"{logical_id} names the settings it needs"
    # Every setting a function requires is one the template gives it.
    assert set(required) <= set(spec.environment), logical_id
    for variable in required:
        monkeypatch.setenv(variable, "")
        get_settings.cache_clear()
        with pytest.raises(MissingSetting, match=variable):
            _load(app)
        monkeypatch.setenv(variable, f"value-of-{variable.lower()}")
    get_settings.cache_clear()
    _load(app)  # with all of them, it starts


def _setting(variable: str) -> str:
    (name,) = [name for name, env in ENVIRONMENT_VARIABLES.items() if env == variable]
    return name
