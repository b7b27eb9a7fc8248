"""The drift guard: stop a run whose audience or inputs moved too much since the last publish.

Evaluated after ``dbt build`` passed every control and before anything is published, against
the previous run **published to the same destination** (the model ``audience_previous_run``:
the destination's latest run before this as-of date). It fails the run (nothing is published)
when:

- **audience change**: the customers who entered plus those who left the audience, as a share
  of the previous published audience, exceed ``max_audience_change`` (default 20%), and they
  are at least ``min_audience_change`` customers (default 10), so small lists are not blocked
  by noise. A swap of members at a constant size is a change too. Not applicable on the first
  run to a destination;
- **as-of order**: the run is dated before the destination's latest published run (a
  forgotten or wrong ``--as-of``);
- **same-day rerun**: the run reruns a day already published to the destination and its
  audience differs from what that run published (the model ``audience_rerun_differences``).
  Its delta files are against the day before, like the first run's, so a platform that applied
  the first run's files would keep a customer this run excludes; accepted, the run publishes
  and the platform's list is replaced with ``eligible_audience.csv`` (a full sync);
- **empty audience**: nobody is eligible, unless the run said it may be
  (``--allow-empty-audience``); ``--accept-drift`` does not accept this one;
- **empty input**: an input file has no data rows (checked on every run, the first included),
  unless the run said that file may be empty (``--allow-empty-suppressions``);
- **input loss**: an input file has fewer raw rows than in the previous published run by more
  than ``max_input_loss`` (default 20%) of them. Growth never fails;
- **email consent channels**: a consent channel on which the previous published run read email
  events (opt-outs among them) has fewer of them in this build by more than
  ``max_input_loss``: gone from the export, emptied, or now read as not email. Rules 5 and 6
  decide on the events they read, so an opt-out that is no longer read no longer excludes;
  the file's own row count can hide it (a channel that is a small part of the file). Not
  applicable on the first run to a destination, nor when that run was recorded before the
  history kept its channels. Its events withholding consent (every status but OPT_IN) are
  checked apart, so opt-ins gained cannot hide opt-outs lost;
- **lost opt-outs**: a customer this build publishes whose latest email event in the previous
  published run withheld consent, on an opt-in dated no later than that event, which is then
  no longer read (the model ``audience_lost_opt_outs``), or one who is not published but whose
  address another holder is published at, which that event would block (rule 9): any one
  fails. Per customer, so it sees an opt-out gone where another arrived, which counts cannot;
- **lost suppressions**: a customer this build publishes whom the previous published run held
  suppressed, on a suppression that ran with no end or through a day not before this build's
  as-of date, which is then no longer read (the model ``audience_lost_suppressions``), or
  whose address another holder is published at (rule 9 would block it): any one fails. A
  suppression that ended passes, and so does a customer suppressed by email only who
  holds a new address (the suppression follows the address, rule 7); the file's row count
  cannot see one line gone.

A person who expects the change reruns with ``--accept-drift "why"``: the failing checks are
then recorded as ``accepted``, with the reason, in the run history (``history.published_runs``
and ``history.run_controls``), and the run publishes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import duckdb

from audience_pipeline.channels import channel_name, channel_without_addresses
from audience_pipeline.errors import PipelineError
from audience_pipeline.history import PublishedRun, build_comparison, change_counts
from audience_pipeline.redaction import printable, without_addresses

DEFAULT_MAX_AUDIENCE_CHANGE = 0.2
DEFAULT_MAX_INPUT_LOSS = 0.2
DEFAULT_MIN_AUDIENCE_CHANGE = 10

#: Checks that ``--accept-drift`` cannot accept: each has an option of its own.
NOT_ACCEPTABLE = frozenset({"audience_empty"})


class DriftFailure(PipelineError):
    """The audience or an input moved beyond its threshold; nothing was published."""

    def __init__(self, message: str, result: DriftResult | None = None) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class DriftThresholds:
    """Shares (0.2 = 20%) beyond which the run fails unless the change is accepted.

    ``min_audience_change``: the audience change fails only when at least this many customers
    entered or left.
    """

    max_audience_change: float = DEFAULT_MAX_AUDIENCE_CHANGE
    max_input_loss: float = DEFAULT_MAX_INPUT_LOSS
    min_audience_change: int = DEFAULT_MIN_AUDIENCE_CHANGE

    def __post_init__(self) -> None:
        for name in ("max_audience_change", "max_input_loss"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a share >= 0 (0.2 = 20%), not {value!r}")
        minimum = self.min_audience_change
        if not (isinstance(minimum, int) and not isinstance(minimum, bool) and minimum >= 0):
            raise ValueError(f"min_audience_change must be a whole number >= 0, not {minimum!r}")


@dataclass(frozen=True)
class DriftCheck:
    """One check of the guard, with the numbers it compared (counts only)."""

    control: str
    subject: str
    previous: int | None
    current: int
    share: float | None
    threshold: float | None
    outcome: str  # pass, fail, accepted or not_applicable
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "control": self.control,
            "subject": self.subject,
            "previous": self.previous,
            "current": self.current,
            "share": self.share,
            "threshold": self.threshold,
            "outcome": self.outcome,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class DriftResult:
    """Every check of the guard, and the acceptance a person gave, if any."""

    checks: tuple[DriftCheck, ...]
    accepted_reason: str | None = None
    previous_run_id: int | None = None
    previous_as_of_date: str | None = None
    thresholds: DriftThresholds = field(default_factory=DriftThresholds)

    @property
    def failed(self) -> bool:
        return any(check.outcome == "fail" for check in self.checks)

    @property
    def status(self) -> str:
        """``failed``, ``accepted`` (a failing check was accepted), or ``passed``."""
        if self.failed:
            return "failed"
        if any(check.outcome == "accepted" for check in self.checks):
            return "accepted"
        return "passed"

    def describe(self) -> str:
        """The failing (or accepted) checks as readable lines."""
        return "\n".join(
            f"  - {check.control}: {check.detail}"
            for check in self.checks
            if check.outcome in {"fail", "accepted"}
        )


@dataclass(frozen=True)
class ChannelEvents:
    """A consent channel's email events in the previous run to the destination and in this
    build, how this build reads the channel (None: no event on it), and of those events the
    ones withholding consent (every status but OPT_IN) then and now (``withholding_before``
    None: the previous run was recorded before the history kept them)."""

    before: int
    now: int
    reading: str | None = None
    withholding_before: int | None = None
    withholding_now: int = 0

    @property
    def email_loss(self) -> float:
        """The share of the email events the previous run read that this build does not."""
        return _loss(self.before, self.now)

    @property
    def withholding_loss(self) -> float:
        """The share of the events withholding consent that this build no longer reads."""
        if self.withholding_before is None:
            return 0.0
        return _loss(self.withholding_before, self.withholding_now)

    @property
    def loss(self) -> float:
        return max(self.email_loss, self.withholding_loss)

    def why_fewer(self) -> str:
        """Why the channel has fewer email events (or fewer withholding consent), as far as
        the counts tell."""
        if self.reading is None:
            return "gone from the export"
        if self.reading == "not_email":
            return "now read as not email (var non_email_channels)"
        if self.withholding_loss > self.email_loss:
            return "fewer withholding consent in the export (opt-ins do not make up for opt-outs)"
        return "fewer in the export"


@dataclass(frozen=True)
class LostExclusions:
    """The customers published (themselves, or another holder at their address) whom the
    previous run to the destination excluded on something
    this build no longer reads (an opt-out: ``audience_lost_opt_outs``; a suppression:
    ``audience_lost_suppressions``): how many, and the first few by id with what excluded them
    (an event's id, None for a blank one; a suppression's last day, None for none)."""

    count: int = 0
    shown: tuple[tuple[int, str | None], ...] = ()
    #: the customers the previous run kept it for; None when that run was recorded before the
    #: history kept it (nothing to compare with)
    compared: int | None = 0
    #: of those shown, the ones not published themselves: (customer, the holder published at
    #: their address, whom the exclusion, still read, would block; rule 9)
    published_as: tuple[tuple[int, int], ...] = ()


def _loss(before: int, now: int) -> float:
    return (before - now) / before if before > 0 and now < before else 0.0


def _percent(share: float) -> str:
    return "infinite" if math.isinf(share) else f"{share:.1%}"


def _audience_check(
    previous: PublishedRun | None,
    eligible: int,
    entered: int,
    left: int,
    threshold: float,
    minimum: int = 0,
) -> DriftCheck:
    if previous is None:
        return DriftCheck(
            control="audience_change",
            subject="eligible_audience",
            previous=None,
            current=eligible,
            share=None,
            threshold=threshold,
            outcome="not_applicable",
            detail=f"first published run to this destination: {eligible} customers, "
            "nothing to compare with",
        )
    moved = entered + left
    share = moved / previous.eligible if previous.eligible else (0.0 if moved == 0 else math.inf)
    outcome = "fail" if share > threshold and moved >= minimum else "pass"
    return DriftCheck(
        control="audience_change",
        subject="eligible_audience",
        previous=previous.eligible,
        current=eligible,
        share=share,
        threshold=threshold,
        outcome=outcome,
        detail=(
            f"{previous.eligible} -> {eligible} customers: {entered} entered, {left} left = "
            f"{_percent(share)} of the previous audience (run #{previous.run_id}, as of "
            f"{previous.as_of_date}); limit {_percent(threshold)}"
            + (f", from {minimum} customers moved" if minimum else "")
        ),
    )


def _as_of_check(as_of: str, latest: PublishedRun | None) -> DriftCheck:
    """The run is not dated before the destination's latest published run."""
    if latest is None:
        outcome = "not_applicable"
        detail = f"as of {as_of}: first published run to this destination"
    else:
        earlier = as_of < latest.as_of_date
        outcome = "fail" if earlier else "pass"
        detail = (
            f"as of {as_of}, "
            + ("before" if earlier else "not before")
            + f" the latest run published to this destination (run #{latest.run_id}, as of "
            f"{latest.as_of_date})" + ("; is --as-of right?" if earlier else "")
        )
    return DriftCheck(
        control="as_of_order",
        subject="as_of_date",
        previous=None,
        current=0,
        share=None,
        threshold=None,
        outcome=outcome,
        detail=detail,
    )


