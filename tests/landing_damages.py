"""Unusable landing files, each made from a good one: what the checks before a build refuse.

Shared by the tests that compare the refusals of the DuckDB pre-step, of the checks before a
Spark build, and of those checks on files in a store (fsspec's memory store, S3).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


def _missing(path: Path) -> None:
    path.unlink()


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _binary(path: Path) -> None:
    path.write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)))


def _without(column: str) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        header, _, body = path.read_text().partition("\n")
        names = header.split(",")
        at = names.index(column)
        rows = [line.split(",") for line in body.splitlines()]
        kept = [",".join(v for i, v in enumerate(row) if i != at) for row in [names, *rows]]
        path.write_text("\n".join(kept) + "\n")

    return damage


def _twice(path: Path) -> None:
    header, _, body = path.read_text().partition("\n")
    path.write_text(header + "," + header.split(",")[0] + "\n" + body)


def _semicolons(path: Path) -> None:
    header, _, body = path.read_text().partition("\n")
    path.write_text(header + "\n" + body.replace(",", ";"))


def _header_only(path: Path) -> None:
    path.write_text(path.read_text().partition("\n")[0] + "\n")


def _nul_far_in(path: Path) -> None:
    text = path.read_text()
    path.write_text(text + ("x" * 70_000) + "\x00\n")


def _header_not_utf8(path: Path) -> None:
    header, _, body = path.read_bytes().partition(b"\n")
    path.write_bytes(header.replace(b"email", b"\xe9mail") + b"\n" + body)


DAMAGES = [
    pytest.param("customers", _missing, id="missing"),
    pytest.param("bookings", _empty, id="empty"),
    pytest.param("consent_events", _binary, id="binary"),
    pytest.param("consent_events", _without("event_ts"), id="missing-column"),
    pytest.param("customers", _twice, id="duplicated-column"),
    pytest.param("bookings", _semicolons, id="wrong-delimiter"),
    pytest.param("bookings", _header_only, id="header-only"),
    pytest.param("customers", _nul_far_in, id="nul-byte"),
    pytest.param("customers", _header_not_utf8, id="header-not-utf8"),
]
