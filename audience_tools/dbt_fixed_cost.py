"""Measuring a cold ``dbt build`` of the committed sample, and what dbt costs before any SQL.

The sample is 738 rows: its build time is almost all dbt's own work. Each measurement runs
dbt as a fresh process, with an empty target folder and a new DuckDB file (cold: no partial
parse state, no database), and the kinds are measured in turns, round after round, so that
the machine's drift touches them alike:

- **import**: a Python process importing ``dbt.cli.main`` (nothing else);
- **parse**: ``dbt parse`` of this project;
- **build**: ``dbt build`` of the sample (what the 8-second target is about);
- **build without unit tests**: the same, ``--exclude-resource-type unit_test``;
- **one-model project**: ``dbt build`` of a project with one model and one data test on the
  same adapter, written to a temporary folder: the least any cold ``dbt build`` costs here.

Execution is the part of a build after parsing (``elapsed_time`` in ``run_results.json``).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from audience_pipeline.dbt_invoke import DbtSetup
from audience_pipeline.project import PROJECT_DIR
from audience_tools.benchmark import dbt_worker_threads, report_heading

SAMPLE_AS_OF = "2026-11-26"

_ONE_MODEL_PROJECT = {
    "dbt_project.yml": (
        "name: one_model\nversion: '1.0'\nprofile: one_model\n"
        "flags:\n  send_anonymous_usage_stats: false\n"
    ),
    "profiles.yml": (
        "one_model:\n  target: duckdb\n  outputs:\n    duckdb:\n      type: duckdb\n"
        "      path: \"{{ env_var('AUDIENCE_DUCKDB_PATH') }}\"\n      threads: 2\n"
    ),
    "models/one.sql": "select 1 as id\n",
    "models/_models.yml": (
        "models:\n  - name: one\n    columns:\n      - name: id\n        data_tests:\n"
        "          - not_null\n"
    ),
}


@dataclass(frozen=True)
class ColdRun:
    """One cold dbt command: wall time, and from run_results.json what it executed."""

    wall_seconds: float
    exit_code: int
    execution_seconds: float | None = None
    node_seconds_by_type: dict[str, float] = field(default_factory=dict)
    nodes_by_type: dict[str, int] = field(default_factory=dict)
    dbt_threads: int | None = None


@dataclass
class FixedCostResult:
    """Every round's figures, per kind of measurement."""

    runs: dict[str, list[ColdRun]] = field(default_factory=dict)

    def median_wall(self, kind: str) -> float:
        return statistics.median(run.wall_seconds for run in self.runs[kind])

    def median_execution(self, kind: str) -> float | None:
        values = [run.execution_seconds for run in self.runs[kind] if run.execution_seconds]
        return statistics.median(values) if values else None

    @property
    def all_succeeded(self) -> bool:
        return all(run.exit_code == 0 for runs in self.runs.values() for run in runs)


def write_one_model_project(folder: Path) -> Path:
    """A dbt project with one model and one data test, for dbt's fixed cost; returns it."""
    for relative, text in _ONE_MODEL_PROJECT.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def _dbt_executable() -> str:
    beside_python = Path(sys.executable).with_name("dbt")
    return str(beside_python) if beside_python.is_file() else "dbt"


def _run_results(
    target: Path,
) -> tuple[float | None, dict[str, float], dict[str, int], int | None]:
    path = target / "run_results.json"
    if not path.is_file():
        return None, {}, {}, None
    document = json.loads(path.read_text())
    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    for result in document["results"]:
        kind = result["unique_id"].split(".")[0]
        seconds[kind] = round(seconds.get(kind, 0.0) + float(result["execution_time"]), 2)
        counts[kind] = counts.get(kind, 0) + 1
    threads = dbt_worker_threads(document["results"])
    return float(document["elapsed_time"]), seconds, counts, threads