def _email_channel_check(
    email_events: dict[str | None, ChannelEvents] | None, threshold: float, *, first_run: bool
) -> DriftCheck:
    """No consent channel lost more than ``threshold`` of the email events the previous run read
    on it. ``email_events`` maps each channel the previous run read email events on to those
    events then and now; None when there is nothing to compare with."""
    control, subject = "email_consent_channels", "consent_events"
    if first_run or email_events is None:
        return DriftCheck(
            control=control,
            subject=subject,
            previous=None,
            current=0,
            share=None,
            threshold=threshold,
            outcome="not_applicable",
            detail=(
                "first published run to this destination: nothing to compare with"
                if first_run
                else "the previous run to this destination was recorded before the history "
                "kept its consent channels: nothing to compare with"
            ),
        )
    lost = sorted(
        (channel for channel, events in email_events.items() if events.loss > threshold),
        key=lambda channel: (
            -email_events[channel].loss,
            -email_events[channel].before,
            channel or "",
        ),
    )
    before_total = sum(events.before for events in email_events.values())
    now_total = sum(events.now for events in email_events.values())
    if lost:
        named = "; ".join(
            _channel_loss(channel, email_events[channel], threshold) for channel in lost
        )
        detail = (
            f"email events lost on {len(lost)} consent channel(s) since the previous run to "
            f"this destination ({named}); limit {_percent(threshold)}: an opt-out that is no "
            "longer read no longer excludes"
        )
    else:
        withholding = email_events.values()
        kept = all(events.withholding_before is not None for events in withholding)
        detail = (
            f"{len(email_events)} consent channel(s) the previous run read email events on: "
            f"{before_total} -> {now_total} email events"
            + (
                f", {sum(events.withholding_before or 0 for events in withholding)} -> "
                f"{sum(events.withholding_now for events in withholding)} of them withholding "
                "consent"
                if kept
                else ""
            )
            + f", none lost more than {_percent(threshold)}"
        )
    return DriftCheck(
        control=control,
        subject=subject,
        previous=before_total,
        current=now_total,
        share=max((events.loss for events in email_events.values()), default=0.0),
        threshold=threshold,
        outcome="fail" if lost else "pass",
        detail=detail,
    )


