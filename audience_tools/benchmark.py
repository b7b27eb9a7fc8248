"""Measuring the pipeline at a given scale against DuckDB's own CSV parse floor.

For each scale: generate the landing folder if it is missing, measure the **parse floor**
(DuckDB loading the same four CSVs into in-memory tables as text, nothing else), then run the
whole ``scripts/run_pipeline.py`` as a child process and record its wall time, peak resident
memory, the time of each stage (from its progress lines) and the slowest dbt nodes (from
``run_results.json``). Floor and pipeline are measured side by side in one run, because this
machine is noisy: the ratio between them is the figure to trust.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import duckdb

from audience_pipeline.contract import load_contract
from audience_tools import REPO_DIR
from audience_tools.generate import generate
from audience_tools.process_memory import TreeMemory, TreeMemorySampler

# customers per scale; bookings are about 2.75 per customer
SCALES: dict[str, int] = {
    "tiny": 20_000,
    "1m": 360_000,
    "10m": 3_600_000,
    "100m": 36_000_000,
}
# "[ 12.3 s] publish: 0.4 s" (older revisions: "[   12.3s] publish: finished in 0.4s")
_STAGE_LINE = re.compile(
    r"\] (?P<stage>.+?): (?:finished in )?(?P<seconds>[0-9][0-9,]*\.[0-9]+) ?s$"
)


@dataclass
class ScaleResult:
    """Everything measured for one scale."""

    scale: str
    customers: int
    input_rows: dict[str, int]
    input_bytes: int
    parse_floor_seconds: float
    pipeline_seconds: float
    pipeline_peak_rss_mb: float
    pipeline_exit_code: int
    # every process of the run added up, sampled every 0.5 s (Spark's JVM included), and the
    # largest one
    pipeline_tree_peak_rss_mb: float = 0.0
    pipeline_largest_process: str = ""
    stage_seconds: dict[str, float] = field(default_factory=dict)
    slowest_nodes: list[tuple[str, float]] = field(default_factory=list)
    node_seconds_by_type: dict[str, float] = field(default_factory=dict)
    dbt_threads: int | None = None
    published: str = ""
    # the next day's run on the same database: dbt's parse state and the history are kept
    rerun_seconds: float | None = None
    rerun_peak_rss_mb: float | None = None
    rerun_stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.input_rows.values())

    @property
    def ratio_to_floor(self) -> float:
        return self.pipeline_seconds / self.parse_floor_seconds

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.pipeline_seconds


def ensure_data(scale: str, data_dir: Path, seed: int, as_of: str) -> Path:
    """The landing folder for a scale, generated (deterministically) if it is missing."""
    folder = data_dir / scale
    names = [spec.file_name for spec in load_contract()]
    if not all((folder / name).is_file() for name in names):
        generate(SCALES[scale], seed, dt.date.fromisoformat(as_of), folder)
    return folder


def count_data_rows(folder: Path) -> dict[str, int]:
    """Data lines per input file (the header not counted), read by DuckDB."""
    con = duckdb.connect()
    try:
        return {
            spec.name: con.execute(
                "select count(*) - 1 from read_csv(?, columns = {'line': 'VARCHAR'}, "
                "header = false, auto_detect = false, delim = '\\0', quote = '', escape = '', "
                "strict_mode = false)",
                [str(folder / spec.file_name)],
            ).fetchone()[0]
            for spec in load_contract()
        }
    finally:
        con.close()


def parse_floor_in_child(folder: Path, threads: int) -> float:
    """``parse_floor`` measured in a process of its own.

    The floor holds every input in memory. Measured in this process, that memory would stay
    with it, and Linux carries a parent's peak resident memory into the peak it reports for a
    child started afterwards (``ru_maxrss`` survives the child's exec): the pipeline's peak
    would read as the floor's (18.5 GB instead of 2.8 GB at 100M bookings).
    """
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; "
            "from audience_tools.benchmark import parse_floor; "
            "print(parse_floor(Path(sys.argv[1]), int(sys.argv[2])))",
            str(folder),
            str(threads),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(completed.stdout.strip().splitlines()[-1])


def parse_floor(folder: Path, threads: int) -> float:
    """Seconds DuckDB takes to load the four CSVs into in-memory tables as text."""
    con = duckdb.connect(config={"threads": str(threads)})
    try:
        started = time.perf_counter()
        for spec in load_contract():
            con.execute(
                f"create table {spec.name} as select * from read_csv(?, all_varchar = true, "
                "header = true)",
                [str(folder / spec.file_name)],
            )
        return time.perf_counter() - started
    finally:
        con.close()


class MeasuredRun(NamedTuple):
    """One run of the pipeline as a child process."""

    seconds: float
    peak_rss_mb: float  # the Python process (ru_maxrss: exact)
    exit_code: int
    stdout: str
    stderr: str
    tree: TreeMemory  # every process of the run, Spark's JVM included (sampled)


def run_pipeline_measured(
    folder: Path,
    work_dir: Path,
    as_of: str,
    extra_args: list[str],
    fresh: bool = True,
    project_dir: Path = REPO_DIR,
) -> MeasuredRun:
    """Run run_pipeline.py as a child: its wall time, peak memory, exit code and output.

    ``fresh`` starts from an empty work folder (no database, no dbt state); otherwise the run
    finds what the previous one left, as a daily run does. ``project_dir`` is the checkout
    whose run_pipeline.py runs (another revision's, to compare two side by side): its own
    package comes first on the child's ``PYTHONPATH``, ahead of the installed one.
    """
    if fresh:
        shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        str(project_dir / "scripts" / "run_pipeline.py"),
        "--input-dir",
        str(folder),
        "--as-of",
        as_of,
        "--output-dir",
        str(work_dir / "out"),
        "--database",
        str(work_dir / "audience.duckdb"),
        *extra_args,
    ]
    stdout_path, stderr_path = work_dir / "stdout.txt", work_dir / "stderr.txt"
    with stdout_path.open("w") as stdout_file, stderr_path.open("w") as stderr_file:
        started = time.perf_counter()
        child = subprocess.Popen(
            command,
            stdout=stdout_file,
            stderr=stderr_file,
            cwd=work_dir,
            env={**os.environ, "PYTHONPATH": str(project_dir)},
        )
        sampler = TreeMemorySampler(child.pid).start()
        # wait4 gives this child's own peak RSS (ru_maxrss of the process and its waited-for
        # descendants), not the maximum over every child this benchmark ever ran
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        tree = sampler.stop()
    return MeasuredRun(
        seconds=seconds,
        peak_rss_mb=usage.ru_maxrss / 1024,
        exit_code=os.waitstatus_to_exitcode(status),
        stdout=stdout_path.read_text(),
        stderr=stderr_path.read_text(),
        tree=tree,
    )


class NodeTimings(NamedTuple):
    """What run_results.json says of a build: where its time went, and its concurrency."""

    slowest: list[tuple[str, float]]
    seconds_by_type: dict[str, float]
    threads: int | None


def dbt_worker_threads(results: list[dict[str, Any]]) -> int | None:
    """How many nodes dbt ran at once: the worker threads named in run_results.json's results."""
    workers = {item["thread_id"] for item in results if item.get("thread_id") != "main"}
    return len(workers) or None


def dbt_node_timings(target_dir: Path) -> NodeTimings:
    """The slowest dbt nodes, the total time per node type and the worker threads, from
    run_results.json."""
    path = target_dir / "run_results.json"
    if not path.is_file():
        return NodeTimings([], {}, None)
    results = json.loads(path.read_text())["results"]
    timings = [(item["unique_id"], float(item["execution_time"])) for item in results]
    by_type: dict[str, float] = {}
    for unique_id, seconds in timings:
        kind = unique_id.split(".")[0]
        by_type[kind] = by_type.get(kind, 0.0) + seconds
    slowest = sorted(timings, key=lambda item: item[1], reverse=True)[:15]
    return NodeTimings(
        [(name, round(seconds, 2)) for name, seconds in slowest],
        {kind: round(seconds, 2) for kind, seconds in by_type.items()},
        dbt_worker_threads(results),
    )


def dbt_target_dir(work_dir: Path, target: str = "duckdb") -> Path:
    """dbt's target folder of a run whose database is ``work_dir/audience.duckdb``.

    On Spark, the engine's build (``target_spark``): where the time goes.
    """
    if target == "spark":
        return work_dir / "audience.work" / "target_spark"
    folder = work_dir / "audience.work" / "target"
    return folder if folder.is_dir() else work_dir / "dbt_target"  # older revisions


def stage_seconds_of(stderr: str) -> dict[str, float]:
    return {
        match["stage"]: float(match["seconds"])
        for line in stderr.splitlines()
        if (match := _STAGE_LINE.search(line.strip()))
    }


def measure_scale(
    scale: str,
    data_dir: Path,
    work_root: Path,
    seed: int,
    as_of: str,
    threads: int,
    rerun: bool = True,
    target: str = "duckdb",
) -> ScaleResult:
    """Generate (if needed), measure the floor and the pipeline side by side.

    With ``rerun``, the pipeline runs a second time on the same database, as of the next day:
    the figure of a daily run, which finds dbt's parse state and the history of the day before.
    ``target`` is the engine that builds (``audience run --target``); the floor is DuckDB's.
    """
    folder = ensure_data(scale, data_dir, seed, as_of)
    rows = count_data_rows(folder)
    floor = parse_floor_in_child(folder, threads)
    work_dir = work_root / (scale if target == "duckdb" else f"{scale}_{target}")
    run_args = ["--threads", str(threads), "--target", target]
    run = run_pipeline_measured(folder, work_dir, as_of, run_args)
    stages = stage_seconds_of(run.stderr)
    timings = dbt_node_timings(dbt_target_dir(work_dir, target))
    result = ScaleResult(
        scale=scale,
        customers=SCALES[scale],
        input_rows=rows,
        input_bytes=sum((folder / spec.file_name).stat().st_size for spec in load_contract()),
        parse_floor_seconds=round(floor, 3),
        pipeline_seconds=round(run.seconds, 3),
        pipeline_peak_rss_mb=round(run.peak_rss_mb, 1),
        pipeline_tree_peak_rss_mb=round(run.tree.tree_peak_mb, 1),
        pipeline_largest_process=(
            f"{run.tree.largest_process_name} {run.tree.largest_process_mb:,.0f} MB"
        ),
        pipeline_exit_code=run.exit_code,
        stage_seconds=stages,
        slowest_nodes=timings.slowest,
        node_seconds_by_type=timings.seconds_by_type,
        dbt_threads=timings.threads,
        published=next(
            (line for line in run.stdout.splitlines() if line.startswith("published")),
            run.stderr.strip()[-2000:],
        ),
    )
    if rerun and run.exit_code == 0:
        next_day = (dt.date.fromisoformat(as_of) + dt.timedelta(days=1)).isoformat()
        rerun_result = run_pipeline_measured(folder, work_dir, next_day, run_args, fresh=False)
        result.rerun_seconds = round(rerun_result.seconds, 3)
        result.rerun_peak_rss_mb = round(rerun_result.peak_rss_mb, 1)
        result.rerun_stage_seconds = stage_seconds_of(rerun_result.stderr)
    return result


def machine_description() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        total_kb = int(meminfo.read_text().split()[1])
        memory = f"{total_kb / 1024 / 1024:.1f} GiB"
    import dbt.version

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return {
        "load average at start (1, 5, 15 min)": load,
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dbt_core": dbt.version.__version__,
    }


def report_heading(title: str, machine: dict[str, str]) -> list[str]:
    """The first lines of a results file: its title and the machine it was measured on."""
    return [
        f"# {title}",
        "",
        "Machine: " + ", ".join(f"{key} {value}" for key, value in machine.items()),
        "",
    ]


def to_markdown(results: list[ScaleResult], machine: dict[str, str], when: str) -> str:
    """A readable report of a benchmark run."""
    lines = [
        *report_heading(f"Benchmark, {when}", machine),
        "| scale | input rows | input MB | parse floor s | pipeline s (first run) | ratio "
        "| peak RSS MB | all processes MB | rows/s | exit | next day's run s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for item in results:
        rerun = f"{item.rerun_seconds:.2f}" if item.rerun_seconds is not None else "not run"
        lines.append(
            f"| {item.scale} | {item.rows:,} | {item.input_bytes / 1e6:,.0f} | "
            f"{item.parse_floor_seconds:.2f} | {item.pipeline_seconds:.2f} | "
            f"{item.ratio_to_floor:.1f}x | {item.pipeline_peak_rss_mb:,.0f} | "
            f"{item.pipeline_tree_peak_rss_mb:,.0f} | "
            f"{item.rows_per_second:,.0f} | {item.pipeline_exit_code} | {rerun} |"
        )
    lines += [
        "",
        "First run: an empty work folder (no database, no dbt parse state). Next day's run: the "
        "same files as of the next day, on the database and dbt state the first run left. "
        "Peak RSS: the `audience run` process, exact (`ru_maxrss`). All processes: the run's "
        "whole process tree added up (Spark's JVM included), sampled every 0.5 s, so a shorter "
        "peak can be missed; the largest process is named under each scale.",
    ]
    for item in results:
        lines += ["", f"## {item.scale}", "", f"Result: `{item.published}`", ""]
        if item.pipeline_largest_process:
            lines += [f"Largest process (sampled): {item.pipeline_largest_process}", ""]
        lines += ["Stages:"]
        lines += [f"- {stage}: {seconds:.1f} s" for stage, seconds in item.stage_seconds.items()]
        if item.rerun_seconds is not None:
            lines += ["", f"Next day's run: {item.rerun_seconds:.1f} s, stages:"]
            lines += [
                f"- {stage}: {seconds:.1f} s" for stage, seconds in item.rerun_stage_seconds.items()
            ]
        at_once = f"{item.dbt_threads} at a time" if item.dbt_threads else "threads not recorded"
        lines += ["", f"dbt time by node type (sum of node times; nodes run {at_once}):"]
        lines += [
            f"- {kind}: {seconds:.1f} s" for kind, seconds in item.node_seconds_by_type.items()
        ]
        lines += ["", "Slowest dbt nodes:"]
        lines += [f"- {name}: {seconds:.2f} s" for name, seconds in item.slowest_nodes]
    return "\n".join(lines) + "\n"


def result_dict(item: ScaleResult) -> dict[str, object]:
    """A scale's figures as JSON, derived figures included."""
    return {
        **asdict(item),
        "rows": item.rows,
        "ratio_to_floor": round(item.ratio_to_floor, 2),
        "rows_per_second": round(item.rows_per_second),
    }