def cold_dbt(
    args: list[str], project_dir: Path, scratch: Path, dbt_vars: dict[str, str] | None = None
) -> ColdRun:
    """Run ``dbt <args>`` on ``project_dir`` as a new process with no state of its own."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    setup = DbtSetup(
        database=scratch / "audience.duckdb",
        dbt_vars=dbt_vars or {},
        target_path=scratch / "target",
        project_dir=project_dir,
        log_path=scratch / "logs",
    )
    command = [_dbt_executable(), *setup.cli_args(args)]
    started = time.perf_counter()
    completed = subprocess.run(
        command, env={**os.environ, **setup.env()}, cwd=scratch, capture_output=True
    )
    wall = time.perf_counter() - started
    execution, seconds, counts, threads = _run_results(setup.target_path)
    return ColdRun(round(wall, 3), completed.returncode, execution, seconds, counts, threads)


def time_dbt_import(scratch: Path) -> ColdRun:
    """A new Python process importing dbt's command line, timed from inside it."""
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import time; started = time.perf_counter(); import dbt.cli.main; "
            "print(time.perf_counter() - started)",
        ],
        capture_output=True,
        text=True,
        cwd=scratch,
    )
    lines = completed.stdout.strip().splitlines()
    seconds = float(lines[-1]) if completed.returncode == 0 and lines else 0.0
    return ColdRun(round(seconds, 3), completed.returncode)


def measure(rounds: int, scratch_root: Path | None = None) -> FixedCostResult:
    """Every kind of measurement, in turns, ``rounds`` times."""
    sample_vars = {"as_of_date": SAMPLE_AS_OF}
    with tempfile.TemporaryDirectory(dir=scratch_root) as temporary:
        root = Path(temporary)
        one_model = write_one_model_project(root / "one_model_project")
        kinds: dict[str, Callable[[Path], ColdRun]] = {
            "import dbt": time_dbt_import,
            "dbt parse (this project)": lambda scratch: cold_dbt(
                ["parse"], PROJECT_DIR, scratch, sample_vars
            ),
            "dbt build (sample)": lambda scratch: cold_dbt(
                ["build"], PROJECT_DIR, scratch, sample_vars
            ),
            "dbt build (sample, no unit tests)": lambda scratch: cold_dbt(
                ["build", "--exclude-resource-type", "unit_test"],
                PROJECT_DIR,
                scratch,
                sample_vars,
            ),
            "dbt build (one-model project)": lambda scratch: cold_dbt(
                ["build"], one_model, scratch
            ),
        }
        result = FixedCostResult(runs={kind: [] for kind in kinds})
        for _ in range(rounds):
            for kind, run in kinds.items():
                scratch = root / "run"
                scratch.mkdir(exist_ok=True)
                result.runs[kind].append(run(scratch))
        return result


def to_markdown(result: FixedCostResult, machine: dict[str, str], when: str) -> str:
    """A readable report: medians, every round, and what the sample's build executed."""
    lines = [
        *report_heading(f"Cold `dbt build` of the sample and dbt's fixed cost, {when}", machine),
        "Each figure is a new process with an empty target folder and a new database; the kinds "
        "are measured in turns, round after round. Execution: `elapsed_time` of "
        "`run_results.json` (the build after parsing).",
        "",
        "| measured | median wall s | every round, s | median execution s |",
        "| --- | --- | --- | --- |",
    ]
    for kind, runs in result.runs.items():
        execution = result.median_execution(kind)
        lines.append(
            f"| {kind} | {result.median_wall(kind):.2f} | "
            + ", ".join(f"{run.wall_seconds:.2f}" for run in runs)
            + f" | {f'{execution:.2f}' if execution is not None else ''} |"
        )
    build = result.runs["dbt build (sample)"][-1]
    lines += [
        "",
        "What the sample's build executed (last round): "
        + ", ".join(f"{count} {kind}s" for kind, count in build.nodes_by_type.items())
        + f"; node time summed per type (nodes run {build.dbt_threads or '?'} at a time): "
        + ", ".join(f"{kind} {sec:.1f} s" for kind, sec in build.node_seconds_by_type.items())
        + ".",
    ]
    failed = [kind for kind, runs in result.runs.items() if any(run.exit_code for run in runs)]
    if failed:
        lines += ["", "Failed: " + ", ".join(failed)]
    return "\n".join(lines) + "\n"
