"""Build hook: the wheel carries the dbt project the ``audience`` command runs.

The project stays at the repository's root, where dbt users expect it; a wheel copies it into
``audience_pipeline/dbt_project/`` (``audience_pipeline.project`` finds it there). Only what dbt
reads is copied: the Python tests beside the singular tests in ``tests/`` stay out. An
editable install runs the checkout's own project and needs no copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PROJECT_FILES = (
    "dbt_project.yml",
    "profiles.yml",
    "spark/log4j2.properties",
    "models/**/*.sql",
    "models/**/*.yml",
    "models/**/*.md",
    "macros/**/*.sql",
    "macros/**/*.yml",
    "seeds/*.csv",
    "seeds/*.yml",
    "analyses/*.sql",
    "analyses/*.yml",
    "tests/*.sql",
    "tests/*.yml",
    "docs/*.md",
)


class DbtProjectHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        for pattern in PROJECT_FILES:
            for path in sorted(root.glob(pattern)):
                relative = path.relative_to(root).as_posix()
                build_data["force_include"][str(path)] = f"audience_pipeline/dbt_project/{relative}"
