"""Where things live: the dbt project the tool runs, and a run's working files.

The dbt project (``dbt_project.yml``, models, macros, tests, seeds) travels with the package:
an installed wheel carries it as ``audience_pipeline/dbt_project/``; a checkout (or an editable
install of one) runs the project at the checkout's root. Nothing a run writes goes into the
project or into the current folder: dbt's target folder, its log and DuckDB's spill folder sit
beside the database.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATABASE_ENV = "AUDIENCE_DATABASE"


def find_project_dir() -> Path:
    """The dbt project: the copy inside an installed package, else the checkout's root."""
    for candidate in (PACKAGE_DIR / "dbt_project", PACKAGE_DIR.parent):
        if (candidate / "dbt_project.yml").is_file():
            return candidate
    raise RuntimeError(f"no dbt project found beside {PACKAGE_DIR}: the installation is incomplete")


PROJECT_DIR = find_project_dir()


def default_database() -> Path:
    """The DuckDB file runs build in and record their history in, unless one is named.

    ``$AUDIENCE_DATABASE`` if set, else ``audience.duckdb`` in the user's data folder
    (``$XDG_DATA_HOME/audience``, by default ``~/.local/share/audience``): one history for
    every destination a user publishes to, wherever the command is run from.
    """
    return default_database_and_source()[0]


def default_database_and_source() -> tuple[Path, str]:
    """:func:`default_database`, and where its path came from as an error message names it:
    the variable that gave it, else "the default database"."""
    if os.environ.get(DATABASE_ENV):
        return Path(os.environ[DATABASE_ENV]).expanduser(), DATABASE_ENV
    if os.environ.get("XDG_DATA_HOME"):
        data_home, source = Path(os.environ["XDG_DATA_HOME"]).expanduser(), "XDG_DATA_HOME"
    else:
        data_home, source = Path.home() / ".local" / "share", "the default database"
    return data_home / "audience" / "audience.duckdb", source


def work_dir(database: Path) -> Path:
    """The folder beside ``database`` for dbt's target folder and logs of the runs it holds."""
    return database.parent / f"{database.stem}.work"