#: How many customers a lost exclusion check names in its detail (all are in its model).
LOST_SHOWN = 5


@dataclass(frozen=True)
class _LostExclusion:
    """What a lost exclusion check says, and of what (opt-outs, suppressions)."""

    control: str
    subject: str
    model: str
    #: which customers fail, after "N customer(s) published, themselves or at their address,"
    whom: str
    #: how the exclusion can stop being read
    how: str
    #: what the history keeps per customer, for a previous run recorded before it did
    kept: str
    #: the customers the previous run kept it for, after their count
    compared: str
    consequence: str
    #: one customer's exclusion in the detail: ``shown_as`` then the value (printable, without
    #: addresses: free text from the export), or ``when_none``
    shown_as: str
    when_none: str
    #: the model's column shown per customer, and ``audience_previous_run``'s column counting
    #: the customers the previous run kept it for
    shown_column: str
    compared_column: str

    def describe(self, value: str | None) -> str:
        """One customer's exclusion in the detail: the event or the suppression's end."""
        return self.when_none if value is None else f"{self.shown_as}{_event_id(value)}"


LOST_OPT_OUTS = _LostExclusion(
    control="lost_opt_outs",
    subject="consent_events",
    model="audience_lost_opt_outs",
    whom="whose opt-out the previous run to this destination read is no longer read",
    how="gone from the export, quarantined, re-dated or turned into an opt-in",
    kept="each customer's withholding event",
    compared="customer(s) whose latest email event withheld consent in that run",
    consequence="an opt-out that is no longer read no longer excludes",
    shown_as="event ",
    when_none="an event with a blank id",
    shown_column="previous_withholding_event_id",
    compared_column="previous_withholding_customer_count",
)

