"""The DuckDB pre-step: check a landing folder's raw files and store their lines in DuckDB.

For each input file of the contract it:

1. refuses the file as a whole, with a clear error, when it cannot be read as the contract's
   CSV at all (``file_checks``: missing, empty, not text, header without a required column,
   no data rows, data lines that do not split on the declared delimiter, ...);
2. reads every physical line with DuckDB's CSV reader set to treat a line as one opaque
   value (no sniffing, no quoting), so one broken line can never swallow the next ones, and
   stores the lines once, in file order, in ``<landing schema>.<input file>__lines``. A file
   declared in another encoding than UTF-8 (``Dialect``, from ``--encoding``) is first
   transcoded to a UTF-8 work file, line for line (``text_encoding.py``). A line that is not
   valid text is read again from the file's bytes and stored with each bad byte escaped
   (``\\xNN``): the bad byte spoils only itself, the line still splits;
3. defines ``<landing schema>.<input file>``, a view of those lines numbered (the header is
   line 1), each with why it is not valid text, if it is not. The split into the contract's
   columns is the dbt macro ``landing_rows``, which the staging models run on DuckDB and on
   Spark alike; it needs the header's column order and the delimiter, which
   ``landing_layout`` hands to dbt;
4. counts the lines and writes a manifest row (path, size, checksum of the original bytes,
   line count, encoding, delimiter) to ``<landing schema>.input_files``. Checksums and a scan
   of the whole file for NUL bytes run in a thread of their own while DuckDB reads (a large
   file's in a process of its own).

No line is dropped here: lines that cannot be split are handed to dbt too, and the staging
models quarantine them together with rows whose values break the contract, so every rejected
row ends up in one place with one reason.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from audience_pipeline.contract import InputFile
from audience_pipeline.dialect import Dialect
from audience_pipeline.errors import InputFileError
from audience_pipeline.file_checks import (
    FileFingerprint,
    check_data_lines_split,
    check_file_is_text,
    check_no_long_line,
    check_no_nul_bytes,
    fingerprint_file,
    read_header_row,
    require_data_lines,
)
from audience_pipeline.fingerprint_process import fingerprint_local_file
from audience_pipeline.line_count import LineCounter
from audience_pipeline.sql import string_literal
from audience_pipeline.text_encoding import (
    UTF8,
    escape_line,
    field_of,
    read_lines_at,
    transcode_to_utf8,
)


@dataclass(frozen=True)
class LoadedFile:
    """What the pre-step learned about one input file."""

    input_file: str
    file_path: str
    byte_count: int
    sha256: str
    data_lines: int
    header_columns: tuple[str, ...]
    extra_columns: tuple[str, ...]
    encoding: str = UTF8
    delimiter: str = ","

    def layout(self) -> dict[str, Any]:
        """What the dbt macro ``landing_rows`` needs to split the file (and Spark to read it)."""
        return {
            "path": self.file_path,
            "columns": list(self.header_columns),
            "delimiter": self.delimiter,
            "encoding": self.encoding,
            "byte_count": self.byte_count,
            "sha256": self.sha256,
            "data_lines": self.data_lines,
            "extra_columns": ",".join(self.extra_columns),
        }


def landing_layout(loaded: Sequence[LoadedFile]) -> str:
    """The value of AUDIENCE_LANDING_LAYOUT for dbt: each file's layout, as JSON."""
    return json.dumps({item.input_file: item.layout() for item in loaded}, sort_keys=True)


def _without_carriage_return(column: str) -> str:
    """``column`` without the carriage returns of a CRLF line ending (copied only if it has one)."""
    return f"case when suffix({column}, chr(13)) then rtrim({column}, chr(13)) else {column} end"


