"""The rules' parameters a run may set, as dbt vars (``audience run --vars``).

Their defaults live in ``dbt_project.yml`` (``vars``), where the models read them; the macro
``rule_parameters`` checks them again inside dbt (when the project is parsed, and from
``on-run-start``), for a plain ``dbt build --vars``.
Here they are checked before anything runs, so that a typo or a bad value is a usage error
naming the var, and never a silently ignored setting.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from audience_pipeline.errors import UsageError
from audience_pipeline.project import PROJECT_DIR

#: The largest value of each whole-number parameter: 100 years of bookings, and a count far
#: beyond any customer's that still fits the INTEGER columns the build and the history keep.
MAXIMUM = {"recent_booking_days": 36_500, "min_recent_bookings": 1_000_000}


def _whole_number(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAXIMUM[name]:
        raise UsageError(
            f"argument --vars: {name} takes a whole number from 1 to {MAXIMUM[name]:,}, "
            f"not {value!r}"
        )
    return value


#: A booking status as the rules take it (the macro ``rule_parameters`` checks the same):
#: it is written into SQL as a string literal, so no quote, and trimming and upper case must
#: mean the same in Python and on every engine, so ASCII letters, digits, spaces, ``_-.``.
_STATUS = re.compile(r"[A-Za-z0-9_.-]+( +[A-Za-z0-9_.-]+)*", re.ASCII)


def _statuses(name: str, value: Any) -> list[str]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) and _STATUS.fullmatch(item.strip()) for item in value)
    ):
        raise UsageError(
            f"argument --vars: {name} takes a non-empty list of booking statuses (letters, "
            f"digits, spaces, _ - .) such as [COMPLETED, PENDING], not {value!r}"
        )
    return sorted({item.strip().upper() for item in value})


def _channels(name: str, value: Any) -> list[str]:
    """Consent channels other than email, read as staging reads a channel (lower case, without
    ``-``, ``_``, ``.`` and spaces); possibly none, never one that reads as ``email``."""
    read = (
        [re.sub(r"[-_. ]", "", item.strip().lower()) for item in value if isinstance(item, str)]
        if isinstance(value, list)
        else []
    )
    if (
        not isinstance(value, list)
        or len(read) != len(value)
        or not all(_STATUS.fullmatch(item.strip()) for item in value)
        or any(channel in ("", "email") for channel in read)
    ):
        raise UsageError(
            f"argument --vars: {name} takes a list of consent channels other than email "
            f"(letters, digits, spaces, _ - .; none that reads as email) such as [sms, push], "
            f"not {value!r}"
        )
    return sorted(set(read))


#: Each parameter and the check of its value (what it means: README, "The rules in plain words").
RULE_PARAMETERS: dict[str, Callable[[str, Any], Any]] = {
    "recent_booking_days": _whole_number,
    "counted_booking_statuses": _statuses,
    "min_recent_bookings": _whole_number,
    "non_email_channels": _channels,
}


class _VarsLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a name written twice in one mapping (YAML would keep the
    last silently); a merge key (``<<``) merges as usual."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        written = [
            key_node.value
            for key_node, _ in node.value
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge"
        ]
        twice = sorted({key for key in written if written.count(key) > 1})
        if twice:
            raise UsageError(f"argument --vars: {', '.join(twice)} given twice")
        return super().construct_mapping(node, deep=deep)


def parse_rule_parameters(text: str) -> dict[str, Any]:
    """``--vars`` as YAML (``'{recent_booking_days: 180}'``), checked; unknown names refused,
    and so is a name given twice."""
    try:
        values = yaml.load(text, Loader=_VarsLoader)  # a SafeLoader
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or "not readable"
        mark = getattr(error, "problem_mark", None)
        where = f" at column {mark.column + 1}" if mark is not None else ""
        raise UsageError(f"argument --vars: not YAML: {problem}{where} of {text!r}") from None
    except ValueError:  # a number too long for Python to read (more than 4,300 digits)
        raise UsageError("argument --vars: a number too long to read") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise UsageError(
            f"argument --vars: expected a mapping such as '{{name: value}}', not {text!r}"
        )
    unknown = sorted(str(name) for name in values if name not in RULE_PARAMETERS)
    if unknown:
        raise UsageError(
            f"argument --vars: unknown var {', '.join(unknown)}; the rules take "
            + ", ".join(RULE_PARAMETERS)
        )
    return {name: RULE_PARAMETERS[name](name, value) for name, value in values.items()}


def default_rule_parameter(name: str) -> Any:
    """A rule parameter's default, as ``dbt_project.yml`` sets it."""
    with (PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["vars"][name]


def check_booking_window(as_of: str, parameters: Mapping[str, Any]) -> None:
    """Refuse an as-of date whose booking window would start before 0001-01-01.

    The window starts ``recent_booking_days - 1`` days before the as-of date (README, rule 8).
    """
    days = parameters.get("recent_booking_days") or default_rule_parameter("recent_booking_days")
    try:
        dt.date.fromisoformat(as_of) - dt.timedelta(days=days - 1)
    except OverflowError:
        raise UsageError(
            f"argument --as-of: {as_of} is too early for a booking window of {days:,} days "
            "(recent_booking_days): it would start before 0001-01-01"
        ) from None
