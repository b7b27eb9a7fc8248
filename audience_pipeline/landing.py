"""The pre-step: check a landing folder's raw files and hand them to DuckDB as text.

For each input file of the contract it:

1. refuses the file as a whole, with a clear error, when it cannot be read as the contract's
   CSV at all (missing, empty, not text, header without a required column, ...);
2. reads every physical line with DuckDB's CSV reader set to treat a line as one opaque
   value (no sniffing, no quoting), so one broken line can never swallow the next ones, and
   stores the lines once, in file order, in ``<landing schema>.<input file>__lines``;
3. defines ``<landing schema>.<input file>``, a view that splits those lines into fields in
   SQL (vectorised; quoted fields follow RFC 4180) and marks each line that cannot be split
   into the header's columns with a ``structural_error``: one row per physical data line,
   with its line number, the contract's columns as text and the error, if any. For a line
   that cannot be split it also reads where the customer_id (and email) would sit, so that
   doubt about the line can exclude the customer it may name. The staging model reads it
   once; the split fields are never written to disk twice;
4. counts the lines and the structural errors, and writes a manifest row (path, size,
   checksum, line count) to ``<landing schema>.input_files``. Checksums and a scan of the
   whole file for NUL bytes run in a thread of their own while DuckDB reads.

No line is dropped here: lines with a structural error are handed to dbt too, and the staging
models quarantine them together with rows whose values break the contract, so every rejected
row ends up in one place with one reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from audience_pipeline.contract import InputFile
from audience_pipeline.errors import InputFileError
from audience_pipeline.header import Header, read_header
from audience_pipeline.sql import string_literal

_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class LoadedFile:
    """What the pre-step learned about one input file."""

    input_file: str
    file_path: str
    byte_count: int
    sha256: str
    data_lines: int
    structural_errors: int
    extra_columns: tuple[str, ...]


@dataclass(frozen=True)
class FileFingerprint:
    """A file's checksum and, if it has any, the offset of its first NUL byte."""

    sha256: str
    first_nul_byte: int | None


def fingerprint_file(path: Path) -> FileFingerprint:
    """Checksum a file's bytes and look for NUL bytes, in one read (in chunks)."""
    digest = hashlib.sha256()
    first_nul_byte = None
    offset = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(4 * 1024 * 1024), b""):
            digest.update(chunk)
            if first_nul_byte is None and (position := chunk.find(b"\x00")) != -1:
                first_nul_byte = offset + position
            offset += len(chunk)
    return FileFingerprint(digest.hexdigest(), first_nul_byte)


def check_file_is_text(spec: InputFile, path: Path) -> None:
    """Refuse files that are missing, empty or binary before DuckDB reads them."""
    if not path.is_file():
        raise InputFileError(spec.file_name, f"file not found at {path}")
    if path.stat().st_size == 0:
        raise InputFileError(spec.file_name, "file is empty (0 bytes); expected a header row")
    with path.open("rb") as handle:
        start = handle.read(_SNIFF_BYTES)
    if b"\x00" in start:
        raise InputFileError(spec.file_name, "file is not text (it contains NUL bytes)")


def _without_carriage_return(column: str) -> str:
    """``column`` without the carriage returns of a CRLF line ending (copied only if it has one)."""
    return f"case when suffix({column}, chr(13)) then rtrim({column}, chr(13)) else {column} end"


