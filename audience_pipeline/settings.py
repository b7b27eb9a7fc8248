"""Run settings: where the database lives and how much of the machine DuckDB may use."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from audience_pipeline.contract import PROJECT_DIR


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


@dataclass(frozen=True)
class EngineSettings:
    """DuckDB resources. Inputs larger than ``memory_limit`` spill to ``temp_directory``."""

    memory_limit: str = field(default_factory=lambda: _env("AUDIENCE_DUCKDB_MEMORY_LIMIT", "4GB"))
    threads: int = field(default_factory=lambda: int(_env("AUDIENCE_DUCKDB_THREADS", "2")))
    temp_directory: Path = field(
        default_factory=lambda: Path(
            _env("AUDIENCE_DUCKDB_TEMP_DIR", str(PROJECT_DIR / "target" / "duckdb_tmp"))
        )
    )

    def apply(self, connection: object) -> None:
        """Set these limits on an open DuckDB connection."""
        self.temp_directory.mkdir(parents=True, exist_ok=True)
        execute = connection.execute  # type: ignore[attr-defined]
        execute(f"set memory_limit = '{self.memory_limit}'")
        execute(f"set threads = {self.threads}")
        execute(f"set temp_directory = '{self.temp_directory}'")
        execute("set preserve_insertion_order = true")

    def environment(self) -> dict[str, str]:
        """The same limits as the environment variables ``profiles.yml`` reads for dbt."""
        return {
            "AUDIENCE_DUCKDB_MEMORY_LIMIT": self.memory_limit,
            "AUDIENCE_DUCKDB_THREADS": str(self.threads),
            "AUDIENCE_DUCKDB_TEMP_DIR": str(self.temp_directory),
        }
