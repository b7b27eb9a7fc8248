"""Names dbt turns into relations fit every engine: PostgreSQL cuts identifiers at 63 bytes.

A unit test builds a relation named after itself, so a long unit-test name fails on PostgreSQL
only (the engine comparison finds it late); models and singular tests are checked as well.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from conftest import PROJECT_DIR

POSTGRES_IDENTIFIER_BYTES = 63


def test_unit_tests_models_and_singular_tests_have_short_names() -> None:
    names: list[str] = []
    for path in sorted((PROJECT_DIR / "models").rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names += [unit_test["name"] for unit_test in document.get("unit_tests") or []]
    names += [path.stem for path in (PROJECT_DIR / "models").rglob("*.sql")]
    names += [path.stem for path in Path(PROJECT_DIR / "tests").glob("*.sql")]
    assert len(names) > 80
    too_long = [name for name in names if len(name.encode()) > POSTGRES_IDENTIFIER_BYTES]
    assert too_long == []
