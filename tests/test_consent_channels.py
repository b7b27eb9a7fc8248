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
import json
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import AS_OF, PublishedRun, query, read_decisions, run_and_read_outputs
from reference import audience_rules as rules

from audience_pipeline.channels import possibly_email_line
from audience_pipeline.cli import format_history
from audience_pipeline.dbt_invoke import DbtSetup, run_dbt
from audience_pipeline.drift import DriftFailure
from audience_pipeline.errors import ControlFailure
from audience_pipeline.explain import explain
from audience_pipeline.history import default_destination, read_published_runs
from audience_pipeline.pipeline import RunResult, run_pipeline
from audience_pipeline.redaction import removed_address

pytestmark = pytest.mark.slow  # runs the pipeline

PROJECT_DIR = Path(__file__).resolve().parent.parent
LATER = "2026-11-20T00:00:00Z"
#: How many channels each published run kept, as the history has them.
RUN_CHANNEL_COUNTS = (
    "select run_id, consent_channel_count from history.published_runs order by run_id"
)


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
    assert "channel (blank), OPT_OUT" in blank
    spelled = explain(database, named["spelled"])
    assert "deciding event: CE-900021" in spelled
    assert "channel email, OPT_OUT" in spelled
    typo = explain(database, named["typo"])
    assert "deciding event: CE-900026" in typo
    assert "channel emial, OPT_OUT" in typo


def test_the_run_shows_how_each_channel_was_read(
    channels: tuple[dict[str, int], Path, PublishedRun],
) -> None:
    _, landing, published = channels
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
        "withholding_events": 1,
        "customers": 1,
        "change": None,  # a first run: nothing to compare with
        "previous_reading": None,
    }
    assert shown["global"]["reading"] == "possibly_email"
    assert shown["global"]["email_events"] == 0  # its one event is an OPT_IN
    # the blank channel ('' and '-'): one opt-out, one opt-in
    assert shown[None]["reading"] == "possibly_email"
    assert (shown[None]["events"], shown[None]["email_events"]) == (2, 1)
    assert shown[None]["withholding_events"] == 1
    # on email, every status but OPT_IN withholds consent (unsubscribed, PENDING, blank): the
    # accepted events, screened by the plain-Python reference
    screened = rules.screen_file(
        rules.CONSENT_EVENTS, rules.load_rows(landing / "consent_events.csv")
    )
    email_statuses = [
        rules.upper_text(row["consent_status"])
        for row in screened.accepted
        if rules.channel_read(row["channel"]) == "email"
    ]
    assert len(email_statuses) == shown["email"]["email_events"]
    assert shown["email"]["withholding_events"] == sum(
        status != "OPT_IN" for status in email_statuses
    )
    # the run names those whose events count (global's only event is an opt-in: it does not)
    line = possibly_email_line(report)
    assert line.endswith(": (blank) (1 of 2 events), all (1 of 1 event), emial (1 of 1 event)")
    page = (published.output_dir / "run_report.html").read_text("utf-8")
    assert page.count('class="consent-channel reading-possibly_email change-none"') == 4
    assert page.count('class="consent-channel reading-not_email change-none"') >= 1


