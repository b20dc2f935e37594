"""The layout of ``composer.cli``: one module per model family plus shared parts, no import cycles, and a
``composer --help`` that does not load PyTorch."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from tests.waiting import scaled

REPO = Path(__file__).resolve().parents[1]
CLI = REPO / "composer" / "cli"


def cli_imports(path: Path) -> set[str]:
    """The ``composer.cli`` modules a file imports, anywhere in it (handlers included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "composer.cli":
                names |= {f"composer.cli.{alias.name}" for alias in node.names}
    return {name for name in names if name.startswith("composer.cli.")}


def test_the_cli_modules_are_there():
    assert {p.stem for p in CLI.glob("*.py")} >= {"main", "common", "melody", "harmony", "benchmark", "models"}


def test_no_cli_module_imports_main_and_families_import_only_common():
    for path in sorted(CLI.glob("*.py")):
        if path.stem == "main":
            continue
        imported = cli_imports(path)
        assert "composer.cli.main" not in imported, f"{path.name} imports composer.cli.main"
        assert imported <= {"composer.cli.common"}, f"{path.name} imports {sorted(imported)}"


def test_main_builds_the_parser_from_the_family_modules():
    assert cli_imports(CLI / "main.py") >= {"composer.cli.common"}
    source = (CLI / "main.py").read_text()
    assert "from composer.cli import benchmark, harmony, melody, models" in source


def run_python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=scaled(120))


def test_importing_the_cli_and_building_its_parser_loads_neither_torch_nor_numpy():
    result = run_python("import sys; import composer.cli.main as m; m.build_parser(); "
                        "heavy = [n for n in ('torch', 'numpy') if n in sys.modules]; "
                        "assert not heavy, heavy")
    assert result.returncode == 0, result.stderr


def test_help_runs_without_torch():
    result = run_python("import sys; from composer.cli.main import main\n"
                        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
                        "assert 'torch' not in sys.modules\n")
    assert result.returncode == 0, result.stderr
    for command in ("train", "generate", "info", "strip", "harmonize", "regenerate", "evaluate-harmony",
                    "benchmark"):
        assert command in result.stdout


def test_python_dash_m_composer_is_the_command():
    result = subprocess.run([sys.executable, "-m", "composer", "generate", "--help"], capture_output=True,
                            text=True, cwd=REPO, timeout=scaled(120), env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0 and "--prefix" in result.stdout


def test_the_benchmark_splits_named_for_argparse_are_the_benchmark_files_splits():
    from composer.cli.benchmark import SPLITS
    from composer.polyphonic.data import SPLITS as DATA_SPLITS

    assert SPLITS == DATA_SPLITS
