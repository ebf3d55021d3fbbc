"""``make build`` as a deploy would run it, into a temporary directory: SAM's makefile build method
(layers/shared/Makefile, functions/Makefile) on whatever Python runs the tests, without Docker.

The artifacts must be for the template's runtime and architecture, not the build host's: every wheel in
the layer is pure Python or built for that CPython on that architecture, every extension module is an ELF
for that machine, boto3 is left to the runtime, and the package and each handler are where Lambda looks.
Needs the package index (pip downloads the layer's wheels, from ~/.cache/pip when it can): skipped only
when the index cannot be reached.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from local.stack.template import LAYER_PATH, ROOT, load_template_document

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The runtime's names for the architectures of the template, as wheel platform tags and ELF e_machine.
WHEEL_ARCHITECTURE = {"arm64": "aarch64", "x86_64": "x86_64"}
ELF_MACHINE = {"arm64": 183, "x86_64": 62}  # EM_AARCH64, EM_X86_64
# Lambda's python3.12+ runtimes run on Amazon Linux 2023: glibc 2.34; a newer manylinux wheel fails to load.
RUNTIME_GLIBC = (2, 34)
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer"}
LAYER = "SharedLayer"
PARENT_MAKE = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}


def _index_unreachable() -> str | None:
    """Why the package index pip uses cannot be reached, or None when it answers."""
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/").rstrip("/")
    try:
        with urllib.request.urlopen(f"{index}/pydantic-core/", timeout=10) as answer:
            answer.read(1)
    except OSError as error:
        return f"the package index {index} is unreachable ({error}); the layer's wheels come from it"
    return None


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template_document()


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reason = _index_unreachable()
    if reason:
        pytest.skip(reason)
    target = tmp_path_factory.mktemp("sam") / "build"
    # A make started by `make test` must not inherit its jobserver or command-line variables.
    environment = {name: value for name, value in os.environ.items() if name not in PARENT_MAKE}
    environment["SAM_CLI_TELEMETRY"] = "0"
    result = subprocess.run(
        ["make", "--no-print-directory", "build", f"BUILD_DIR={target}"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"make build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return target


def _runtime(template: dict[str, Any]) -> tuple[str, str]:
    """(CPython tag such as cp313, architecture such as arm64) of every function, from the template."""
    function = template["Globals"]["Function"]
    match = re.fullmatch(r"python3\.(\d+)", function["Runtime"])
    assert match, function["Runtime"]
    (architecture,) = function["Architectures"]
    return f"cp3{match.group(1)}", architecture


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def _manylinux_glibc(platform: str, machine: str) -> tuple[int, int] | None:
    """The glibc a manylinux platform tag for ``machine`` needs (PEP 600 and its legacy aliases), else None."""
    legacy = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}
    if match := re.fullmatch(rf"manylinux_(\d+)_(\d+)_{machine}", platform):
        return int(match.group(1)), int(match.group(2))
    return legacy.get(platform.removesuffix(f"_{machine}")) if platform.endswith(f"_{machine}") else None


def _distribution(path: Path) -> str:
    return path.name.split("-", 1)[0] if path.suffix == ".dist-info" else path.stem


def _source_files(directory: Path) -> set[Path]:
    return {
        path.relative_to(directory)
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.mark.timeout(660)  # make creates the SAM CLI's virtualenv first when `make test` has not
def test_the_build_holds_the_layer_and_every_function_of_the_template(
    build_dir: Path, template: dict[str, Any]
) -> None:
    functions = _functions(template)
    assert {path.name for path in build_dir.iterdir() if path.is_dir()} == {*functions, LAYER}

    layer = build_dir / LAYER / "python"
    assert _source_files(layer / "request_logs") == _source_files(LAYER_PATH / "request_logs")
    for name, properties in functions.items():
        module = properties.get("Handler", "app.lambda_handler").rsplit(".", 1)[0].replace(".", "/") + ".py"
        built = build_dir / name / module
        assert built.read_bytes() == (ROOT / properties["CodeUri"] / module).read_bytes(), name

    assert (build_dir / "template.yaml").is_file(), "the template `sam deploy` reads"


def test_every_wheel_in_the_layer_is_for_the_template_runtime(build_dir: Path, template: dict[str, Any]) -> None:
    python, architecture = _runtime(template)
    layer = template["Resources"][LAYER]
    assert f"python3.{python[3:]}" in layer["Properties"]["CompatibleRuntimes"]
    assert architecture in layer["Properties"]["CompatibleArchitectures"]
    assert layer["Metadata"]["BuildArchitecture"] == architecture

    compiled = []
    # The layer's wheels, and those a function carries of its own (the export function's pyarrow).
    wheels = sorted((build_dir / LAYER / "python").glob("*.dist-info/WHEEL"))
    assert wheels
    wheels += sorted(build_dir.glob("*Function/*.dist-info/WHEEL"))
    for wheel in wheels:
        tags = [line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines() if line.startswith("Tag:")]
        assert tags, wheel
        for tag in tags:
            interpreter, abi, platform = tag.split("-")
            if platform == "any":
                assert abi == "none", f"{wheel.parent.name}: {tag}"
                continue
            compiled.append(wheel.parent.name)
            assert abi in {python, "abi3"}, f"{wheel.parent.name}: {tag} is not for {python}"
            assert interpreter == python or abi == "abi3", f"{wheel.parent.name}: {tag} is not for {python}"
            glibc = _manylinux_glibc(platform, WHEEL_ARCHITECTURE[architecture])
            assert glibc, f"{wheel.parent.name}: {tag} is not manylinux on {architecture}"
            assert glibc <= RUNTIME_GLIBC, f"{wheel.parent.name}: {tag} needs a newer glibc than the runtime's"
    assert any(name.startswith("pydantic_core-") for name in compiled), "pydantic-core is the layer's compiled wheel"
    assert any(name.startswith("pyarrow-") for name in compiled), "pyarrow is the export function's own"


# Lambda's limit on a function and its layers, unzipped.
UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024


def _size(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def test_every_function_with_the_layer_fits_lambdas_unzipped_limit(build_dir: Path, template: dict[str, Any]) -> None:
    layer = _size(build_dir / LAYER)
    for name in _functions(template):
        assert _size(build_dir / name) + layer < UNZIPPED_LIMIT_BYTES, name
    # Only the export function carries pyarrow: every other function is its handler alone.
    carrying = {path.parent.name for path in build_dir.glob("*/pyarrow")}
    assert carrying == {"ExportLogsFunction"}


def test_every_extension_module_is_built_for_the_runtime_machine(build_dir: Path, template: dict[str, Any]) -> None:
    python, architecture = _runtime(template)
    suffix = f".cpython-{python[2:]}-{WHEEL_ARCHITECTURE[architecture]}-linux-gnu.so"
    extensions = sorted(build_dir.rglob("*.so"))
    assert extensions, "pydantic-core brings at least one extension module"
    for extension in extensions:
        name = extension.name
        if ".cpython-" in name:
            assert name.endswith(suffix), f"{extension.relative_to(build_dir)} is not a {suffix} module"
        header = extension.read_bytes()[:20]
        assert header[:4] == b"\x7fELF", extension
        assert header[4] == 2 and header[5] == 1, f"{extension}: not a 64-bit little-endian ELF"
        (machine,) = struct.unpack_from("<H", header, 18)
        assert machine == ELF_MACHINE[architecture], f"{extension}: ELF machine {machine}, not {architecture}"


def test_nothing_the_runtime_provides_or_the_build_host_made_is_bundled(build_dir: Path) -> None:
    # A package directory or module (boto3/) and its metadata (boto3-1.40.0.dist-info/).
    bundled = [path.relative_to(build_dir) for path in build_dir.rglob("*") if _distribution(path) in RUNTIME_PROVIDED]
    assert bundled == [], "boto3, botocore and s3transfer come with the Lambda runtime"
    # Bytecode of the host's Python is dead weight for another CPython; console scripts name the host's Python.
    assert list(build_dir.rglob("*.pyc")) == []
    assert not (build_dir / LAYER / "python" / "bin").exists()
