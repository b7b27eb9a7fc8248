"""The data contract: which input files exist and which columns each must have.

The list is defined once, in ``dbt_project.yml`` (``vars.input_files``, and
``vars.salvaged_columns`` for lines that cannot be split), and read here so the pre-step and
the dbt models can never disagree about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from audience_pipeline.project import PROJECT_DIR

# Files that must hold at least one data row: a header-only customers or bookings export
# means the export job failed, not that the business has no customers.
ROWS_REQUIRED = frozenset({"customers", "bookings"})


@dataclass(frozen=True)
class InputFile:
    """One input file of the contract."""

    name: str
    columns: tuple[str, ...]
    # the columns saying whom a row is about, read best-effort from lines that cannot be split
    salvaged_columns: tuple[str, ...] = ()

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    @property
    def rows_required(self) -> bool:
        return self.name in ROWS_REQUIRED


def load_contract(project_dir: Path = PROJECT_DIR) -> tuple[InputFile, ...]:
    """Read the input files and their columns from the dbt project's vars."""
    with (project_dir / "dbt_project.yml").open(encoding="utf-8") as handle:
        project = yaml.safe_load(handle)
    input_files = project["vars"]["input_files"]
    salvaged = project["vars"]["salvaged_columns"]
    return tuple(
        InputFile(name, tuple(columns), tuple(column for column in salvaged if column in columns))
        for name, columns in input_files.items()
    )