def _read_lines(
    con: duckdb.DuckDBPyConnection, spec: InputFile, path: Path, lines_store: str
) -> str:
    """Store every physical line of ``path`` in ``lines_store``; returns SQL of the numbered lines.

    The SQL gives ``source_line`` (1-based, the header is line 1), ``line`` (text without its
    line ending; null for a blank line) and ``encoding_error``. The lines are written once,
    straight from DuckDB's reader, in file order (the pre-step's connection preserves
    insertion order), so row k of the table (``rowid`` k - 1) is line k: the table is never
    modified after that. The text is stored without string compression, which costs more
    time than it saves here.

    Lines that are not valid UTF-8 cannot be read as text: DuckDB reports them in a rejects
    table. Then (rarely) the table is rewritten with explicit line numbers, each unreadable
    line put back at its place with a null ``line`` and ``encoding_error`` set.
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
                f"select rowid + 1 as source_line, line, null::varchar as encoding_error"
                f" from {lines_store}"
            )
        _place_unreadable_lines(con, lines_store, rejects_table)
    finally:
        con.execute("reset disabled_compression_methods")
    return f"select source_line, line, encoding_error from {lines_store}"


def _place_unreadable_lines(
    con: duckdb.DuckDBPyConnection, lines_store: str, rejects_table: str
) -> None:
    """Rewrite ``lines_store`` with explicit line numbers, unreadable lines at their place.

    The readable lines come back in file order; the k-th of them sits at physical line
    k + (number of unreadable lines before it). Unreadable lines are rare, so they are
    turned into a small lookup: key = line - rank is non-decreasing, and a readable line
    with ordinal k follows every unreadable line whose key is below k.
    """
    # the lines as read move aside under another name (a rename, not a copy of every line)
    read_copy = f"{lines_store}__as_read"
    con.execute(f"drop table if exists {read_copy}")
    con.execute(f"alter table {lines_store} rename to {read_copy.rsplit('.', 1)[-1]}")
    con.execute(
        f"""
        create or replace table {lines_store} as
        with
        unreadable as (
            select distinct line as source_line from {rejects_table}
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
                readable.line, null::varchar as encoding_error
            from readable
            asof left join skips on readable.ordinal > skips.skip_key
        ),
        unreadable_placed as (
            select unreadable.source_line,
                trim(any_value(rejects.csv_line), chr(10) || chr(13)) as line,
                'not valid UTF-8' as encoding_error
            from unreadable
            inner join {rejects_table} as rejects on unreadable.source_line = rejects.line
            group by unreadable.source_line
        )
        select source_line, line, encoding_error from readable_placed
        union all
        select source_line, line, encoding_error from unreadable_placed
        """
    )
    con.execute(f"drop table {read_copy}")


def _split_fields_sql(header: Header) -> str:
    """SQL that splits ``line`` into ``fields`` and sets ``structural_error``.

    Lines without a double quote are split on commas. Lines with one are parsed as RFC 4180
    fields: a field is either unquoted (no comma, no quote) or fully quoted with doubled
    quotes inside; if the fields do not consume the whole line the quoting is malformed. A
    line with an odd number of quotes is an unterminated quote, or a field whose embedded
    line break split the record; each physical piece is quarantined on its own line.
    """
    expected = len(header.columns)
    quoted_field = '("(?:[^"]|"")*"|[^,"]*),'
    # One pass over the lines. DuckDB evaluates a CASE branch only for the rows that reach it,
    # so the regular expression runs only on the few lines with a quote, and the trim that
    # recognises a blank line only on lines without a comma.
    return f"""
        with
        marked as (
            select
                source_line,
                line,
                encoding_error,
                contains(line, '"') as has_quote
            from lines
            where source_line > 1
        ),
        matched as (
            select
                *,
                case
                    when has_quote then regexp_extract_all(line || ',', '{quoted_field}')
                end as matches
            from marked
        ),
        split as (
            select
                source_line,
                line,
                encoding_error,
                case
                    when has_quote then list_transform(
                        matches,
                        lambda field: case
                            when starts_with(field, '"')
                                then replace(field[2:length(field) - 2], '""', '"')
                            else field[1:length(field) - 1]
                        end
                    )
                    when line is not null then string_split(line, ',')
                end as fields,
                case
                    when has_quote then (length(line) - length(replace(line, '"', ''))) % 2 = 1
                    else false
                end as has_unbalanced_quote,
                case
                    when has_quote then array_to_string(matches, '') <> line || ','
                    else false
                end as is_malformed_quoting
            from matched
        ),
        counted as (
            select *, len(fields) as field_count from split
        )
        select
            source_line,
            line,
            fields,
            case
                when encoding_error is not null then encoding_error
                when line is null then 'blank line'
                when field_count = 1 and trim(line) = '' then 'blank line'
                when has_unbalanced_quote
                    then 'unterminated quote (or a line break inside a quoted field)'
                when is_malformed_quoting then 'malformed quoting'
                when field_count <> {expected}
                    then 'expected {expected} fields, found ' || field_count
            end as structural_error
        from counted
    """


def _salvaged_sql(header: Header, column: str) -> tuple[str, str]:
    """Where a line that cannot be split would hold ``column``, read two ways.

    The line is cut at every comma, ignoring quotes, and the piece at the column's position
    is taken counting from the start of the line and counting from its end (a stray comma or
    a lost field before the value shifts the first reading, one after it the second).
    Surrounding spaces and quotes are dropped. The staging models read the pieces as ids or
    emails; they only ever exclude the customers they name, never supply a value.
    """
    pieces = "string_split(line, ',')"
    from_start = header.position(column) + 1
    from_end = len(header.columns) - header.position(column)
    return (
        f"case when structural_error is not null then trim({pieces}[{from_start}], ' \"') end",
        f"case when structural_error is not null then trim({pieces}[-{from_end}], ' \"') end",
    )


def _landing_rows_sql(spec: InputFile, header: Header, lines_relation: str) -> str:
    """SQL of the landing rows: one per physical data line, split into the contract's columns."""
    column_selects = ",\n".join(
        f"case when structural_error is null then fields[{header.position(column) + 1}] end"
        f" as {column}"
        for column in spec.columns
    )
    salvaged_selects = ""
    for column in spec.salvaged_columns:
        from_start, from_end = _salvaged_sql(header, column)
        salvaged_selects += (
            f"{from_start} as salvaged_{column},\n{from_end} as salvaged_{column}_from_end,\n"
        )
    return f"""
        with
        lines as (select * from {lines_relation}),
        split as ({_split_fields_sql(header)})
        select
            source_line,
            structural_error,
            case when structural_error is not null then line end as raw_line,
            {salvaged_selects}
            {column_selects}
        from split
    """


