"""Run settings: how much of the machine DuckDB may use, and where it spills.

The defaults follow the machine: two fifths of its memory (``MEMORY_SHARE``) and every core
this process may run on. On a 24 GiB machine that is 9.4 GB: a 10-million-booking run stays
under 6 GB of resident memory (3.4 GB measured), and a 100-million-booking run under 12 GB
(10.2-10.7 GB measured), spilling less than with a fifth (the staging models of customers and
consent events, and the customers' deduplication, 15-24% faster: bench/README.md); what does
not fit spills. ``--memory-limit`` / ``--threads`` (or
``AUDIENCE_DUCKDB_MEMORY_LIMIT`` / ``AUDIENCE_DUCKDB_THREADS``) take precedence; whatever does
not fit spills to the temp directory (by default beside the database file) instead of failing.

dbt builds one model at a time by default (``DEFAULT_DBT_THREADS``; ``--dbt-threads`` or
``AUDIENCE_DBT_THREADS``): every query already runs on all of DuckDB's threads, and two models
at once share one memory limit. At 100 million bookings the largest staging models built in
pairs spilled 18.6 GB and filled the disk; one at a time they spilled at most 8.3 GB
(bench/README.md).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from audience_pipeline.errors import UsageError
from audience_pipeline.options import memory_size, thread_count

_T = TypeVar("_T")

#: The share of the machine's memory DuckDB may use by default.
MEMORY_SHARE = 0.4
#: How many models dbt builds at once by default.
DEFAULT_DBT_THREADS = 1
#: The environment variable naming the folder DuckDB spills to (``--temp-dir``).
TEMP_DIR_ENV = "AUDIENCE_DUCKDB_TEMP_DIR"
_FALLBACK_MEMORY_LIMIT = "2GB"  # when the machine's memory cannot be read


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _env_value(name: str, default: str, parse: Callable[[str], _T]) -> _T:
    """The environment variable ``name`` (else ``default``) read as its option would be."""
    try:
        return parse(_env(name, default))
    except argparse.ArgumentTypeError as error:
        raise UsageError(f"{name}: {error}") from None


def machine_memory_bytes() -> int | None:
    """Physical memory, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def default_memory_limit() -> str:
    """``MEMORY_SHARE`` of the machine's memory, in whole MB (DuckDB's unit syntax)."""
    total = machine_memory_bytes()
    if not total:
        return _FALLBACK_MEMORY_LIMIT
    return f"{max(256, int(total * MEMORY_SHARE / 1e6))}MB"


def default_threads() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@dataclass(frozen=True)
class EngineSettings:
    """DuckDB resources and dbt's concurrency. Inputs larger than ``memory_limit`` spill to
    ``temp_directory``."""

    memory_limit: str = field(
        default_factory=lambda: _env_value(
            "AUDIENCE_DUCKDB_MEMORY_LIMIT", default_memory_limit(), memory_size
        )
    )
    threads: int = field(
        default_factory=lambda: _env_value(
            "AUDIENCE_DUCKDB_THREADS", str(default_threads()), thread_count
        )
    )
    dbt_threads: int = field(
        default_factory=lambda: _env_value(
            "AUDIENCE_DBT_THREADS", str(DEFAULT_DBT_THREADS), thread_count
        )
    )
    temp_directory: Path | None = field(
        default_factory=lambda: (
            Path(os.environ[TEMP_DIR_ENV]) if os.environ.get(TEMP_DIR_ENV) else None
        )
    )

    def spill_directory(self, database: Path) -> Path:
        """Where DuckDB spills: the configured directory, or ``<database>.tmp``."""
        return self.temp_directory or database.with_name(database.name + ".tmp")

    def connection_config(self, database: Path) -> dict[str, str]:
        """Settings for ``duckdb.connect(config=...)``, applied when the database opens."""
        return {
            "memory_limit": self.memory_limit,
            "threads": str(self.threads),
            "temp_directory": str(self.spill_directory(database)),
            "preserve_insertion_order": "true",
        }

    def environment(self, database: Path) -> dict[str, str]:
        """The same settings as the environment variables ``profiles.yml`` reads for dbt."""
        return {
            "AUDIENCE_DUCKDB_MEMORY_LIMIT": self.memory_limit,
            "AUDIENCE_DUCKDB_THREADS": str(self.threads),
            "AUDIENCE_DBT_THREADS": str(self.dbt_threads),
            TEMP_DIR_ENV: str(self.spill_directory(database)),
            # Line numbers come from the pre-step, so dbt's models need no row order.
            "AUDIENCE_DUCKDB_PRESERVE_INSERTION_ORDER": "false",
        }


def engine_settings(
    memory_limit: str | None = None,
    threads: int | None = None,
    dbt_threads: int | None = None,
    temp_directory: Path | None = None,
) -> EngineSettings:
    """The options given; each one not given from its environment variable, else the default.

    A variable replaced by its option is never read, so a broken one does not stop a run that
    overrides it.
    """
    given: dict[str, Any] = {
        "memory_limit": memory_limit,
        "threads": threads,
        "dbt_threads": dbt_threads,
        "temp_directory": temp_directory,
    }
    return EngineSettings(**{name: value for name, value in given.items() if value is not None})
