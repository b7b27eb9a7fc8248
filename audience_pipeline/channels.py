"""How consent channels are shown to people: their order, their names and the run's line.

What each channel is and how rules 5 and 6 read it comes from the marts
(``reconciliation.consent_channels`` reads ``audience_consent_channel_changes``); this module
only presents those columns, the same way in the run's line, the report and ``audience
explain``.
"""

from __future__ import annotations

from typing import Any

from audience_pipeline.redaction import printable, without_addresses

#: The order channels are shown in by reading: those read as possibly email first.
READING_ORDER = {"possibly_email": 0, "email": 1, "not_email": 2}


def ranked_channels(channels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consent channels in the order the run's line and report show them: by reading (possibly
    email first, then email, then not email), those new since the previous run first, then the
    most email events, the most events and the name (blank first)."""
    return sorted(
        channels,
        key=lambda channel: (
            READING_ORDER.get(channel["reading"], len(READING_ORDER)),
            channel.get("change") != "new",
            -channel["email_events"],
            -channel["events"],
            channel["channel"] or "",
        ),
    )


def possibly_email_channels(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The channels of a report read as possibly email whose events count (any but OPT_INs),
    a blank one included, in :func:`ranked_channels` order."""
    return [
        channel
        for channel in ranked_channels(report["consent_channels"])
        if channel["reading"] == "possibly_email" and channel["email_events"]
    ]


def channel_label(channel: str | None) -> str:
    """A channel as a person reads it: ``(blank)`` for none, control characters as ``?``."""
    if channel is None:
        return "(blank)"
    return printable(channel)


def channel_without_addresses(channel: str | None) -> str | None:
    """A channel as stored, with anything shaped like an address removed (it is free text from
    the export); a blank channel stays None."""
    return None if channel is None else without_addresses(channel)


def change_label(channel: dict[str, Any]) -> str:
    """How a channel compares with the previous run to the destination, in words."""
    change = channel.get("change")
    if change == "read_differently":
        was = (channel.get("previous_reading") or "unknown").replace("_", " ")
        return f"read differently (was {was})"
    if change in ("new", "seen_before"):
        return change.replace("_", " ")
    return "nothing to compare with"


#: The channels ``audience run`` names at most (the report lists more, reconciliation.json all).
NAMED_CHANNELS = 10
#: The new channels ``audience history`` names per run at most (``--format json`` gives all).
HISTORY_NAMED_CHANNELS = 3


def channel_name(channel: str | None) -> str:
    """A channel as one short printable word (:func:`channel_label`), at most 40 characters."""
    label = channel_label(channel)
    return label if len(label) <= 40 else label[:39] + "…"


def possibly_email_line(report: dict[str, Any]) -> str | None:
    """The run's line naming the consent channels read as possibly email whose events count
    (:func:`possibly_email_channels`), with how many of their events count and ``new`` for one
    the previous run to the destination did not read (at most ``NAMED_CHANNELS`` of them);
    None when there is none."""
    channels = possibly_email_channels(report)
    if not channels:
        return None
    named = ", ".join(
        f"{channel_name(channel['channel'])} ({channel['email_events']:,} of "
        f"{channel['events']:,} event{'' if channel['events'] == 1 else 's'}"
        f"{', new' if channel.get('change') == 'new' else ''})"
        for channel in channels[:NAMED_CHANNELS]
    )
    more = len(channels) - NAMED_CHANNELS
    return (
        "consent channels read as possibly email, their events other than OPT_IN counted as "
        "email events (list a channel that is not about email in var non_email_channels; "
        f"a blank one cannot be listed): {named}"
        + (f", and {more:,} more (run_report.html)" if more > 0 else "")
    )


def history_channels(count: int | None, new: list[str | None] | None) -> str:
    """A run's consent channels as ``audience history`` shows them: how many it read and the
    names of those new against the run before it to the destination (at most
    ``HISTORY_NAMED_CHANNELS``, then how many more); empty for a run recorded before the
    history kept channels."""
    if count is None:
        return ""
    if not new:
        return f"{count:,}"
    named = ", ".join(channel_name(channel) for channel in new[:HISTORY_NAMED_CHANNELS])
    more = len(new) - HISTORY_NAMED_CHANNELS
    return f"{count:,} ({len(new):,} new: {named}" + (f", {more:,} more)" if more > 0 else ")")