def test_the_next_run_marks_a_channel_it_did_not_read_before_as_new(
    channels: tuple[dict[str, int], Path, PublishedRun], tmp_path: Path
) -> None:
    """The next day's export brings ``newsletter-sms``: the run to the same destination marks
    it new, the channels read before as seen before, and the history keeps both runs'."""
    _, _, published = channels
    database = tmp_path / "a.duckdb"
    result = _next_day_with_a_new_channel(channels, database, tmp_path)
    output_dir = tmp_path / "out"
    report = result.report
    assert report["deltas"]["previous_run_id"] == 1
    shown = {channel["channel"]: channel for channel in report["consent_channels"]}
    assert shown["newslettersms"]["change"] == "new"
    assert {shown[name]["change"] for name in ("email", "inapp", "emial", None)} == {"seen_before"}
    line = possibly_email_line(report)
    # the new channel first among those that count, marked new
    assert line.endswith(
        ": newslettersms (1 of 1 event, new), (blank) (1 of 2 events), all (1 of 1 event), "
        "emial (1 of 1 event)"
    )
    page = (output_dir / "run_report.html").read_text("utf-8")
    assert '<td class="channel-change">new</td>' in page
    kept = query(
        database,
        "select run_id, count(*), count(*) filter (where channel = 'newslettersms'), "
        "list(distinct channel_change order by channel_change) "
        "from history.run_consent_channels group by run_id order by run_id",
    )
    counts = query(database, RUN_CHANNEL_COUNTS)
    first_run = len(published.reconciliation["consent_channels"])
    assert kept == [
        (1, first_run, 0, [None]),  # a first run: nothing to compare with
        (2, first_run + 1, 1, ["new", "seen_before"]),
    ]
    assert counts == [(1, first_run), (2, first_run + 1)]
    # audience history finds the run that first read the channel
    runs = read_published_runs(database)
    assert [(run["consent_channel_count"], run["new_consent_channels"]) for run in runs] == [
        (first_run, None),
        (first_run + 1, ["newslettersms"]),
    ]
    assert f"  {first_run + 1} (1 new: newslettersms)  " in format_history(runs)
    # every channel the first run read email events on is still read: nothing lost
    (channel_check,) = (c for c in result.drift.checks if c.control == "email_consent_channels")
    assert channel_check.outcome == "pass" and channel_check.previous == channel_check.current
    # a channel is free text from the export: an address in it is not shown
    with duckdb.connect(str(database)) as con:
        con.execute(
            "update history.run_consent_channels set channel = 'news jane@example.com' "
            "where channel = 'newslettersms'"
        )
    assert read_published_runs(database)[1]["new_consent_channels"] == [
        f"news {removed_address('jane@example.com')}"
    ]


def test_history_reads_runs_recorded_before_the_comparison_was_kept(
    channels: tuple[dict[str, int], Path, PublishedRun], tmp_path: Path
) -> None:
    """A history whose ``run_consent_channels`` has no ``channel_change`` yet (recorded before
    the history kept the comparison): ``audience history`` lists its run with its channels and
    nothing new; the next run adds the column, compares with that run and keeps what is new."""
    database = tmp_path / "a.duckdb"
    shutil.copyfile(channels[2].database, database)
    with duckdb.connect(str(database)) as con:
        con.execute("alter table history.run_consent_channels drop column channel_change")
    (older,) = read_published_runs(database)
    assert older["new_consent_channels"] is None
    assert older["consent_channel_count"] == len(channels[2].reconciliation["consent_channels"])
    _next_day_with_a_new_channel(channels, tmp_path / "b.duckdb", tmp_path, source=database)
    assert [run["new_consent_channels"] for run in read_published_runs(tmp_path / "b.duckdb")] == [
        None,
        ["newslettersms"],
    ]


#: What a history recorded before the channels were kept lacks.
FORGET_CHANNELS = """
    drop table history.run_consent_channels;
    alter table history.published_runs drop column consent_channel_count;
"""


def _next_day_with_a_new_channel(
    channels: tuple[dict[str, int], Path, PublishedRun],
    database: Path,
    tmp_path: Path,
    history_edit: str | None = None,
    opting_out: list[int] | None = None,
    source: Path | None = None,
) -> RunResult:
    """Run the next day to the first run's destination, on a copy of its database (or of
    ``source``), with an opt-out on ``newsletter-sms`` (by the In-App customer, else by
    ``opting_out``), after ``history_edit`` (SQL) changed the copy's history."""
    named, landing, published = channels
    shutil.copyfile(source or published.database, database)  # the first run's, left untouched
    if history_edit:
        with duckdb.connect(str(database)) as con:
            con.execute(history_edit)
    next_day = tmp_path / "landing"
    shutil.copytree(landing, next_day)
    with (next_day / "consent_events.csv").open("a", encoding="utf-8") as handle:
        for index, customer_id in enumerate(opting_out or [named["in_app"]]):
            handle.write(f"CE-95{index:04d},{customer_id},newsletter-sms,OPT_OUT,{LATER},web\n")
    return _run_next_day(published, next_day, database, tmp_path)


def _next_day_copy(
    published: PublishedRun, landing: Path, tmp_path: Path
) -> tuple[Path, Path, list[str]]:
    """A copy of the first run's database and of its landing folder for the next day, and the
    copy's consent event lines (to edit, then write back)."""
    database = tmp_path / "a.duckdb"
    shutil.copyfile(published.database, database)
    next_day = tmp_path / "landing"
    shutil.copytree(landing, next_day)
    events = (next_day / "consent_events.csv").read_text("utf-8").splitlines(keepends=True)
    return database, next_day, events


