"""SQL text built in Python: the one place that quotes a value into a statement."""

from __future__ import annotations


def string_literal(value: str) -> str:
    """``value`` as a SQL string literal (single quotes doubled), e.g. a file path."""
    return "'" + value.replace("'", "''") + "'"
