"""An opt-out written on another spelling of the email channel, or on a channel that may be
it, excludes.

``E-Mail`` and ``e_mail`` are the email channel. A channel neither email nor one of var
``non_email_channels`` (blank, ``all``, a typo such as ``emial``) may be it: an opt-out on it
counts (doubt excludes), an opt-in on it consents to nothing. A channel in the list
(``In-App`` is ``inapp``) never counts. Eight customers the sample publishes get such a line;
the run excludes the five it must, agrees with the plain-Python reference, and
`audience explain` names the deciding line.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from conftest import AS_OF, PublishedRun, read_decisions, run_and_read_outputs
from reference import audience_rules as rules

from audience_pipeline.cli import possibly_email_line
from audience_pipeline.explain import explain
from audience_pipeline.reconciliation import possibly_email_channels

pytestmark = pytest.mark.slow  # runs the pipeline

PROJECT_DIR = Path(__file__).resolve().parent.parent
LATER = "2026-11-20T00:00:00Z"


@pytest.fixture(scope="module")
def channels(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, int], Path, PublishedRun]:
    """The customers named, the landing folder and what the run published."""
    result = rules.evaluate_dir(PROJECT_DIR / "seeds", dt.date.fromisoformat(AS_OF))
    spelled, underscored, blank, blank_opt_in, everything, typo, unknown_opt_in, in_app = (
        int(row["customer_id"]) for row in result.audience[:8]
    )
    work = tmp_path_factory.mktemp("consent_channels")
    landing = work / "landing"
    shutil.copytree(PROJECT_DIR / "seeds", landing, ignore=shutil.ignore_patterns("*.yml"))
    with (landing / "consent_events.csv").open("a", encoding="utf-8") as handle:
        handle.write(f"CE-900021,{spelled},E-Mail,OPT_OUT,{LATER},web\n")
        handle.write(f"CE-900022,{underscored}, e_mail ,unsubscribed,{LATER},web\n")
        handle.write(f"CE-900023,{blank},,OPT_OUT,{LATER},web\n")
        handle.write(f"CE-900024,{blank_opt_in},-,OPT_IN,{LATER},web\n")
        handle.write(f"CE-900025,{everything},ALL,OPT_OUT,{LATER},web\n")
        handle.write(f"CE-900026,{typo},emial,OPT_OUT,{LATER},web\n")
        handle.write(f"CE-900027,{unknown_opt_in},global,OPT_IN,{LATER},web\n")
        handle.write(f"CE-900028,{in_app},In-App,OPT_OUT,{LATER},web\n")
    published = run_and_read_outputs(landing, work)
    named = {
        "spelled": spelled,
        "underscored": underscored,
        "blank": blank,
        "blank_opt_in": blank_opt_in,
        "everything": everything,
        "typo": typo,
        "unknown_opt_in": unknown_opt_in,
        "in_app": in_app,
    }
    return named, landing, published


def test_an_opt_out_on_any_spelling_or_an_unknown_channel_excludes(
    channels: tuple[dict[str, int], Path, PublishedRun],
) -> None:
    named, _, published = channels
    database = published.database
    decisions = read_decisions(database)
    assert decisions[named["spelled"]] == "not_opted_in"
    assert decisions[named["underscored"]] == "not_opted_in"
    assert decisions[named["blank"]] == "not_opted_in"
    # an OPT_IN on a blank channel changes nothing: the earlier email opt-in still decides
    assert decisions[named["blank_opt_in"]] == "eligible"
    assert decisions[named["everything"]] == "not_opted_in"
    assert decisions[named["typo"]] == "not_opted_in"
    assert decisions[named["unknown_opt_in"]] == "eligible"
    # In-App reads inapp, one of the default non_email_channels: not about email
    assert decisions[named["in_app"]] == "eligible"


def test_the_decisions_equal_the_reference(
    channels: tuple[dict[str, int], Path, PublishedRun],
) -> None:
    _, landing, published = channels
    database = published.database
    expected = rules.evaluate_dir(landing, dt.date.fromisoformat(AS_OF))
    assert read_decisions(database) == expected.decisions


def test_explain_names_the_deciding_line(
    channels: tuple[dict[str, int], Path, PublishedRun],
) -> None:
    named, _, published = channels
    database = published.database
    blank = explain(database, named["blank"])
    assert "deciding event: CE-900023" in blank
    assert "channel -, OPT_OUT" in blank
    spelled = explain(database, named["spelled"])
    assert "deciding event: CE-900021" in spelled
    assert "channel email, OPT_OUT" in spelled
    typo = explain(database, named["typo"])
    assert "deciding event: CE-900026" in typo
    assert "channel emial, OPT_OUT" in typo


def test_the_run_shows_how_each_channel_was_read(
    channels: tuple[dict[str, int], Path, PublishedRun],
) -> None:
    _, _, published = channels
    report = published.reconciliation
    shown = {channel["channel"]: channel for channel in report["consent_channels"]}
    assert shown["email"]["reading"] == "email"  # E-Mail and e_mail among them
    assert shown["email"]["email_events"] == shown["email"]["events"]
    assert shown["inapp"]["reading"] == "not_email"  # In-App, in the default list
    assert shown["inapp"]["email_events"] == 0
    assert shown["emial"] == {
        "channel": "emial",
        "reading": "possibly_email",
        "events": 1,
        "email_events": 1,
        "customers": 1,
    }
    assert shown["global"]["reading"] == "possibly_email"
    assert shown["global"]["email_events"] == 0  # its one event is an OPT_IN
    # the blank channel ('' and '-'): one opt-out, one opt-in
    assert shown[None]["reading"] == "possibly_email"
    assert (shown[None]["events"], shown[None]["email_events"]) == (2, 1)
    # the run names those whose events count (global's only event is an opt-in: it does not)
    line = possibly_email_line(possibly_email_channels(report))
    assert line.endswith(": (blank) (1 of 2 events), all (1 of 1 event), emial (1 of 1 event)")
    page = (published.output_dir / "run_report.html").read_text("utf-8")
    assert page.count('class="consent-channel reading-possibly_email"') == 4
    assert page.count('class="consent-channel reading-not_email"') >= 1