def _published_ids(output_dir: Path) -> set[str]:
    """The customer ids of the audience published into ``output_dir``."""
    audience = (output_dir / "eligible_audience.csv").read_text("utf-8").splitlines()
    return {line.split(",")[0] for line in audience[1:]}


def _control_status(database: Path, result: RunResult, control: str) -> str:
    """How the history recorded ``control`` for the run ``result`` published."""
    (status,) = query(
        database,
        "select status from history.run_controls where run_id = ? and control = ?",
        [result.run_id, control],
    )[0]
    return str(status)


def _run_next_day(
    published: PublishedRun, landing: Path, database: Path, tmp_path: Path, **options: Any
) -> RunResult:
    """Run ``landing`` as of the next day to the first run's destination, into ``database``."""
    return run_pipeline(
        landing,
        tmp_path / "out",
        as_of="2026-11-27",
        database=database,
        quiet=True,
        destination=default_destination(published.output_dir),
        **options,
    )


def _without_event(next_day: Path, events: list[str], event_id: str) -> None:
    """Write the next day's consent events without the line of ``event_id``."""
    kept = [line for line in events if not line.startswith(f"{event_id},")]
    (next_day / "consent_events.csv").write_text("".join(kept), "utf-8")


def _stopped_on_lost_opt_outs(
    published: PublishedRun, next_day: Path, database: Path, tmp_path: Path
) -> DriftFailure:
    """Run the next day; the drift guard stops it on lost_opt_outs alone."""
    with pytest.raises(DriftFailure) as stopped:
        _run_next_day(published, next_day, database, tmp_path)
    failed = {check.control for check in stopped.value.result.checks if check.outcome == "fail"}
    assert failed == {"lost_opt_outs"}
    return stopped.value


def test_a_run_recorded_before_channels_were_kept_marks_none_new(
    channels: tuple[dict[str, int], Path, PublishedRun], tmp_path: Path
) -> None:
    """Against a previous run whose channels the history did not keep, nothing is new: there
    is nothing to compare with. The run keeps its own channels for the next."""
    database = tmp_path / "a.duckdb"
    result = _next_day_with_a_new_channel(channels, database, tmp_path, FORGET_CHANNELS)
    report = result.report
    assert report["deltas"]["previous_run_id"] == 1
    assert {channel["change"] for channel in report["consent_channels"]} == {None}
    line = possibly_email_line(report)
    # not marked new, and ranked by its count (the blank channel's two events first)
    assert line.endswith(
        ": (blank) (1 of 2 events), all (1 of 1 event), emial (1 of 1 event), "
        "newslettersms (1 of 1 event)"
    )
    assert query(database, RUN_CHANNEL_COUNTS) == [(1, None), (2, len(report["consent_channels"]))]
    assert [run["new_consent_channels"] for run in read_published_runs(database)] == [None, None]