LOST_SUPPRESSIONS = _LostExclusion(
    control="lost_suppressions",
    subject="suppressions",
    model="audience_lost_suppressions",
    whom=(
        "whom the previous run to this destination held suppressed with no end or through a day "
        "not yet past"
    ),
    how="gone from the export, quarantined, shortened, or no longer naming them",
    kept="each customer's suppression",
    compared="customer(s) suppressed in that run",
    consequence="a suppression that is no longer read no longer excludes",
    shown_as="suppressed through ",
    when_none="suppressed with no end",
    shown_column="previous_suppressed_through",
    compared_column="previous_suppressed_customer_count",
)


def _lost_check(kind: _LostExclusion, lost: LostExclusions, *, first_run: bool) -> DriftCheck:
    """No customer is published whom the previous run to the destination excluded on an
    opt-out or a suppression this build no longer reads (``kind``'s model): any one fails,
    since an exclusion no longer read no longer excludes."""
    if first_run:
        outcome = "not_applicable"
        detail = "first published run to this destination: nothing to compare with"
    elif lost.compared is None:
        outcome = "not_applicable"
        detail = (
            "the previous run to this destination was recorded before the history kept "
            f"{kind.kept}: nothing to compare with"
        )
    elif lost.count:
        holders = dict(lost.published_as)
        named = ", ".join(
            f"customer {customer_id} ({kind.describe(value)}"
            + (
                f"; customer {holders[customer_id]} is published at their address"
                if customer_id in holders
                else ""
            )
            + ")"
            for customer_id, value in lost.shown
        )
        more = f" and {lost.count - len(lost.shown)} more" if lost.count > len(lost.shown) else ""
        outcome = "fail"
        detail = (
            f"{lost.count} customer(s) published, themselves or at their address, {kind.whom} "
            f"({kind.how}): {named}{more}, in the model {kind.model}; {kind.consequence}"
        )
    else:
        outcome = "pass"
        detail = (
            f"no customer published, themselves or at their address, {kind.whom} "
            f"({lost.compared} {kind.compared})"
        )
    return DriftCheck(
        control=kind.control,
        subject=kind.subject,
        previous=None,
        current=lost.count,
        share=None,
        threshold=None,
        outcome=outcome,
        detail=detail,
    )


def _event_id(event_id: str) -> str:
    """An event's id (or any value from the export) in a check's detail: printable, without
    addresses (free text)."""
    return printable(without_addresses(event_id))


def _channel_loss(channel: str | None, events: ChannelEvents, threshold: float) -> str:
    """One channel's loss in the check's detail: its email events, and those withholding
    consent when they lost more than the limit and than the email events did (opt-ins gained
    may hide opt-outs lost)."""
    shown = f"{_channel_shown(channel)}: {events.before} -> {events.now} email events"
    if events.email_loss > 0:
        shown += f", lost {_percent(events.email_loss)}"
    if events.withholding_loss > max(threshold, events.email_loss):
        shown += (
            f"; {events.withholding_before} -> {events.withholding_now} of them withholding "
            f"consent (every status but OPT_IN), lost {_percent(events.withholding_loss)}"
        )
    return f"{shown}, {events.why_fewer()}"


