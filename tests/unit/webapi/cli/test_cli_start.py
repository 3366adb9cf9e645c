"""The command line starts light: ``--help`` and commands that need no vector import neither
torch nor ONNX Runtime, and the lazy command table lists exactly the commands that exist."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import click
from flask.cli import AppGroup

from webapi.cli import COMMANDS, cli

HEAVY = ("torch", "open_clip", "onnxruntime", "tokenizers")


def _heavy_modules_after(script: str, cwd: Path) -> list[str]:
    probe = textwrap.dedent(script) + textwrap.dedent(
        f"""
        import json, sys
        print("HEAVY=" + json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    line = [row for row in done.stdout.splitlines() if row.startswith("HEAVY=")][-1]
    return list(json.loads(line.removeprefix("HEAVY=")))


def test_help_loads_no_model_runtime(tmp_path: Path) -> None:
    script = """
        from click.testing import CliRunner
        from webapi.cli import cli
        result = CliRunner().invoke(cli, ["--help"])
        assert result.exit_code == 0 and "search" in result.output, result.output
        result = CliRunner().invoke(cli, ["search", "--help"])
        assert result.exit_code == 0 and "--mode" in result.output, result.output
    """
    assert _heavy_modules_after(script, tmp_path) == []


def test_words_only_searches_load_no_model_runtime(tmp_path: Path) -> None:
    """Keyword mode, and hybrid over an index without vectors, never load the model."""
    script = f"""
        import json
        from pathlib import Path
        from click.testing import CliRunner
        from indexer.backends import open_backend
        from indexer.pipeline import index_records
        from indexer.records import MapRecord
        from indexer.settings import load_settings
        from webapi.cli import cli

        data = Path({str(tmp_path / "data")!r})
        settings = load_settings({{"data_dir": data}})
        backend = open_backend(settings)
        records = [
            MapRecord(id=f"t:{{n}}", source="t", title=f"Chart of the harbour {{n}}")
            for n in range(3)
        ]
        index_records(records, settings=settings, backend=backend, embedder=None)
        backend.close()
        for mode in ("keyword", "hybrid"):
            result = CliRunner().invoke(
                cli, ["search", "harbour", "--mode", mode, "--json", "--data-dir", str(data)]
            )
            assert result.exit_code == 0, result.output
            assert json.loads(result.output)["total"] == 3, result.output
    """
    assert _heavy_modules_after(script, tmp_path) == []


def test_the_command_table_lists_exactly_the_registered_commands() -> None:
    registered: set[str] = set()
    for module_name in {module for module, _ in COMMANDS.values() if module is not None}:
        group = AppGroup()
        importlib.import_module(f"webapi.cli.{module_name}").register(group)
        for name in group.commands:
            assert COMMANDS[name][0] == module_name, name
        registered |= set(group.commands)
    assert registered == {name for name, (module, _) in COMMANDS.items() if module is not None}
    with click.Context(cli) as ctx:
        for name in registered:
            assert cli.get_command(ctx, name) is not None, name
