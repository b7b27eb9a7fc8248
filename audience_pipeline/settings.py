"""Run settings: how much of the machine DuckDB may use, and where it spills.

Defaults suit the 2-core, 24 GiB machine this runs on: 2 threads and a 2 GB memory limit keep a
10-million-booking run under 3 GB of resident memory; anything larger spills to the temp
directory (by default beside the database file) instead of failing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


@dataclass(frozen=True)
class EngineSettings:
    """DuckDB resources. Inputs larger than ``memory_limit`` spill to ``temp_directory``."""

    memory_limit: str = field(default_factory=lambda: _env("AUDIENCE_DUCKDB_MEMORY_LIMIT", "2GB"))
    threads: int = field(default_factory=lambda: int(_env("AUDIENCE_DUCKDB_THREADS", "2")))
    temp_directory: Path | None = field(
        default_factory=lambda: (
            Path(os.environ["AUDIENCE_DUCKDB_TEMP_DIR"])
            if os.environ.get("AUDIENCE_DUCKDB_TEMP_DIR")
            else None
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
            "AUDIENCE_DUCKDB_TEMP_DIR": str(self.spill_directory(database)),
            # Line numbers come from the pre-step, so dbt's models need no row order.
            "AUDIENCE_DUCKDB_PRESERVE_INSERTION_ORDER": "false",
        }