def _channel_shown(channel: str | None) -> str:
    """A channel in a check's detail: printable, without addresses (free text from the export)."""
    return channel_name(channel_without_addresses(channel))


def _same_day_rerun_check(
    as_of: str, differences: dict[str, int], same_day_run_id: int | None
) -> DriftCheck:
    """A rerun of a published day whose audience differs from that day's publication fails."""
    moved = sum(differences.values())
    if not moved:
        outcome = "pass"
        detail = (
            f"as of {as_of}: no run published to this destination for that day differs from "
            "this one"
        )
    else:
        outcome = "fail"
        counts = ", ".join(
            f"{count} {difference.replace('_', ' ')}"
            for difference, count in sorted(differences.items())
            if count
        )
        detail = (
            f"a rerun of {as_of}, whose audience differs from run #{same_day_run_id} published "
            f"to this destination for that day ({counts}): its delta files are against the day "
            f"before, so a platform that applied run #{same_day_run_id}'s would not match this "
            "audience; if accepted, replace the platform's list with eligible_audience.csv "
            "(a full sync)"
        )
    return DriftCheck(
        control="same_day_rerun",
        subject="eligible_audience",
        previous=None,
        current=moved,
        share=None,
        threshold=None,
        outcome=outcome,
        detail=detail,
    )


def _empty_audience_check(eligible: int, customers: int | None, allowed: bool) -> DriftCheck:
    """An empty audience fails unless the run said it may be empty."""
    of = f" of {customers} customers" if customers is not None else ""
    if eligible:
        outcome, detail = "pass", f"{eligible}{of} eligible"
    elif allowed:
        outcome, detail = "pass", f"nobody{of} is eligible, as the run said may happen"
    else:
        outcome = "fail"
        detail = (
            f"nobody{of} is eligible: an empty audience is suspicious (an --as-of date "
            "forgotten, a wrong export); pass --allow-empty-audience if it is expected"
        )
    return DriftCheck(
        control="audience_empty",
        subject="eligible_audience",
        previous=None,
        current=eligible,
        share=None,
        threshold=None,
        outcome=outcome,
        detail=detail,
    )


def _input_check(
    input_file: str,
    previous_rows: int | None,
    current_rows: int,
    threshold: float,
    may_be_empty: bool = False,
) -> DriftCheck:
    control = f"input_rows:{input_file}"
    if current_rows == 0 and may_be_empty:
        return DriftCheck(
            control=control,
            subject=input_file,
            previous=previous_rows,
            current=0,
            share=None,
            threshold=threshold,
            outcome="pass",
            detail=f"{input_file} is empty, as the run said it may be",
        )
    if current_rows == 0:
        return DriftCheck(
            control=control,
            subject=input_file,
            previous=previous_rows,
            current=0,
            share=1.0 if previous_rows else None,
            threshold=threshold,
            outcome="fail",
            detail=f"{input_file} is empty: no data rows"
            + (f" (previous published run: {previous_rows})" if previous_rows is not None else ""),
        )
    if previous_rows is None or previous_rows == 0:
        return DriftCheck(
            control=control,
            subject=input_file,
            previous=previous_rows,
            current=current_rows,
            share=None,
            threshold=threshold,
            outcome="pass",
            detail=f"{input_file}: {current_rows} rows, not empty"
            + ("" if previous_rows == 0 else "; no previous published run to compare the count"),
        )
    loss = max(previous_rows - current_rows, 0) / previous_rows
    return DriftCheck(
        control=control,
        subject=input_file,
        previous=previous_rows,
        current=current_rows,
        share=loss,
        threshold=threshold,
        outcome="fail" if loss > threshold else "pass",
        detail=(
            f"{input_file}: {previous_rows} -> {current_rows} rows, lost {_percent(loss)}; "
            f"limit {_percent(threshold)}"
        ),
    )


