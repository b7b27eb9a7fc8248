"""dbt-bouncer checks for this project's conventions that no built-in check expresses.

dbt-bouncer loads every ``<custom_checks_dir>/<category>/*.py`` file named by
``custom_checks_dir`` in dbt-bouncer.yml; a check is the function decorated with ``@check``,
its name is the function's name, its keyword-only arguments are its settings. The resources
are dbt-bouncer's read-only views of manifest.json nodes.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from dbt_bouncer.check_framework.decorator import check, fail


@check
def check_model_properties_file_named_after_directory(model: Any) -> None:
    """A model's properties file is `_<directory>__models.yml`, named after its own folder.

    dbt-bouncer's `check_model_property_file_location` expects `_stg_<source>__models.yml`
    in staging; this project names the file after the folder it sits in
    (`models/staging/exports/_exports__models.yml`). Together with
    `check_model_documented_in_same_directory` this means one such file per folder.
    """
    patch_path = str(model.patch_path or "").split("://", 1)[-1]
    if not patch_path:
        fail(f"`{model.name}` is not declared in a properties file.")
    path = PurePosixPath(patch_path)
    expected = f"_{path.parent.name}__models.yml"
    if path.name != expected:
        fail(
            f"`{model.name}` is declared in `{patch_path}`; the properties file of "
            f"`{path.parent}` is named `{expected}`."
        )


@check
def check_singular_test_names(test: Any, *, test_name_pattern: str) -> None:
    """Singular tests (SQL files under tests/) have a name matching `test_name_pattern`.

    Generic tests (those with `test_metadata`) are named by dbt and are not checked.
    """
    if getattr(test, "test_metadata", None):
        return
    if re.match(test_name_pattern, str(test.name)) is None:
        fail(
            f"singular test `{test.name}` ({test.original_file_path}) does not match "
            f"`{test_name_pattern}`."
        )