def _read_lines(
    con: duckdb.DuckDBPyConnection,
    spec: InputFile,
    path: Path,
    lines_store: str,
    dialect: Dialect,
    marked: bool = False,
) -> str:
    """Store every physical line of ``path`` in ``lines_store``; returns SQL of the numbered lines.

    The SQL gives ``source_line`` (1-based, the header is line 1), ``line`` (text without its
    line ending; null for a blank line), ``read_error`` (why the line is not valid text) and
    ``read_error_field`` (the 1-based field its first bad byte is in). The lines are written
    once, straight from DuckDB's reader, in file order (the pre-step's connection preserves
    insertion order), so row k of the table (``rowid`` k - 1) is line k: the table is never
    modified after that. The text is stored without string compression, which costs more
    time than it saves here.

    Lines that are not valid UTF-8 cannot be read as text: DuckDB reports them in a rejects
    table. Then (rarely) the table is rewritten with explicit line numbers, each unreadable
    line put back at its place, read again from the file's bytes with its bad bytes escaped
    (``marked``: ``path`` is a work file written by ``text_encoding.transcode_to_utf8``).
    """
    rejects_table = f"_encoding_rejects_{spec.name}"
    scans_table = f"_encoding_scans_{spec.name}"
    con.execute(f"drop table if exists {rejects_table}")
    con.execute(f"drop table if exists {scans_table}")
    con.execute("set disabled_compression_methods = 'fsst,dict_fsst'")
    try:
        con.execute(
            f"""
            create or replace table {lines_store} as
            select {_without_carriage_return("line")} as line
            from read_csv(
                {string_literal(str(path))},
                columns = {{'line': 'VARCHAR'}},
                header = false,
                auto_detect = false,
                delim = '\\0',
                quote = '',
                escape = '',
                strict_mode = false,
                store_rejects = true,
                rejects_table = '{rejects_table}',
                rejects_scan = '{scans_table}'
            )
            """
        )
        unreadable_lines = con.execute(f"select count(*) from {rejects_table}").fetchone()[0]
        if unreadable_lines == 0:
            return (
                "select rowid + 1 as source_line, line, null::varchar as read_error,"
                f" null::integer as read_error_field from {lines_store}"
            )
        _place_unreadable_lines(con, lines_store, rejects_table, path, dialect, marked)
    finally:
        con.execute("reset disabled_compression_methods")
    return f"select source_line, line, read_error, read_error_field from {lines_store}"


def _unreadable_lines_read_again(
    con: duckdb.DuckDBPyConnection,
    rejects_table: str,
    path: Path,
    dialect: Dialect,
    marked: bool,
) -> tuple[list[int], list[str], list[str], list[int | None]]:
    """The lines DuckDB refused, read again from the file: line, escaped text, error, field.

    DuckDB's own copy of a refused line (``csv_line``) has lost the byte after each bad one
    (a comma, say), so the line is read from the file's bytes instead, by its number.
    """
    refused = con.execute(
        f"select line, min(error_type::varchar) from {rejects_table} group by line order by line"
    ).fetchall()
    raw_lines = read_lines_at(path, [line for line, _ in refused])
    numbers, texts, errors, fields = [], [], [], []
    for line, error_type in refused:
        escaped = escape_line(raw_lines.get(line, b""), marked=marked)
        if escaped.first_bad_byte is not None and escaped.first_bad_position is not None:
            error = f"not valid {dialect.encoding_label}: byte 0x{escaped.first_bad_byte:02X}"
            field = field_of(escaped.text, escaped.first_bad_position, dialect.delimiter)
        else:  # refused for another reason than its bytes (a line over DuckDB's size limit
            # refuses its file before the build: file_checks.check_no_long_line)
            error = f"line could not be read ({error_type.lower()})"
            field = None
        numbers.append(line)
        texts.append(escaped.text)
        errors.append(error)
        fields.append(field)
    return numbers, texts, errors, fields