def evaluate_drift(
    previous: PublishedRun | None,
    *,
    eligible: int,
    entered: int,
    left: int,
    raw_rows: dict[str, int],
    thresholds: DriftThresholds | None = None,
    accept_reason: str | None = None,
    may_be_empty: frozenset[str] = frozenset(),
    as_of: str | None = None,
    latest: PublishedRun | None = None,
    customers: int | None = None,
    allow_empty_audience: bool = False,
    rerun_differences: dict[str, int] | None = None,
    same_day_run_id: int | None = None,
    email_events: dict[str | None, ChannelEvents] | None = None,
    lost_opt_outs: LostExclusions | None = None,
    lost_suppressions: LostExclusions | None = None,
) -> DriftResult:
    """Apply the guard to plain numbers (no database): the previous run against this one.

    ``latest`` (the destination's latest published run) is checked against ``as_of`` when the
    as-of date is given; so are ``rerun_differences`` (customers per kind of difference from
    ``same_day_run_id``, the day's earlier publication, on a rerun of a published day), and
    ``email_events`` (per consent channel the previous run read email events on, those events
    then and now; None when there is nothing to compare with) and ``lost_opt_outs`` (the
    customers published whose latest email event in the previous run withheld consent and is
    no longer read, with that event's id) and ``lost_suppressions`` (the customers published
    whom the previous run held suppressed until a day not yet past, with that day).
    """
    thresholds = thresholds or DriftThresholds()
    checks = [
        _audience_check(
            previous,
            eligible,
            entered,
            left,
            thresholds.max_audience_change,
            thresholds.min_audience_change,
        ),
        _empty_audience_check(eligible, customers, allow_empty_audience),
    ]
    if as_of is not None:
        checks.append(_as_of_check(as_of, latest))
        checks.append(_same_day_rerun_check(as_of, rerun_differences or {}, same_day_run_id))
    checks.append(
        _email_channel_check(email_events, thresholds.max_input_loss, first_run=previous is None)
    )
    for kind, lost in ((LOST_OPT_OUTS, lost_opt_outs), (LOST_SUPPRESSIONS, lost_suppressions)):
        checks.append(_lost_check(kind, lost or LostExclusions(), first_run=previous is None))
    for input_file in sorted(raw_rows):
        previous_rows = previous.raw_rows.get(input_file) if previous else None
        checks.append(
            _input_check(
                input_file,
                previous_rows,
                raw_rows[input_file],
                thresholds.max_input_loss,
                may_be_empty=input_file in may_be_empty,
            )
        )
    reason = (accept_reason or "").strip() or None
    if reason:
        checks = [
            DriftCheck(**{**check.__dict__, "outcome": "accepted"})
            if check.outcome == "fail" and check.control not in NOT_ACCEPTABLE
            else check
            for check in checks
        ]
    return DriftResult(
        checks=tuple(checks),
        accepted_reason=reason,
        previous_run_id=previous.run_id if previous else None,
        previous_as_of_date=previous.as_of_date if previous else None,
        thresholds=thresholds,
    )


def assess_drift(
    con: duckdb.DuckDBPyConnection,
    thresholds: DriftThresholds | None = None,
    accept_reason: str | None = None,
    may_be_empty: frozenset[str] = frozenset(),
    allow_empty_audience: bool = False,
) -> DriftResult:
    """Evaluate the guard on a built database, against its destination's runs; never raises
    for a failed check (``check_drift`` does)."""
    comparison = build_comparison(con)
    changes = change_counts(con)
    row = con.execute("select count(*) from marts.eligible_audience").fetchone()
    eligible = int(row[0]) if row else 0
    row = con.execute("select count(*) from marts.customer_audience_decisions").fetchone()
    customers = int(row[0]) if row else 0
    raw_rows = dict(
        con.execute("select input_file, raw_rows from marts.reconciliation_input_files").fetchall()
    )
    rerun_rows = con.execute(
        "select difference, count(*), max(same_day_run_id) "
        "from marts.audience_rerun_differences group by difference"
    ).fetchall()
    return evaluate_drift(
        comparison.previous,
        email_events=_email_events(con),
        lost_opt_outs=_lost(con, LOST_OPT_OUTS),
        lost_suppressions=_lost(con, LOST_SUPPRESSIONS),
        eligible=eligible,
        entered=changes["entered"],
        left=changes["left"],
        raw_rows=raw_rows,
        thresholds=thresholds,
        accept_reason=accept_reason,
        may_be_empty=may_be_empty,
        as_of=comparison.as_of_date,
        latest=comparison.latest,
        customers=customers,
        allow_empty_audience=allow_empty_audience,
        rerun_differences={difference: int(count) for difference, count, _ in rerun_rows},
        same_day_run_id=max((int(run_id) for _, _, run_id in rerun_rows), default=None),
    )


