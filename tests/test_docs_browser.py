"""The docs site (``dbt docs generate --static``), opened in headless Chromium.

The page is an application that draws itself with JavaScript: the checks read the DOM after
its scripts ran, the way a person sees it. The overview, the published model's description,
its lineage graph (drawn by cytoscape) and the new audit models must all render.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from audit_helpers import build_docs_site, personal_values, screenshot_dir
from chromium import Chromium, chromium

pytestmark = pytest.mark.slow

VISIBLE_TEXT = "document.body.innerText"
LINEAGE = """
(() => {
  const container = document.getElementById('cy');
  const graph = container && container._cyreg && container._cyreg.cy;
  if (!graph) return null;
  const box = container.getBoundingClientRect();
  const nodes = graph.nodes().filter((node) => node.visible());
  if (!nodes.length || box.width === 0) return null;
  const inside = nodes.every((node) => {
    const b = node.renderedBoundingBox();
    return b.x1 >= -1 && b.y1 >= -1 && b.x2 <= box.width + 1 && b.y2 <= box.height + 1;
  });
  return {nodes: nodes.map((node) => node.id()), edges: graph.edges().filter(
    (edge) => edge.visible()).length, inside, width: box.width, height: box.height};
})()
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_docs_site(tmp_path_factory) / "static_index.html"


@pytest.fixture(scope="module")
def browser(site: Path):
    with chromium(width=1280, height=900) as opened:
        opened.open(site.as_uri() + "#!/overview")
        yield opened


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_dir(tmp_path_factory.mktemp("docs_screenshots"))


def show(browser: Chromium, route: str, text: str) -> str:
    """Go to a route of the docs app and wait until ``text`` is on screen; returns the text."""
    browser.evaluate(f"window.location.hash = {route!r}")
    return browser.wait_until(f"{VISIBLE_TEXT}.includes({text!r}) && {VISIBLE_TEXT}", timeout=20)


def test_the_page_is_one_self_contained_file(site: Path) -> None:
    html = site.read_text(encoding="utf-8")
    assert len(html) > 1_000_000
    assert not re.search(r"<script[^>]+src=\"https?://", html)
    assert not re.search(r"<link[^>]+href=\"https?://", html)
    emails = {value for value in personal_values() if "@" in value}
    assert not [email for email in emails if email in html.lower()]


def test_the_overview_renders(browser: Chromium) -> None:
    text = show(browser, "#!/overview", "The controls")
    for expected in ("Eligible email audience", "The flow", "The controls", "Audit trail"):
        assert expected in text
    assert "audience explain CUSTOMER_ID" in text and "drift guard" in text


def test_the_published_model_and_its_lineage_render(browser: Chromium, shots: Path) -> None:
    text = show(
        browser,
        "#!/model/model.audience.eligible_audience",
        "The published eligible email audience",
    )
    assert "Grain: one row per published customer" in text
    assert "Depends On" in text and "customer_audience_decisions" in text
    browser.evaluate("document.querySelector('a[ng-click=\"onLauncherClick()\"]').click()")
    lineage = browser.wait_until(LINEAGE, timeout=20)
    assert "model.audience.eligible_audience" in lineage["nodes"]
    assert "model.audience.customer_audience_decisions" in lineage["nodes"]
    assert "exposure.audience.campaign_platform_email_audience" in lineage["nodes"]
    assert lineage["edges"] >= 2
    assert lineage["inside"], "lineage nodes are drawn outside the graph panel"
    assert lineage["width"] > 200 and lineage["height"] > 300
    browser.wait_until(f"{VISIBLE_TEXT}.includes('Lineage Graph')")
    browser.screenshot(shots / "docs_eligible_audience.png")
    browser.evaluate(
        "document.querySelectorAll('[ng-click=\"closeGraph()\"]').forEach((b) => b.click())"
    )


def test_the_audit_model_shows_its_rule_and_sql(browser: Chromium) -> None:
    text = show(
        browser,
        "#!/model/model.audience.audience_changes",
        "Who entered and who left the audience",
    )
    assert "left: not_opted_in" in text
    for column in ("change_description", "previous_run_id"):
        assert column in text
    text = show(browser, "#!/source/source.audience.history.published_runs", "published run")
    assert "drift_acceptance_reason" in text