def test_a_run_stopped_by_a_new_channels_opt_outs_names_the_channel(
    channels: tuple[dict[str, int], Path, PublishedRun], tmp_path: Path
) -> None:
    """A new channel's opt-outs take a third of the audience: the drift guard stops the run,
    and its message names the new channel, as a published run's line would."""
    _, _, published = channels
    leaving = [int(row["customer_id"]) for row in published.audience[8:]]
    leaving = leaving[: len(published.audience) // 3]
    with pytest.raises(DriftFailure) as stopped:
        _next_day_with_a_new_channel(channels, tmp_path / "a.duckdb", tmp_path, opting_out=leaving)
    message = str(stopped.value)
    assert "nothing was published" in message
    count = f"{len(leaving):,}"
    assert f": newslettersms ({count} of {count} events, new), (blank) " in message


def test_a_channel_gone_from_the_export_stops_the_run_until_accepted(
    channels: tuple[dict[str, int], Path, PublishedRun], tmp_path: Path
) -> None:
    """The next day's export no longer holds the opt-out on ``emial``: one customer, far under
    the audience and input thresholds, but an opt-out no longer read. The drift guard stops
    the run and names the channel; accepted, the run publishes the customer and the history
    keeps the acceptance."""
    named, landing, published = channels
    database, next_day, events = _next_day_copy(published, landing, tmp_path)
    kept = [line for line in events if ",emial," not in line]
    assert len(kept) == len(events) - 1
    (next_day / "consent_events.csv").write_text("".join(kept), "utf-8")
    with pytest.raises(DriftFailure) as stopped:
        _run_next_day(published, next_day, database, tmp_path)
    message = str(stopped.value)
    assert "nothing was published" in message
    assert (
        "email_consent_channels: email events lost on 1 consent channel(s) since the previous "
        "run to this destination (emial: 1 -> 0 email events, lost 100.0%, gone from the export)"
    ) in message
    failed = {check.control for check in stopped.value.result.checks if check.outcome == "fail"}
    # the audience moved by one customer: the one whose opt-out is gone, named by both checks
    assert failed == {"email_consent_channels", "lost_opt_outs"}
    assert f"customer {named['typo']} (event CE-900026)" in message
    accepted = _run_next_day(published, next_day, database, tmp_path, accept_drift="emial retired")
    # the opt-out no longer read no longer excludes
    assert str(named["typo"]) in _published_ids(tmp_path / "out")
    assert _control_status(database, accepted, "email_consent_channels") == "accepted"


def test_opt_outs_lost_behind_as_many_new_opt_ins_stop_the_run(
    channels: tuple[dict[str, int], Path, PublishedRun], tmp_path: Path
) -> None:
    """The next day's export lost a third of the email channel's opt-outs and gained as many
    opt-ins (from customers already published): its email events are as many as the day before,
    but those withholding consent are fewer, and the run stops naming them."""
    _, landing, published = channels
    database, next_day, events = _next_day_copy(published, landing, tmp_path)
    opt_outs = [line for line in events if ",email,OPT_OUT," in line]
    dropped = opt_outs[: len(opt_outs) // 3]
    kept = [line for line in events if line not in dropped]
    members = [row["customer_id"] for row in published.audience[8 : 8 + len(dropped)]]
    added = [
        f"CE-96{index:04d},{member},email,OPT_IN,{LATER},web\n"
        for index, member in enumerate(members)
    ]
    (next_day / "consent_events.csv").write_text("".join(kept + added), "utf-8")
    with pytest.raises(DriftFailure) as stopped:
        _run_next_day(published, next_day, database, tmp_path)
    check = next(
        check for check in stopped.value.result.checks if check.control == "email_consent_channels"
    )
    assert check.outcome == "fail"
    email = next(
        channel
        for channel in published.reconciliation["consent_channels"]
        if channel["channel"] == "email"
    )
    events, withholding = email["email_events"], email["withholding_events"]
    assert query(
        published.database,
        "select withholding_event_count from history.run_consent_channels where channel = 'email'",
    ) == [(withholding,)]
    now = query(
        database,
        "select email_event_count, withholding_event_count from marts.audience_consent_channels "
        "where channel = 'email'",
    )
    assert now == [(events, withholding - len(dropped))]  # as many email events as before
    assert (
        f"(email: {events} -> {events} email events; {withholding} -> "
        f"{withholding - len(dropped)} of them withholding consent (every status but OPT_IN), "
        f"lost {len(dropped) / withholding:.1%}, fewer withholding consent in the export "
        "(opt-ins do not make up for opt-outs))"
    ) in check.detail


def test_a_run_recorded_before_withholding_events_were_kept_is_compared_on_email_events(
    channels: tuple[dict[str, int], Path, PublishedRun], tmp_path: Path
) -> None:
    """A history whose ``run_consent_channels`` lacks ``withholding_event_count`` (kept since):
    the next run compares email events only, says nothing of withholding, and the history
    gains the column, null for the run recorded before and counted for the new one."""
    database = tmp_path / "a.duckdb"
    forget = "alter table history.run_consent_channels drop column withholding_event_count"
    result = _next_day_with_a_new_channel(channels, database, tmp_path, forget)
    (detail,) = query(
        database,
        "select detail from history.run_controls where run_id = ? "
        "and control = 'email_consent_channels' and status = 'pass'",
        [result.run_id],
    )[0]
    assert "email events, none lost more than 20.0%" in detail
    assert "withholding" not in detail
    kept = query(
        database,
        "select run_id, withholding_event_count from history.run_consent_channels "
        "where channel = 'email' order by run_id",
    )
    email = next(c for c in result.report["consent_channels"] if c["channel"] == "email")
    assert kept == [(1, None), (2, email["withholding_events"])]


@pytest.fixture(scope="module")
def opted_out(
    channels: tuple[dict[str, int], Path, PublishedRun], tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, Path, PublishedRun]:
    """A first run whose landing folder adds an email opt-out (CE-970001) by a customer the
    sample publishes: the customer, that landing folder and what the run published."""
    _, landing, published = channels
    customer = int(published.audience[20]["customer_id"])
    work = tmp_path_factory.mktemp("opted_out")
    first_day = work / "landing"
    shutil.copytree(landing, first_day)
    with (first_day / "consent_events.csv").open("a", encoding="utf-8") as handle:
        handle.write(f"CE-970001,{customer},email,OPT_OUT,{LATER},web\n")
    return customer, first_day, run_and_read_outputs(first_day, work)


def test_a_published_customer_whose_opt_out_is_gone_stops_the_run_until_accepted(
    opted_out: tuple[int, Path, PublishedRun], tmp_path: Path
) -> None:
    """The next day's export lost one opt-out, by a customer who had opted in before it: one
    email event of many on the channel, one customer entering, so no count moves enough. The
    customer would be published on the opt-in their opt-out overrode: the drift guard stops
    the run naming them and the event; accepted, the run publishes them."""
    customer, first_day, published = opted_out
    assert str(customer) not in {row["customer_id"] for row in published.audience}
    assert query(
        published.database,
        "select withholding_event_id, withholding_event_ts_utc from history.run_decisions "
        "where customer_id = ?",
        [customer],
    ) == [("CE-970001", dt.datetime(2026, 11, 20))]
    database, next_day, events = _next_day_copy(published, first_day, tmp_path)
    _without_event(next_day, events, "CE-970001")
    stopped = _stopped_on_lost_opt_outs(published, next_day, database, tmp_path)
    assert (
        f"lost_opt_outs: 1 customer(s) published, themselves or at their address, "
        f"whose opt-out the previous run to this "
        "destination read is no longer read (gone from the export, quarantined, re-dated or "
        f"turned into an opt-in): customer "
        f"{customer} (event CE-970001)"
    ) in str(stopped)
    explained = explain(database, customer)
    assert (
        "Opt-out no longer read: in published run #1 the latest email event was CE-970001 "
        "(2026-11-20 00:00:00 UTC), withholding consent; this run publishes the customer on "
    ) in explained
    accepted = _run_next_day(
        published, next_day, database, tmp_path, accept_drift="the opt-out was entered in error"
    )
    assert str(customer) in _published_ids(tmp_path / "out")
    assert _control_status(database, accepted, "lost_opt_outs") == "accepted"


def test_an_opt_out_gone_from_a_holder_not_published_stops_a_run_publishing_their_address(
    opted_out: tuple[int, Path, PublishedRun], tmp_path: Path
) -> None:
    """Customer 1192 opted out (CE-500191) and is not published (no recent booking); customer
    1191 holds the same address, which the opt-out blocks (rule 9). The next day's export lost
    the opt-out: 1191 would be published at the address, so the run stops naming 1192 and the
    holder published; explain says it for both."""
    _, first_day, published = opted_out
    decisions = read_decisions(published.database)
    assert (decisions[1192], decisions[1191]) == ("not_opted_in", "shared_address_blocked")
    database, next_day, events = _next_day_copy(published, first_day, tmp_path)
    _without_event(next_day, events, "CE-500191")
    stopped = _stopped_on_lost_opt_outs(published, next_day, database, tmp_path)
    assert "customer 1192 (event CE-500191; customer 1191 is published at their address)" in str(
        stopped
    )
    assert "this run publishes customer 1191 at the address the customer holds" in explain(
        database, 1192
    )
    assert (
        "Published at an address whose other holder's opt-out is no longer read: customer(s) "
        "1192" in explain(database, 1191)
    )


def test_a_run_recorded_before_withholding_events_were_kept_has_nothing_to_compare(
    opted_out: tuple[int, Path, PublishedRun], tmp_path: Path
) -> None:
    """Against a previous run whose history kept no customer's withholding event (recorded
    before ``run_decisions`` and ``published_runs`` had the columns), the opt-out gone from the
    export cannot be seen: the check says it had nothing to compare with rather than that no
    opt-out was lost, and the run keeps the events and their count for the next."""
    customer, first_day, published = opted_out
    database, next_day, events = _next_day_copy(published, first_day, tmp_path)
    with duckdb.connect(str(database)) as con:
        con.execute(
            """
            alter table history.run_decisions drop column withholding_event_id;
            alter table history.run_decisions drop column withholding_event_ts_utc;
            alter table history.published_runs drop column withholding_customer_count;
            """
        )
    _without_event(next_day, events, "CE-970001")
    result = _run_next_day(published, next_day, database, tmp_path)
    assert str(customer) in _published_ids(tmp_path / "out")
    (status, detail) = query(
        database,
        "select status, detail from history.run_controls where run_id = ? "
        "and control = 'lost_opt_outs'",
        [result.run_id],
    )[0]
    assert (status, detail) == (
        "not_applicable",
        "the previous run to this destination was recorded before the history kept each "
        "customer's withholding event: nothing to compare with",
    )
    counts = query(
        database,
        "select run_id, withholding_customer_count from history.published_runs order by run_id",
    )
    (withholding,) = query(
        database,
        "select count(*) from history.run_decisions "
        "where run_id = ? and withholding_event_ts_utc is not null",
        [result.run_id],
    )[0]
    assert counts == [(1, None), (result.run_id, withholding)] and withholding > 0


def test_an_opt_out_turned_into_an_opt_in_stops_the_run(
    opted_out: tuple[int, Path, PublishedRun], tmp_path: Path
) -> None:
    """The next day's export holds the same line with OPT_IN for OPT_OUT (same id, same
    instant): nothing is gone by id or by count of lines, but the opt-out is no longer read."""
    customer, first_day, published = opted_out
    database, next_day, events = _next_day_copy(published, first_day, tmp_path)
    turned = [
        line.replace(",OPT_OUT,", ",OPT_IN,") if line.startswith("CE-970001,") else line
        for line in events
    ]
    (next_day / "consent_events.csv").write_text("".join(turned), "utf-8")
    with pytest.raises(DriftFailure) as stopped:
        _run_next_day(published, next_day, database, tmp_path)
    assert f"customer {customer} (event CE-970001)" in str(stopped.value)


def test_a_customer_who_opted_in_again_is_published_without_stopping(
    opted_out: tuple[int, Path, PublishedRun], tmp_path: Path
) -> None:
    """The opt-out is still in the next day's export and a later opt-in follows it: the
    customer is published and nothing stops, since the event that excluded them is still read."""
    customer, first_day, published = opted_out
    database, next_day, events = _next_day_copy(published, first_day, tmp_path)
    again = f"CE-970002,{customer},email,OPT_IN,2026-11-27T08:00:00Z,web\n"
    (next_day / "consent_events.csv").write_text("".join([*events, again]), "utf-8")
    result = _run_next_day(published, next_day, database, tmp_path)
    assert str(customer) in _published_ids(tmp_path / "out")
    assert _control_status(database, result, "lost_opt_outs") == "pass"


def test_listing_a_channel_read_as_email_before_stops_the_next_run(
    channels: tuple[dict[str, int], Path, PublishedRun], tmp_path: Path
) -> None:
    """The team lists ``emial`` in var ``non_email_channels``: its opt-out stops excluding. The
    drift guard stops the next run to the destination and says why the events are gone."""
    _, landing, published = channels
    database = tmp_path / "a.duckdb"
    shutil.copyfile(published.database, database)
    listed = ["sms", "mms", "push", "inapp", "postal", "post", "phone", "whatsapp", "emial"]
    with pytest.raises(DriftFailure) as stopped:
        _run_next_day(
            published, landing, database, tmp_path, rule_parameters={"non_email_channels": listed}
        )
    assert (
        "(emial: 1 -> 0 email events, lost 100.0%, now read as not email (var non_email_channels))"
    ) in str(stopped.value)


def test_a_run_stopped_before_the_channels_comparison_still_shows_the_channels(
    channels: tuple[dict[str, int], Path, PublishedRun], tmp_path: Path
) -> None:
    """A channel the history holds twice for the previous run fails a control and the
    comparison is not built: the stopped run's report and reconciliation.json still list
    every channel as read, with nothing compared."""
    _, _, published = channels
    repeat = (
        "insert into history.run_consent_channels "
        "select * from history.run_consent_channels where channel = 'email'"
    )
    with pytest.raises(ControlFailure) as stopped:
        _next_day_with_a_new_channel(channels, tmp_path / "a.duckdb", tmp_path, repeat)
    message = str(stopped.value)
    assert "unique_audience_previous_consent_channels_channel" in message
    folder = Path(re.search(r"are in (\S+) for diagnosis", message).group(1))
    kept = json.loads((folder / "reconciliation.json").read_text("utf-8"))
    shown = {channel["channel"]: channel for channel in kept["consent_channels"]}
    assert len(shown) == len(published.reconciliation["consent_channels"]) + 1
    assert shown["newslettersms"]["reading"] == "possibly_email"
    assert {channel["change"] for channel in shown.values()} == {None}
    page = (folder / "run_report.html").read_text("utf-8")
    assert '<td class="channel-change">nothing to compare with</td>' in page


def test_a_plain_dbt_run_reads_a_history_not_migrated_yet(
    channels: tuple[dict[str, int], Path, PublishedRun], tmp_path: Path
) -> None:
    """``dbt run`` with a destination on a database whose history has neither
    ``consent_channel_count`` nor ``run_consent_channels`` (no ``audience run`` migrated it
    since): the comparison builds and has nothing to compare with."""
    _, _, published = channels
    database = tmp_path / "a.duckdb"
    shutil.copyfile(published.database, database)
    with duckdb.connect(str(database)) as con:
        con.execute(FORGET_CHANNELS)
    setup = DbtSetup(
        database=database,
        dbt_vars={
            "as_of_date": "2026-11-27",
            "destination": default_destination(published.output_dir),
        },
        target_path=tmp_path / "target",
        log_path=tmp_path / "logs",
    )
    models = ["audience_previous_run", "audience_previous_consent_channels"]
    built = run_dbt(["run", "--select", *models, "audience_consent_channel_changes"], setup)
    assert built.success, built.error
    previous = query(
        database,
        "select previous_run_id, previous_consent_channel_count from marts.audience_previous_run",
    )
    changes = query(
        database,
        "select count(*), count(channel_change), count(previous_run_id) "
        "from marts.audience_consent_channel_changes",
    )
    assert previous == [(1, None)]
    assert changes == [(len(published.reconciliation["consent_channels"]), 0, 0)]


def test_history_names_no_folder_only_a_run_never_published_went_to() -> None:
    """A destination's folders (``published to``) are those of its published runs: a run
    killed before its folder switched to it never published there."""
    run = {
        "run_id": 1,
        "as_of_date": "2026-11-26",
        "published_at": "2026-11-26 10:00:00",
        "output_dir": "/data/a",
        "destination": "crm",
        "customers": 151,
        "eligible": 70,
        "entered": 70,
        "left": 0,
        "controls_passed": 109,
        "controls_failed": 0,
        "consent_channel_count": 3,
        "new_consent_channels": None,
        "drift_status": "passed",
        "drift_acceptance_reason": None,
        "rule_parameters": None,
        "published": True,
        "forgotten_at": None,
        "forgotten_because": None,
    }
    never = {**run, "run_id": 2, "output_dir": "/data/b", "published": False}
    said = format_history([run, never])
    assert said.splitlines()[0] == "crm (published to /data/a)"
    assert "run #2 (as of 2026-11-26" in said


def test_history_names_the_run_that_changed_a_parameter_first_also_before_a_backfill() -> None:
    """Run 2 changed the window; run 3, a backfill dated before it, kept it: the change is run
    2's (the table lists run 3 first, by its as-of date)."""
    from audience_pipeline.cli import parameter_lines

    def run(run_id: int, as_of: str, days: int) -> dict:
        return {"run_id": run_id, "as_of_date": as_of, "rule_parameters": {"days": days}}

    said = parameter_lines(
        [run(1, "2026-11-26", 365), run(3, "2026-11-27", 180), run(2, "2026-11-28", 180)]
    )
    assert said == [
        "  rules' parameters from run #1: days 365",
        "  rules' parameters from run #2: days 180 (was 365)",
    ]