def _place_unreadable_lines(
    con: duckdb.DuckDBPyConnection,
    lines_store: str,
    rejects_table: str,
    path: Path,
    dialect: Dialect,
    marked: bool,
) -> None:
    """Rewrite ``lines_store`` with explicit line numbers, unreadable lines at their place.

    The readable lines come back in file order; the k-th of them sits at physical line
    k + (number of unreadable lines before it). Unreadable lines are rare, so they are
    turned into a small lookup: key = line - rank is non-decreasing, and a readable line
    with ordinal k follows every unreadable line whose key is below k.
    """
    numbers, texts, errors, fields = _unreadable_lines_read_again(
        con, rejects_table, path, dialect, marked
    )
    unreadable_table = f"{rejects_table}__read_again"
    con.execute(
        f"""
        create or replace temp table {unreadable_table} as
        select
            unnest($numbers::bigint[]) as source_line,
            unnest($texts::varchar[]) as line,
            unnest($errors::varchar[]) as read_error,
            unnest($fields::integer[]) as read_error_field
        """,
        {"numbers": numbers, "texts": texts, "errors": errors, "fields": fields},
    )
    # the lines as read move aside under another name (a rename, not a copy of every line)
    read_copy = f"{lines_store}__as_read"
    con.execute(f"drop table if exists {read_copy}")
    con.execute(f"alter table {lines_store} rename to {read_copy.rsplit('.', 1)[-1]}")
    con.execute(
        f"""
        create or replace table {lines_store} as
        with
        unreadable as (
            select source_line from {unreadable_table}
        ),
        unreadable_ranked as (
            select source_line, source_line - row_number() over (order by source_line) as skip_key,
                row_number() over (order by source_line) as skipped
            from unreadable
        ),
        skips as (
            select skip_key, max(skipped) as skipped from unreadable_ranked group by skip_key
        ),
        readable as (
            select rowid + 1 as ordinal, line from {read_copy}
        ),
        readable_placed as (
            select readable.ordinal + coalesce(skips.skipped, 0) as source_line,
                readable.line, null::varchar as read_error, null::integer as read_error_field
            from readable
            asof left join skips on readable.ordinal > skips.skip_key
        )
        select source_line, line, read_error, read_error_field from readable_placed
        union all
        select source_line, line, read_error, read_error_field from {unreadable_table}
        """
    )
    con.execute(f"drop table {read_copy}")
    con.execute(f"drop table {unreadable_table}")


def _drop_relation(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> None:
    """Drop ``schema.name`` whether an earlier run left a view or a table there."""
    found = con.execute(
        "select table_type from information_schema.tables"
        " where table_schema = ? and table_name = ? and table_catalog = current_database()",
        [schema, name],
    ).fetchone()
    if found is not None:
        kind = "view" if found[0] == "VIEW" else "table"
        con.execute(f"drop {kind} {schema}.{name}")


@contextmanager
def _utf8_text(
    spec: InputFile,
    path: Path,
    dialect: Dialect,
    work_dir: Path,
    counter: LineCounter | None = None,
    lf_lines: bool = False,
) -> Iterator[Path]:
    """``path`` itself when it is declared UTF-8; else a UTF-8 work file, removed afterwards.

    ``lf_lines``: a work file even for UTF-8, with every line ending written as LF. A work
    file's lines are counted into ``counter`` (if given) as it is written.
    """
    if dialect.encoding == UTF8 and not lf_lines:
        yield path
        return
    work_dir.mkdir(parents=True, exist_ok=True)
    transcoded = work_dir / f"{spec.name}.utf-8.csv"
    try:
        problem = transcode_to_utf8(path, transcoded, dialect.encoding, counter)
        if problem is not None:
            raise InputFileError(spec.file_name, problem.problem, line=problem.line)
        yield transcoded
    finally:
        transcoded.unlink(missing_ok=True)


def _stored_lines(con: duckdb.DuckDBPyConnection, lines_store: str) -> int:
    return int(con.execute(f"select count(*) from {lines_store}").fetchone()[0])


def load_input_file(
    con: duckdb.DuckDBPyConnection,
    spec: InputFile,
    path: Path,
    landing_schema: str,
    fingerprint: Callable[[], FileFingerprint] | None = None,
    dialect: Dialect | None = None,
    work_dir: Path | None = None,
) -> LoadedFile:
    """Check one raw file and store its lines; raises InputFileError if unusable.

    The file's lines are stored once, in file order (``<landing schema>.<input file>__lines``),
    and ``<landing schema>.<input file>`` is a view that numbers them. ``fingerprint`` returns
    the file's checksum and NUL scan (computed here when not given; the folder computes them
    in the background). ``dialect`` is the file's declared encoding and delimiter (UTF-8 and a
    comma by default); a file in another encoding is transcoded into ``work_dir`` first (a
    temporary folder by default). The size and checksum are always those of the original file.
    """
    dialect = dialect or Dialect()
    check_file_is_text(spec, path, dialect)
    lines_store = f"{landing_schema}.{spec.name}__lines"
    _drop_relation(con, landing_schema, spec.name)
    with tempfile.TemporaryDirectory(prefix="audience-landing-") as scratch:
        work = work_dir or Path(scratch)
        transcoded = LineCounter()
        with _utf8_text(spec, path, dialect, work, transcoded) as text_path:
            marked = text_path != path
            header = read_header_row(spec, text_path, dialect, marked)
            check_data_lines_split(spec, text_path, header, dialect)
            numbered_lines = _read_lines(con, spec, text_path, lines_store, dialect, marked)
        scanned = fingerprint() if fingerprint is not None else fingerprint_file(path)
        # a file in another encoding was checked for NUL characters as it was transcoded, and
        # its lines counted as UTF-8, the bytes DuckDB read
        if not marked:
            check_no_nul_bytes(spec, scanned, path)
        physical = scanned if not marked else transcoded
        check_no_long_line(spec, physical.first_long_line)
        lines = _stored_lines(con, lines_store)
        if not marked and lines != physical.lines:
            # DuckDB's reader counts a CRLF among LF lines as two line breaks: a file of mixed
            # line endings is read again from a copy whose lines all end with LF
            with _utf8_text(spec, path, dialect, work, lf_lines=True) as text_path:
                numbered_lines = _read_lines(con, spec, text_path, lines_store, dialect, True)
            lines = _stored_lines(con, lines_store)
    if lines != physical.lines:  # never build on a file with a line lost
        raise InputFileError(
            spec.file_name,
            f"{physical.lines:,} lines in the file, but the reader stored {lines:,}",
        )
    con.execute(f"create view {landing_schema}.{spec.name} as {numbered_lines}")
    data_lines = max(lines - 1, 0)
    require_data_lines(spec, data_lines)
    return LoadedFile(
        input_file=spec.name,
        file_path=str(path.resolve()),
        byte_count=path.stat().st_size,
        sha256=scanned.sha256,
        data_lines=data_lines,
        header_columns=header.columns,
        extra_columns=header.extra_columns,
        encoding=dialect.encoding,
        delimiter=dialect.delimiter,
    )


def write_manifest(
    con: duckdb.DuckDBPyConnection, loaded: list[LoadedFile], landing_schema: str
) -> None:
    """Write ``<landing schema>.input_files``, the pre-step's account of each file."""
    con.execute(
        f"""
        create or replace table {landing_schema}.input_files (
            input_file varchar not null primary key,
            file_path varchar not null,
            byte_count bigint not null,
            sha256 varchar not null,
            data_lines bigint not null,
            extra_columns varchar not null,
            encoding varchar not null,
            delimiter varchar not null
        )
        """
    )
    con.executemany(
        f"insert into {landing_schema}.input_files values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                item.input_file,
                item.file_path,
                item.byte_count,
                item.sha256,
                item.data_lines,
                ",".join(item.extra_columns),
                item.encoding,
                item.delimiter,
            )
            for item in loaded
        ],
    )


