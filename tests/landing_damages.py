"""Unusable landing files, each made from a good one: what the checks before a build refuse.

Shared by the tests that compare the refusals of the DuckDB pre-step, of the checks before a
Spark build, and of those checks on files in a store (fsspec's memory store, S3), with the
two comparisons of a folder in a store against the same files on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import CONTRACT

from audience_pipeline.errors import InputFileError
from audience_pipeline.landing_folder import RemoteFolder
from audience_pipeline.line_count import MAX_LINE_BYTES
from audience_pipeline.spark_build import inspect_landing_folder


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


def _line_breaks_lost(path: Path) -> None:
    """Rows run together into one line over the limit, after the first data line."""
    header, first, rest = path.read_bytes().split(b"\n", 2)
    merged = (first + b" ") * (MAX_LINE_BYTES // len(first) + 1)
    path.write_bytes(header + b"\n" + first + b"\n" + merged + b"\n" + rest)


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
    pytest.param("suppressions", _line_breaks_lost, id="line-breaks-lost"),
]


def assert_refused_alike(local: Path, remote: RemoteFolder) -> str:
    """The same files on disk and in a store are refused with the same message, the store's
    naming each file by its URL instead of its local path; returns the store's message."""
    with pytest.raises(InputFileError) as on_disk:
        inspect_landing_folder(local, CONTRACT)
    with pytest.raises(InputFileError) as in_store:
        inspect_landing_folder(remote, CONTRACT)
    assert str(in_store.value) == str(on_disk.value).replace(str(local.resolve()), str(remote))
    return str(in_store.value)


def assert_described_alike(local: Path, remote: RemoteFolder) -> None:
    """The same usable files on disk and in a store get the same description (line counts,
    sizes, SHA-256, layout), the store's naming each file by its URL."""
    on_disk = inspect_landing_folder(local, CONTRACT)
    in_store = inspect_landing_folder(remote, CONTRACT)
    assert [item.file_path for item in in_store] == [
        f"{remote}/{item.input_file}.csv" for item in on_disk
    ]
    assert [replace(item, file_path="") for item in in_store] == [
        replace(item, file_path="") for item in on_disk
    ]
