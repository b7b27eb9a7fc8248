"""The docs site describes everything: every model, column, seed, source, macro, test, exposure.

Reads the manifest written by ``dbt docs generate`` (run once per session by
tests/audit_helpers.py into a temporary target folder, so the result never depends on a stale
``target/``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import build_docs_site

pytestmark = pytest.mark.slow

PROJECT = "audience"
#: dbt's own generic tests, documented by dbt; every other generic test must be a macro of
#: this project with a description (macros/_macros.yml).
DBT_BUILT_IN_TESTS = {"unique", "not_null", "accepted_values", "relationships"}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    target: Path = build_docs_site(tmp_path_factory)
    return json.loads((target / "manifest.json").read_text(encoding="utf-8"))


def described(item: dict[str, Any]) -> bool:
    return bool((item.get("description") or "").strip())


def own(items: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {key: item for key, item in items.items() if item.get("package_name") == PROJECT}


def test_every_model_seed_source_and_analysis_and_their_columns(manifest) -> None:
    nodes = own(manifest["nodes"]) | own(manifest["sources"])
    # tests are checked below; the on-run-start hook (an `operation`) is described where it is
    # declared, in dbt_project.yml, and by its macro's description (validate_rule_parameters)
    checked = [n for n in nodes.values() if n["resource_type"] not in {"test", "operation"}]
    kinds = {node["resource_type"] for node in checked}
    assert {"model", "seed", "source"} <= kinds
    missing = [node["unique_id"] for node in checked if not described(node)]
    missing += [
        f"{node['unique_id']}.{name}"
        for node in checked
        for name, column in node.get("columns", {}).items()
        if not described(column)
    ]
    assert not missing, "no description:\n" + "\n".join(missing)
    # every model documents its columns (none left to the catalog alone)
    no_columns = [
        node["unique_id"]
        for node in checked
        if node["resource_type"] in {"model", "seed", "source"} and not node.get("columns")
    ]
    assert not no_columns, no_columns


def test_every_macro_of_the_project(manifest) -> None:
    macros = own(manifest["macros"])
    assert len(macros) > 30
    missing = sorted(
        f"{macro['name']} ({macro['original_file_path']})"
        for macro in macros.values()
        if not described(macro)
    )
    assert not missing, "add these to macros/_macros.yml:\n" + "\n".join(missing)


def test_every_test(manifest) -> None:
    tests = [n for n in own(manifest["nodes"]).values() if n["resource_type"] == "test"]
    singular = [t for t in tests if not t.get("test_metadata")]
    generic = [t for t in tests if t.get("test_metadata")]
    assert len(singular) >= 8 and len(generic) > 50
    missing = [t["unique_id"] for t in singular if not described(t)]
    assert not missing, "add these to tests/_tests.yml:\n" + "\n".join(missing)

    macros = own(manifest["macros"])
    for test in generic:
        name = test["test_metadata"]["name"]
        if described(test) or name in DBT_BUILT_IN_TESTS:
            continue
        macro = macros.get(f"macro.{PROJECT}.test_{name}")
        assert macro is not None and described(macro), (
            f"{test['unique_id']}: generic test {name} has no description"
        )

    unit_tests = own(manifest["unit_tests"])
    assert unit_tests, "the unit tests are part of the controls"
    assert not [key for key, test in unit_tests.items() if not described(test)]


def test_the_campaign_platform_is_an_exposure_of_the_published_audience(manifest) -> None:
    exposures = own(manifest["exposures"])
    platform = exposures["exposure.audience.campaign_platform_email_audience"]
    assert described(platform)
    assert "model.audience.eligible_audience" in platform["depends_on"]["nodes"]
    assert "model.audience.audience_changes" in platform["depends_on"]["nodes"]


def test_business_rules_are_doc_blocks_on_the_models_that_apply_them(manifest) -> None:
    docs = {
        doc["name"]: doc["block_contents"].strip()
        for doc in own(manifest["docs"]).values()
        if doc["name"].startswith("rule_") or doc["name"] in {"audience_changes", "run_history"}
    }
    assert len(docs) >= 8
    shown = " ".join(
        node.get("description", "") + " " + node.get("source_description", "")
        for node in (own(manifest["nodes"]) | own(manifest["sources"])).values()
    )
    missing = [name for name, text in docs.items() if text not in shown]
    assert not missing, f"doc blocks not shown on any model: {missing}"
    overview = manifest["docs"]["doc.audience.__overview__"]["block_contents"]
    for heading in ("## The flow", "## The controls", "## Audit trail"):
        assert heading in overview
