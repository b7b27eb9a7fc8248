"""Running dbt in-process and reading back what each node did."""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from audience_pipeline.contract import PROJECT_DIR

if TYPE_CHECKING:
    from dbt.contracts.graph.manifest import Manifest


@dataclass(frozen=True)
class NodeResult:
    """One node of a dbt invocation: a model, seed, data test or unit test."""

    unique_id: str
    resource_type: str
    name: str
    status: str
    failures: int | None
    execution_time: float
    message: str | None


@dataclass(frozen=True)
class DbtRun:
    """The outcome of one dbt command."""

    success: bool
    nodes: tuple[NodeResult, ...]
    error: str | None

    @property
    def controls(self) -> tuple[NodeResult, ...]:
        """Data tests and unit tests: the run's controls."""
        return tuple(node for node in self.nodes if node.resource_type in {"test", "unit_test"})


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _release_database() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a command.

    dbt-duckdb holds one database handle per process for speed. Releasing it lets the next
    step open the file with its own settings, and leaves no lock behind if the process lives on.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
        DuckDBConnectionManager._ENV = None
    gc.collect()


@dataclass(frozen=True)
class DbtSetup:
    """What every dbt command of one run shares: the database, variables, target, environment.

    ``project_dir`` is this project unless a caller measures another one (its profiles.yml
    beside it).
    """

    database: Path
    dbt_vars: dict[str, str]
    target_path: Path
    environment: dict[str, str] = field(default_factory=dict)
    project_dir: Path = PROJECT_DIR

    def cli_args(self, args: list[str], *, quiet: bool) -> list[str]:
        """``args`` (e.g. ``["build"]``) with the project, target path and variables."""
        cli_args = [
            *args,
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(self.project_dir),
            "--target-path",
            str(self.target_path),
            "--vars",
            json.dumps(self.dbt_vars, sort_keys=True),
        ]
        if quiet:
            cli_args.append("--quiet")
        return cli_args

    def env(self) -> dict[str, str]:
        """The environment variables profiles.yml and the models read."""
        return {
            "AUDIENCE_DUCKDB_PATH": str(self.database),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            **self.environment,
        }


def _parse_project(cli_args: list[str]) -> Manifest | None:
    from dbt.cli.main import dbtRunner  # imported late: dbt is slow to import

    outcome = dbtRunner().invoke(cli_args)
    return outcome.result if outcome.success else None


@contextmanager
def project_parsed_meanwhile(setup: DbtSetup) -> Iterator[Future[Manifest | None]]:
    """Import dbt and parse the project in a background thread while the caller works.

    Importing dbt and parsing the project take a few seconds of pure Python at every scale;
    the pre-step spends its time inside DuckDB, which releases the interpreter, so the two
    overlap (on two cores the pre-step keeps both busy, so the gain is less than the parse).
    Hand the future to ``run_dbt(manifest=...)`` with the same ``setup``: dbt then runs with
    the very manifest this parse produced (the environment stays set until the block ends).
    A parse that fails yields None, and ``run_dbt`` parses again itself, so dbt reports the
    error the usual way. Parsing never opens the database.
    """
    with (
        _environment(setup.env()),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="dbt-parse") as executor,
    ):
        yield executor.submit(_parse_project, setup.cli_args(["parse"], quiet=True))


def run_dbt(
    args: list[str],
    setup: DbtSetup,
    *,
    quiet: bool = False,
    manifest: Manifest | None = None,
) -> DbtRun:
    """Run one dbt command (e.g. ``["build"]``) with ``setup`` and collect node results.

    ``manifest``, when given, is a manifest parsed with the same setup
    (``project_parsed_meanwhile``); dbt then skips parsing.
    """
    from dbt.cli.main import dbtRunner  # imported late: dbt is slow to import

    with _environment(setup.env()):
        try:
            outcome = dbtRunner(manifest=manifest).invoke(setup.cli_args(args, quiet=quiet))
        finally:
            _release_database()
    nodes = tuple(
        NodeResult(
            unique_id=result.node.unique_id,
            resource_type=str(result.node.resource_type),
            name=result.node.name,
            status=str(result.status),
            failures=result.failures,
            execution_time=float(result.execution_time or 0.0),
            message=result.message,
        )
        for result in getattr(outcome.result, "results", None) or []
    )
    error = str(outcome.exception) if outcome.exception is not None else None
    return DbtRun(success=bool(outcome.success), nodes=nodes, error=error)