def load_landing_folder(
    con: duckdb.DuckDBPyConnection,
    input_dir: Path,
    contract: tuple[InputFile, ...],
    landing_schema: str = "landing",
    dialects: Mapping[str, Dialect] | None = None,
    work_dir: Path | None = None,
) -> list[LoadedFile]:
    """Run the pre-step over a landing folder; returns what was loaded, file by file.

    ``dialects`` gives each file's declared encoding and delimiter (UTF-8 and a comma for a
    file it does not name); ``work_dir`` is where files in another encoding are transcoded
    (one at a time, removed once read; a temporary folder by default).
    """
    con.execute(f"create schema if not exists {landing_schema}")
    paths = [input_dir / spec.file_name for spec in contract]
    dialects = dialects or {}
    # Checksums and the NUL scan read the files in a thread of their own while DuckDB reads
    # them too (a large file's in a process of its own: fingerprint_process.py), so they add
    # little to the wall time.
    with ThreadPoolExecutor(max_workers=1) as pool:
        fingerprints = [
            pool.submit(fingerprint_local_file, path) if path.is_file() else None for path in paths
        ]
        try:
            loaded = [
                load_input_file(
                    con,
                    spec,
                    path,
                    landing_schema,
                    future.result if future else None,
                    dialect=dialects.get(spec.name),
                    work_dir=work_dir,
                )
                for spec, path, future in zip(contract, paths, fingerprints, strict=True)
            ]
        finally:
            for future in fingerprints:
                if future is not None:
                    future.cancel()
    write_manifest(con, loaded, landing_schema)
    return loaded