def _header_line(con: duckdb.DuckDBPyConnection, spec: InputFile, numbered_lines: str) -> str:
    """Line 1 of the lines DuckDB read, as text (a leading byte-order mark removed)."""
    row = con.execute(
        f"select line, encoding_error from ({numbered_lines}) as lines where source_line = 1"
    ).fetchone()
    if row is None:
        raise InputFileError(spec.file_name, "file has no header row", line=1)
    line, encoding_error = row
    if encoding_error is not None:
        raise InputFileError(spec.file_name, "header is not valid UTF-8", line=1)
    return (line or "").lstrip("\ufeff")


def _count_lines(con: duckdb.DuckDBPyConnection, landing_rows: str) -> tuple[int, int, int]:
    """Data lines, lines with a structural error and blank lines of a landing relation."""
    data_lines, structural_errors, blank_lines = con.execute(
        f"""
        select
            count(*),
            count(structural_error),
            count(*) filter (where structural_error = 'blank line')
        from {landing_rows}
        """
    ).fetchone()
    return int(data_lines), int(structural_errors), int(blank_lines)


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


def load_input_file(
    con: duckdb.DuckDBPyConnection,
    spec: InputFile,
    path: Path,
    landing_schema: str,
    fingerprint: Callable[[], FileFingerprint] | None = None,
) -> LoadedFile:
    """Check one raw file and define its landing rows; raises InputFileError if unusable.

    The file's lines are stored once, in file order (``<landing schema>.<input file>__lines``),
    and ``<landing schema>.<input file>`` is a view that numbers them and splits them into the
    contract's columns: the staging model splits them while it reads them, so the split
    fields are never written twice. ``fingerprint`` returns the file's checksum and NUL scan
    (computed here when not given; the folder computes them in the background).
    """
    check_file_is_text(spec, path)
    lines_store = f"{landing_schema}.{spec.name}__lines"
    _drop_relation(con, landing_schema, spec.name)
    numbered_lines = _read_lines(con, spec, path, lines_store)
    header = read_header(spec, _header_line(con, spec, numbered_lines))
    # the split keeps data lines only (source_line > 1)
    con.execute(
        f"create view {landing_schema}.{spec.name} as "
        + _landing_rows_sql(spec, header, f"({numbered_lines})")
    )
    data_lines, structural_errors, blank_lines = _count_lines(con, f"{landing_schema}.{spec.name}")
    if data_lines == 0 and spec.rows_required:
        raise InputFileError(spec.file_name, "file has a header but no data rows", line=2)
    non_blank_lines = data_lines - blank_lines
    split_lines = data_lines - structural_errors
    if non_blank_lines > 0 and split_lines == 0:
        raise InputFileError(
            spec.file_name,
            f"no data line could be split into the header's {len(header.columns)} columns "
            "(is the delimiter a comma?)",
            line=2,
        )
    scanned = fingerprint() if fingerprint is not None else fingerprint_file(path)
    if scanned.first_nul_byte is not None:
        raise InputFileError(
            spec.file_name,
            "file is not text (it contains NUL bytes, the first at byte "
            f"{scanned.first_nul_byte:,})",
        )
    return LoadedFile(
        input_file=spec.name,
        file_path=str(path.resolve()),
        byte_count=path.stat().st_size,
        sha256=scanned.sha256,
        data_lines=data_lines,
        structural_errors=structural_errors,
        extra_columns=header.extra_columns,
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
            extra_columns varchar not null
        )
        """
    )
    con.executemany(
        f"insert into {landing_schema}.input_files values (?, ?, ?, ?, ?, ?)",
        [
            (
                item.input_file,
                item.file_path,
                item.byte_count,
                item.sha256,
                item.data_lines,
                ",".join(item.extra_columns),
            )
            for item in loaded
        ],
    )


def load_landing_folder(
    con: duckdb.DuckDBPyConnection,
    input_dir: Path,
    contract: tuple[InputFile, ...],
    landing_schema: str = "landing",
) -> list[LoadedFile]:
    """Run the pre-step over a landing folder; returns what was loaded, file by file."""
    con.execute(f"create schema if not exists {landing_schema}")
    paths = [input_dir / spec.file_name for spec in contract]
    # Checksums and the NUL scan read the files in a thread of their own while DuckDB reads
    # them too (hashlib releases the GIL), so they add little to the wall time.
    with ThreadPoolExecutor(max_workers=1) as pool:
        fingerprints = [
            pool.submit(fingerprint_file, path) if path.is_file() else None for path in paths
        ]
        try:
            loaded = [
                load_input_file(con, spec, path, landing_schema, future.result if future else None)
                for spec, path, future in zip(contract, paths, fingerprints, strict=True)
            ]
        finally:
            for future in fingerprints:
                if future is not None:
                    future.cancel()
    write_manifest(con, loaded, landing_schema)
    return loaded
