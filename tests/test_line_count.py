"""``line_count.LineCounter``: physical lines and the first line over a byte limit, whatever the
chunks a file is fed in; checked against splitting the whole file at once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audience_pipeline import line_count
from audience_pipeline.file_checks import fingerprint_file
from audience_pipeline.line_count import LineCounter
from audience_pipeline.text_encoding import transcode_to_utf8

_PIECES = [b"a", b"bc", b"xxxxxxx", b"\n", b"\r", b"\r\n", b"\n\n"]


def _reference(data: bytes, limit: int) -> tuple[int, int | None]:
    """Lines and the first line over ``limit``, from the whole file split at its line ends."""
    pieces = re.split(rb"\r\n|\n|\r", data)
    lines = len(pieces) - (1 if pieces[-1] == b"" else 0)
    long_lines = [number for number, piece in enumerate(pieces, start=1) if len(piece) > limit]
    return lines, (long_lines[0] if long_lines else None)


def _counted(data: bytes, limit: int, chunk_bytes: int) -> LineCounter:
    counter = LineCounter(limit)
    for start in range(0, len(data), chunk_bytes):
        counter.feed(data[start : start + chunk_bytes])
    return counter.finish()


@settings(max_examples=400, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(_PIECES), max_size=60),
    limit=st.integers(min_value=0, max_value=12),
    chunk_bytes=st.integers(min_value=1, max_value=40),
)
def test_lines_and_the_first_long_line_do_not_depend_on_the_chunks(
    pieces: list[bytes], limit: int, chunk_bytes: int
) -> None:
    """Chunks shorter and longer than the limit, CRLF cut between two chunks, a last line with
    or without its ending: the same answers as splitting the whole file."""
    data = b"".join(pieces)
    counter = _counted(data, limit, chunk_bytes)
    assert (counter.lines, counter.first_long_line) == _reference(data, limit)


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r", b""], ids=["lf", "crlf", "cr", "none"])
@pytest.mark.parametrize("chunk_bytes", [3, 8, 1000])
def test_a_line_one_byte_over_the_limit_is_named_and_one_at_it_is_not(
    ending: bytes, chunk_bytes: int
) -> None:
    at_limit = b"head\n" + b"x" * 10 + b"\nlast" + ending
    over = b"head\n" + b"x" * 11 + b"\nlast" + ending
    assert _counted(at_limit, 10, chunk_bytes).first_long_line is None
    assert _counted(over, 10, chunk_bytes).first_long_line == 2
    assert _counted(b"head\n" + b"x" * 11, 10, chunk_bytes).first_long_line == 2  # no ending


def test_the_checksum_pass_names_the_first_line_over_the_module_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(line_count, "MAX_LINE_BYTES", 100)
    path = tmp_path / "file.csv"
    path.write_bytes(b"a,b\r\n1,2\r\n" + b"y" * 101 + b"\r\n3,4\r\n" + b"z" * 200 + b"\r\n")
    fingerprint = fingerprint_file(path)
    assert (fingerprint.lines, fingerprint.first_long_line) == (5, 3)


def test_the_transcoder_counts_the_lines_it_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its line count and long line are those of the UTF-8 it writes, the bytes DuckDB reads:
    a line of 60 cp1252 bytes with an accented letter each is 120 bytes once written."""
    monkeypatch.setattr(line_count, "MAX_LINE_BYTES", 100)
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(b"a,b\r\n" + "\u00e9".encode("cp1252") * 60 + b"\r1,2")
    counter = LineCounter()
    assert transcode_to_utf8(source, target, "cp1252", counter) is None
    assert (counter.lines, counter.first_long_line) == _reference(target.read_bytes(), 100)
    assert (counter.lines, counter.first_long_line) == (3, 2)
    assert fingerprint_file(source).first_long_line is None  # 60 bytes as read in cp1252
