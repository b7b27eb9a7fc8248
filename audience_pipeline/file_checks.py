"""What is checked of a landing file before any engine reads it, the same for every engine.

A file is refused as a whole, with an error naming it (and the line, and the column where
there is one), when it cannot be the contract's CSV at all: missing, empty, binary, a byte-order
mark that contradicts its declared encoding, a header that is not valid text or lacks a
required column, no data line, or data lines that do not split on the declared delimiter. These
checks read the file's first bytes and, for the checksum, the NUL scan and the line count,
the whole file once in chunks. Everything below that level (a line that does not split, a value
that breaks the contract) is quarantined row by row by the staging models instead.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from audience_pipeline.contract import InputFile
from audience_pipeline.dialect import Dialect
from audience_pipeline.errors import InputFileError
from audience_pipeline.header import Header, read_header, split_line
from audience_pipeline.landing_folder import RemoteFile
from audience_pipeline.line_count import MAX_LINE_BYTES, LineCounter
from audience_pipeline.text_encoding import UTF8, escape_line, field_of

_SNIFF_BYTES = 64 * 1024
_CHUNK_BYTES = 4 * 1024 * 1024
#: How many data lines the delimiter check reads at most (from the top of the file).
SPLIT_SAMPLE_LINES = 1000
#: How many bytes it reads at most: a file whose line breaks were lost is not held whole.
SPLIT_SAMPLE_BYTES = 16 * 1024 * 1024
#: The longest header taken: a longer first line is not a row of column names (it is data, or
#: a file without line breaks), and is not read further.
MAX_HEADER_BYTES = 128 * 1024
#: A physical line's ending: CRLF, LF or a lone CR.
_LINE_END = re.compile(rb"\r\n|\n|\r")
#: What a file that is not CSV text starts with, and what it then is: an export saved
#: compressed or as a workbook under the contract's name (each begins with bytes no text does).
_NOT_TEXT_SIGNATURES = (
    (rb"\x1f\x8b\x08", "gzip-compressed: decompress it (gunzip) and land the CSV inside"),
    (
        rb"PK(?:\x03\x04|\x05\x06|\x07\x08)",
        "a zip archive or an Excel workbook (.xlsx): export the sheet as CSV",
    ),
    (rb"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls): export it as CSV"),
    (rb"BZh[1-9]1AY&SY", "bzip2-compressed: decompress it (bunzip2) and land the CSV inside"),
    (rb"\xfd7zXZ\x00", "xz-compressed: decompress it (unxz) and land the CSV inside"),
    (rb"\x28\xb5\x2f\xfd", "zstd-compressed: decompress it (unzstd) and land the CSV inside"),
)


@dataclass(frozen=True)
class FileFingerprint:
    """A file's checksum, where its first NUL byte is (if any), its physical lines, and the
    first line longer than ``line_count.MAX_LINE_BYTES`` (if any)."""

    sha256: str
    first_nul_byte: int | None
    lines: int = 0
    first_long_line: int | None = None


def fingerprint_file(path: Path | RemoteFile) -> FileFingerprint:
    """Checksum a file's bytes, look for NUL bytes and count its lines, in one read (in chunks).

    A line ends with CRLF, LF or a lone CR (as Spark's text reader and Python count physical
    lines); a last line without an ending counts too.
    """
    digest = hashlib.sha256()
    first_nul_byte = None
    counter = LineCounter()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
            if first_nul_byte is None and (position := chunk.find(b"\x00")) != -1:
                first_nul_byte = counter.bytes_read + position
            counter.feed(chunk)
    counter.finish()
    return FileFingerprint(
        digest.hexdigest(), first_nul_byte, counter.lines, counter.first_long_line
    )


def _not_a_file(path: Path | RemoteFile) -> str:
    """Why ``path``, which is no regular file, cannot be read."""
    if not isinstance(path, Path):
        return f"file not found at {path}"
    if path.is_dir():
        return f"{path} is a folder, not a file"
    if path.is_symlink() and not path.exists():
        return f"{path} is a symbolic link to {os.readlink(path)}, which does not exist"
    if path.exists():
        return f"{path} is not a regular file (a pipe, socket or device): export it to a file"
    return f"file not found at {path}"


def check_file_is_text(
    spec: InputFile, path: Path | RemoteFile, dialect: Dialect | None = None
) -> None:
    """Refuse files that are missing, empty or binary before an engine reads them.

    The NUL bytes are looked for here in a UTF-8 file only (UTF-16 has them in every ASCII
    character): a file in another declared encoding is checked for NUL characters as it is
    transcoded. A byte-order mark that contradicts the declared encoding is refused, naming
    the option: the encoding is declared, never guessed.
    """
    dialect = dialect or Dialect()
    if not path.is_file():
        raise InputFileError(spec.file_name, _not_a_file(path))
    if path.stat().st_size == 0:
        raise InputFileError(spec.file_name, "file is empty (0 bytes); expected a header row")
    with path.open("rb") as handle:
        start = handle.read(_SNIFF_BYTES)
    for signature, what in _NOT_TEXT_SIGNATURES:
        if re.match(signature, start):
            raise InputFileError(spec.file_name, f"file is not text: it is {what}", line=1)
    utf16_bom = start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if dialect.encoding == UTF8 and b"\x00" in start:
        hint = (
            "; it starts with a UTF-16 byte-order mark: declare it with --encoding utf-16"
            f" (every file) or --encoding {spec.name}=utf-16"
            if utf16_bom
            else ""
        )
        line, column = line_and_column(path, start.index(b"\x00"))
        raise InputFileError(
            spec.file_name,
            f"file is not text (it contains NUL bytes){hint}",
            line=line,
            column=str(column),
        )
    if dialect.encoding != UTF8 and start.startswith(codecs.BOM_UTF8):
        raise InputFileError(
            spec.file_name,
            f"file starts with a UTF-8 byte-order mark but is declared {dialect.encoding_label}"
            f" (--encoding); declare it utf-8 (--encoding {spec.name}=utf-8)",
        )


def check_no_nul_bytes(
    spec: InputFile, fingerprint: FileFingerprint, path: Path | RemoteFile
) -> None:
    """Refuse a UTF-8 file with a NUL byte anywhere (the first 64 KB were checked already)."""
    if fingerprint.first_nul_byte is not None:
        line, column = line_and_column(path, fingerprint.first_nul_byte)
        raise InputFileError(
            spec.file_name,
            "file is not text (it contains NUL bytes)",
            line=line,
            column=str(column),
        )


def check_no_long_line(spec: InputFile, line: int | None) -> None:
    """Refuse a file with a line longer than ``MAX_LINE_BYTES`` (``line``: the first, if any).

    Its bytes are counted in UTF-8, what an engine reads: a file in another declared encoding
    is measured as its UTF-8 work file is written.
    """
    if line is not None:
        raise InputFileError(
            spec.file_name,
            f"line is longer than {MAX_LINE_BYTES:,} bytes (as UTF-8): not a row of the export "
            "(were its line breaks lost?)",
            line=line,
        )


def line_and_column(path: Path | RemoteFile, offset: int) -> tuple[int, int]:
    """The physical line (1-based) of the byte at ``offset`` and its column (1-based, in bytes).

    Reads the file up to ``offset``, in chunks, counting lines as ``fingerprint_file`` does
    (``LineCounter``); only called to say where a file is refused.
    """
    counter = LineCounter()
    line_start = 0
    with path.open("rb") as handle:
        while counter.bytes_read < offset:
            chunk = handle.read(min(_CHUNK_BYTES, offset - counter.bytes_read))
            if not chunk:
                break
            end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
            if end != -1:
                line_start = counter.bytes_read + end + 1
            counter.feed(chunk)
    return counter.line_breaks + 1, offset - line_start + 1


def _head_lines(path: Path | RemoteFile, count: int, max_bytes: int | None = None) -> list[bytes]:
    """The first ``count`` physical lines of ``path``, without their line endings.

    A line ends with CRLF, LF or a lone CR, as the pre-step and Spark read lines (and count them:
    ``fingerprint_file``). A UTF-8 byte-order mark at the start is not part of the first line:
    a file that holds nothing else has no line. With ``max_bytes``, reading stops after about
    that many bytes: the line being read then comes back cut short.
    """
    return _read_head(path, count, max_bytes).lines


class _Head(NamedTuple):
    """The first lines of a file, as far as a byte cap let them be read."""

    lines: list[bytes]
    #: the last line was cut short at the cap (the file goes on)
    cut: bool
    #: reading stopped at the cap before the end of the file
    stopped: bool


def _read_head(path: Path | RemoteFile, count: int, max_bytes: int | None = None) -> _Head:
    """``_head_lines``, saying whether the cap cut its last line or stopped it early."""
    lines: list[bytes] = []
    # the line being read, grown in place: a chunk without a line end is appended, not joined
    # and split again with the rest of the line (which made a line of many chunks quadratic)
    pending = bytearray()
    read = 0
    with path.open("rb") as handle:
        if handle.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:
            handle.seek(0)
        while len(lines) < count:
            chunk = handle.read(_SNIFF_BYTES)
            read += len(chunk)
            if not chunk:  # the end of the file: what is pending is its last line
                if pending:
                    lines.extend(_LINE_END.split(bytes(pending).removesuffix(b"\r")))
                return _Head(lines[:count], cut=False, stopped=False)
            if max_bytes is not None and read > max_bytes:
                # the piece after the last line end (if any) is cut short, unless the file ends
                *whole, last = _LINE_END.split(bytes(pending + chunk))
                lines.extend(whole)
                stopped = handle.read(1) != b""
                if last and len(lines) < count:
                    return _Head([*lines, last], cut=stopped, stopped=stopped)
                return _Head(lines[:count], cut=False, stopped=stopped)
            if b"\n" not in chunk and b"\r" not in chunk and not pending.endswith(b"\r"):
                pending += chunk
                continue
            buffer = bytes(pending + chunk)
            held = buffer.endswith(b"\r")  # a CRLF may be cut between two chunks
            pieces = _LINE_END.split(buffer[:-1] if held else buffer)
            pending = bytearray(pieces.pop() + (b"\r" if held else b""))
            lines.extend(pieces)
    return _Head(lines[:count], cut=False, stopped=False)


def _ends_with_lone_cr(path: Path | RemoteFile, line: bytes) -> bool:
    """Whether ``line``, the first line of ``path``, ends with a CR that no LF follows."""
    with path.open("rb") as handle:
        bom = handle.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8
        handle.seek((len(codecs.BOM_UTF8) if bom else 0) + len(line))
        ending = handle.read(2)
    return ending[:1] == b"\r" and ending[1:] != b"\n"


def read_header_row(
    spec: InputFile, path: Path | RemoteFile, dialect: Dialect | None = None, marked: bool = False
) -> Header:
    """Read and check line 1 of ``path`` (UTF-8 text; ``marked``: a transcoded work file).

    A leading byte-order mark is dropped; a header that is not valid text is refused with the
    bad byte and the field it is in, and a hint to declare the encoding. A header longer than
    ``MAX_HEADER_BYTES`` is refused, and a header cut short by a carriage return (a CR ends a
    line wherever it is) says so.
    """
    dialect = dialect or Dialect()
    head = _head_lines(path, 1, MAX_HEADER_BYTES + 1)
    if not head:
        raise InputFileError(spec.file_name, "file has no header row", line=1)
    if len(head[0]) > MAX_HEADER_BYTES:
        raise InputFileError(
            spec.file_name,
            f"header is longer than {MAX_HEADER_BYTES:,} bytes: it cannot be the contract's "
            "column names (is the first line data, or a file without line breaks?)",
            line=1,
        )
    escaped = escape_line(head[0], marked=marked)
    if escaped.first_bad_byte is not None and escaped.first_bad_position is not None:
        field = field_of(escaped.text, escaped.first_bad_position, dialect.delimiter)
        raise InputFileError(
            spec.file_name,
            f"header is not valid {dialect.encoding_label}: byte 0x{escaped.first_bad_byte:02X}"
            f" in field {field}; if the file is in another encoding, declare it with --encoding"
            f" (e.g. --encoding cp1252, or --encoding {spec.name}=cp1252)",
            line=1,
        )
    try:
        return read_header(spec, escaped.text, dialect.delimiter)
    except InputFileError as error:
        if not _ends_with_lone_cr(path, head[0]):
            raise
        raise InputFileError(
            spec.file_name,
            f"{error.problem}; the header ends at a carriage return (CR) after character "
            f"{len(head[0].decode(UTF8, 'replace')):,}: a CR ends a line, even inside a field",
            line=1,
            column=error.column,
        ) from None


def check_data_lines_split(
    spec: InputFile, path: Path | RemoteFile, header: Header, dialect: Dialect | None = None
) -> None:
    """Refuse a file whose data lines do not split on the declared delimiter.

    Reads up to ``SPLIT_SAMPLE_LINES`` data lines from the top of the file: when there are
    lines that are not blank and none of them splits into the header's columns, the delimiter
    is almost certainly another one, and the option that fixes it is named. (A file with a few
    such lines among good ones is not refused: its bad lines are quarantined one by one.) A
    required file whose every data line is blank has no data rows and is refused too. At
    most ``SPLIT_SAMPLE_BYTES`` are read: a line cut short there is not judged.
    """
    dialect = dialect or Dialect()
    head = _read_head(path, SPLIT_SAMPLE_LINES + 2, SPLIT_SAMPLE_BYTES)
    data = head.lines[1:-1] if head.cut else head.lines[1:]
    more = head.stopped or len(data) > SPLIT_SAMPLE_LINES
    sample = [line.decode("utf-8", errors="replace") for line in data[:SPLIT_SAMPLE_LINES]]
    non_blank = [line for line in sample if line.strip()]
    if not non_blank:
        # every data line was read and each is blank: no data rows, as for a header alone
        if data and not more and not head.cut and spec.rows_required:
            raise InputFileError(
                spec.file_name, "file has a header but no data rows (only blank lines)", line=2
            )
        return
    expected = len(header.columns)
    # each physical line on its own, as the pipeline splits them: one reader over all of them
    # would let an unterminated quote swallow every line below it
    fields = [len(split_line(line, dialect.delimiter)) for line in non_blank]
    if expected in fields:
        return
    which = f"no data line of the first {len(sample):,}" if more else "no data line"
    raise InputFileError(
        spec.file_name,
        f"{which} could be split into the header's {expected} columns "
        f"on the declared delimiter, a {dialect.delimiter_label}; "
        + _why_lines_do_not_split(spec, header, dialect, non_blank, fields),
        line=2,
    )


def _why_lines_do_not_split(
    spec: InputFile, header: Header, dialect: Dialect, lines: list[str], fields: list[int]
) -> str:
    """What the refusal of :func:`check_data_lines_split` suggests: a trailing delimiter (on
    every data line, or on the header alone: its last column blank) is named as such; lines
    split into other counts say how many fields the first has; else another delimiter."""
    expected = len(header.columns)
    delimiter = dialect.delimiter
    if header.columns and header.columns[-1] == "" and set(fields) == {expected - 1}:
        return (
            f"the header ends with a {dialect.delimiter_label}, which gives it a blank last "
            f"column (column {expected}) the data lines do not have: remove it from the header"
        )
    if set(fields) == {expected + 1} and all(
        line.rstrip("\r\n").endswith(delimiter) for line in lines
    ):
        return (
            f"every data line ends with a {dialect.delimiter_label}, which gives it "
            f"{expected + 1} fields: remove the trailing delimiter from the export"
        )
    found = f"the first data line has {fields[0]} field{'s' if fields[0] != 1 else ''}; "
    return (
        (found if fields[0] > 1 else "") + "if the file uses another delimiter, pass --delimiter "
        f"(e.g. --delimiter ';' or --delimiter {spec.name}=';')"
    )


def require_data_lines(spec: InputFile, data_lines: int) -> None:
    """Refuse a required file that has a header and nothing else."""
    if data_lines == 0 and spec.rows_required:
        raise InputFileError(spec.file_name, "file has a header but no data rows", line=2)