def _lost(con: duckdb.DuckDBPyConnection, kind: _LostExclusion) -> LostExclusions:
    """How many customers ``kind``'s model lists, the first few by id with what excluded them,
    and how many the previous run kept it for (``audience_previous_run``)."""
    row = con.execute(f"select {kind.compared_column} from marts.audience_previous_run").fetchone()
    kept = None if row is None or row[0] is None else int(row[0])
    row = con.execute(f"select count(*) from marts.{kind.model}").fetchone()
    first = con.execute(
        f"select customer_id, {kind.shown_column}, published_customer_id from marts.{kind.model} "
        "order by customer_id limit ?",
        [LOST_SHOWN],
    ).fetchall()
    return LostExclusions(
        int(row[0]) if row else 0,
        tuple(
            (int(customer_id), None if value is None else str(value))
            for customer_id, value, _ in first
        ),
        kept,
        tuple(
            (int(customer_id), int(published))
            for customer_id, _, published in first
            if published is not None and published != customer_id
        ),
    )


def _email_events(con: duckdb.DuckDBPyConnection) -> dict[str | None, ChannelEvents] | None:
    """Per consent channel the previous run to the destination read email events on, those
    events then and in this build (``audience_previous_consent_channels`` against
    ``audience_consent_channels``); None without a previous run that kept its channels."""
    row = con.execute(
        "select previous_run_id, previous_consent_channel_count from marts.audience_previous_run"
    ).fetchone()
    if row is None or row[0] is None or row[1] is None:
        return None
    rows = con.execute(
        """
        select previous_channels.channel, previous_channels.email_event_count,
            coalesce(channels.email_event_count, 0), channels.channel_reading,
            previous_channels.withholding_event_count,
            coalesce(channels.withholding_event_count, 0)
        from marts.audience_previous_consent_channels as previous_channels
        left join marts.audience_consent_channels as channels
            on previous_channels.channel is not distinct from channels.channel
        where previous_channels.email_event_count > 0
        """
    ).fetchall()
    return {
        channel: ChannelEvents(
            int(before),
            int(now),
            reading,
            None if withholding_before is None else int(withholding_before),
            int(withholding_now),
        )
        for channel, before, now, reading, withholding_before, withholding_now in rows
    }


def _remedies(result: DriftResult) -> str:
    failed = {check.control for check in result.checks if check.outcome == "fail"}
    lines = []
    if failed - NOT_ACCEPTABLE:
        lines.append(
            'If this change is expected, rerun with --accept-drift "why it is expected"; '
            "the acceptance is recorded in the run history."
        )
    if "audience_empty" in failed:
        lines.append("If an empty audience is expected, rerun with --allow-empty-audience.")
    return "\n".join(lines)


def check_drift(
    con: duckdb.DuckDBPyConnection,
    thresholds: DriftThresholds | None = None,
    accept_reason: str | None = None,
    may_be_empty: frozenset[str] = frozenset(),
    allow_empty_audience: bool = False,
    *,
    destination: str | None = None,
    as_of: str | None = None,
) -> DriftResult:
    """Evaluate the guard on a built database; raises DriftFailure when a check fails.

    ``destination`` and ``as_of``, when given, must be what the database was built for (a
    stale build is refused).
    """
    comparison = build_comparison(con)
    if (destination is not None and comparison.destination != destination) or (
        as_of is not None and comparison.as_of_date != as_of
    ):
        raise PipelineError(
            f"the database was built for {comparison.destination!r} as of "
            f"{comparison.as_of_date}, not for {destination!r} as of {as_of}; rerun the pipeline"
        )
    result = assess_drift(con, thresholds, accept_reason, may_be_empty, allow_empty_audience)
    if result.failed:
        raise DriftFailure(
            "the drift guard stopped the run, so no audience was published:\n"
            + result.describe()
            + "\n"
            + _remedies(result),
            result,
        )
    return result
