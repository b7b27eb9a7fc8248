"""The dbt metadata lint (scripts/lint_dbt.sh: dbt-bouncer with dbt-bouncer.yml) passes on this
project and catches a break of each of its rules.

Needs no build: the lint runs once on ``dbt parse`` output in a temporary target folder (the
script parses when the folder has no manifest), then on a copy of that manifest with one thing
broken per rule, in one run, and a small catalog.json for the catalog checks. About 12 s, most
of it dbt parse.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

PROJECT_DIR = Path(__file__).resolve().parent.parent
LINT = PROJECT_DIR / "scripts" / "lint_dbt.sh"
#: "  ERROR <file>: [<check>] <message>", one line per failed check
FAILURE = re.compile(r"^  (?:ERROR|WARN) (?P<file>\S+): \[(?P<check>\w+)\] (?P<message>.*)$")


def lint(target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(LINT), "--target-path", str(target)],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
        check=False,
    )


def failures(run: subprocess.CompletedProcess[str]) -> dict[tuple[str, str], str]:
    """(check, file) -> message, from the script's output."""
    found = {}
    for line in run.stdout.splitlines():
        match = FAILURE.match(line)
        if match:
            found[(match["check"], match["file"])] = match["message"]
    return found


@pytest.fixture(scope="module")
def parsed(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """The lint of the project as parsed, and its manifest."""
    target = tmp_path_factory.mktemp("lint") / "target"
    run = lint(target)  # no manifest there yet: the script runs dbt parse first
    assert (target / "manifest.json").is_file(), run.stdout + run.stderr
    return run, json.loads((target / "manifest.json").read_text(encoding="utf-8"))


def lint_copy(
    tmp_path: Path, manifest: dict[str, Any], catalog: dict[str, Any] | None = None
) -> subprocess.CompletedProcess[str]:
    target = tmp_path / "target"
    target.mkdir()
    (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    if catalog is not None:
        (target / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
    return lint(target)


def model(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    return manifest["nodes"][f"model.audience.{name}"]


def key_test_of(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    """The primary_key test of model ``name``."""
    (test,) = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and node.get("attached_node") == f"model.audience.{name}"
        and (node.get("test_metadata") or {}).get("name") == "primary_key"
    ]
    return test


def test_the_project_passes(parsed) -> None:
    run, _ = parsed
    assert run.returncode == 0, run.stdout + run.stderr
    summary = run.stdout.strip().splitlines()[-1]
    assert summary.startswith("dbt lint (dbt-bouncer, manifest only"), summary
    assert summary.endswith("checks, all passed"), summary
    assert not failures(run)


def test_each_rule_catches_its_violation(parsed, tmp_path: Path) -> None:
    _, original = parsed
    broken = copy.deepcopy(original)
    expected: dict[tuple[str, str], str] = {}  # (check, file) -> a word the message must hold

    def expect(check: str, file: str, word: str) -> None:
        expected[(check, file)] = word

    # descriptions: a model, one column of a model, a seed, a source, a macro
    model(broken, "int_customers_arbitrated")["description"] = ""
    expect(
        "check_model_description_populated",
        "models/intermediate/int_customers_arbitrated.sql",
        "int_customers_arbitrated",
    )
    columns = model(broken, "int_bookings_aggregated")["columns"]
    column = next(iter(columns))
    columns[column]["description"] = " "
    expect(
        "check_model_column_description_populated",
        "models/intermediate/int_bookings_aggregated.sql",
        column,
    )
    broken["nodes"]["seed.audience.customers"]["description"] = ""
    expect("check_seed_description_populated", "seeds/customers.csv", "customers")
    source = broken["sources"]["source.audience.history.published_runs"]
    source["description"] = ""
    expect("check_source_description_populated", source["original_file_path"], "published_runs")
    broken["macros"]["macro.audience.test_primary_key"]["description"] = ""
    expect("check_macro_description_populated", "macros/tests/primary_key.sql", "test_primary_key")

    # a model whose primary-key test is gone
    del broken["nodes"][key_test_of(broken, "int_customers_held")["unique_id"]]
    expect(
        "check_model_has_unique_test",
        "models/intermediate/int_customers_held.sql",
        "int_customers_held",
    )

    # an intermediate model (a rule) without a unit test
    for key in [
        k for k, u in broken["unit_tests"].items() if u["model"] == "int_customers_evaluated"
    ]:
        del broken["unit_tests"][key]
    expect(
        "check_model_has_unit_tests",
        "models/intermediate/int_customers_evaluated.sql",
        "int_customers_evaluated",
    )

    # naming by layer (the message names the model by its unique_id, i.e. its old name)
    model(broken, "stg_exports__customers_checked")["name"] = "stg_customers_checked"
    expect(
        "check_model_names",
        "models/staging/exports/stg_exports__customers_checked.sql",
        "^stg_exports__",
    )
    model(broken, "int_customers_deduplicated")["name"] = "customers_deduplicated"
    expect("check_model_names", "models/intermediate/int_customers_deduplicated.sql", "^int_")
    model(broken, "eligible_audience")["name"] = "int_eligible_audience"
    expect("check_model_names", "models/marts/eligible_audience.sql", "eligible_audience")
    broken["nodes"]["test.audience.assert_total_spend_reconciles"]["name"] = (
        "total_spend_reconciles"
    )
    expect(
        "check_singular_test_names",
        "tests/assert_total_spend_reconciles.sql",
        "total_spend_reconciles",
    )
    # a properties file not named after its folder
    model(broken, "int_email_consent_resolved")["patch_path"] = (
        "audience://models/intermediate/schema.yml"
    )
    expect(
        "check_model_properties_file_named_after_directory",
        "models/intermediate/int_email_consent_resolved.sql",
        "_intermediate__models.yml",
    )
    # intermediate reading the raw lines of a base model
    model(broken, "int_suppressions_matched")["depends_on"]["nodes"].append(
        "model.audience.base_exports__suppressions"
    )
    expect(
        "check_lineage_permitted_upstream_models",
        "models/intermediate/int_suppressions_matched.sql",
        "base_exports__suppressions",
    )

    # a column the engine built that no properties file lists (catalog.json)
    blocked = model(broken, "int_email_addresses_blocked")
    built = [*blocked["columns"], "undocumented_column"]
    catalog = {
        "metadata": original["metadata"],
        "nodes": {
            blocked["unique_id"]: {
                "unique_id": blocked["unique_id"],
                "metadata": {"type": "BASE TABLE", "schema": "intermediate", "name": "x"},
                "columns": {
                    name: {"type": "VARCHAR", "index": i, "name": name, "comment": None}
                    for i, name in enumerate(built, start=1)
                },
                "stats": {},
            }
        },
        "sources": {},
        "errors": None,
    }
    for check in ("check_columns_are_all_documented", "check_column_description_populated"):
        expect(check, "models/intermediate/int_email_addresses_blocked.sql", "undocumented_column")

    run = lint_copy(tmp_path, broken, catalog)
    assert run.returncode == 1, run.stdout + run.stderr
    found = failures(run)
    assert set(found) == set(expected), run.stdout
    for key, word in expected.items():
        assert word in found[key], (key, found[key])
    summary = run.stdout.strip().splitlines()[-1]
    assert summary.startswith("dbt lint (dbt-bouncer, manifest and catalog)"), summary
    assert f"{len(expected)} failed" in summary, summary


def test_a_composite_key_counts_as_a_primary_key(parsed, tmp_path: Path) -> None:
    _, original = parsed
    manifest = copy.deepcopy(original)
    test = key_test_of(manifest, "int_customers_held")
    test["test_metadata"] = {
        "name": "unique_combination_of_columns",
        "namespace": None,
        "kwargs": {"combination_of_columns": ["customer_id"]},
    }
    run = lint_copy(tmp_path, manifest)
    assert run.returncode == 0, run.stdout + run.stderr
