"""The pre-step: check a landing folder's raw files and hand them to DuckDB as text.

For each input file of the contract it:

1. refuses the file as a whole, with a clear error, when it cannot be read as the contract's
   CSV at all (missing, empty, not text, header without a required column, ...);
2. reads every physical line with DuckDB's CSV reader set to treat a line as one opaque
   value (no sniffing, no quoting), so one broken line can never swallow the next ones, and
   stores the lines once, in file order, in ``<landing schema>.<input file>__lines``. A file
   declared in another encoding than UTF-8 (``Dialect``, from ``--encoding``) is first
   transcoded to a UTF-8 work file, line for line (``text_encoding.py``). A line that is not
   valid text is read again from the file's bytes and stored with each bad byte escaped
   (``\\xNN``): the bad byte spoils only itself, the line still splits;
3. defines ``<landing schema>.<input file>``, a view that splits those lines into fields in
   SQL on the file's declared delimiter (vectorised; quoted fields follow RFC 4180) and marks
   each line that cannot be split into the header's columns, or is not valid text, with a
   ``structural_error``: one row per physical data line, with its line number, the contract's
   columns as text (also for a line that is not valid text but splits: its readable fields,
   the customer_id above all, still say whom it is about) and the error, if any. For a line
   with an error it also reads where the customer_id (and email) would sit, so that doubt
   about the line can exclude the customer it may name. The staging model reads it once; the
   split fields are never written to disk twice;
4. counts the lines and the structural errors, and writes a manifest row (path, size,
   checksum of the original bytes, line count, encoding, delimiter) to
   ``<landing schema>.input_files``. Checksums and a scan of the whole file for NUL bytes run
   in a thread of their own while DuckDB reads.

No line is dropped here: lines with a structural error are handed to dbt too, and the staging
models quarantine them together with rows whose values break the contract, so every rejected
row ends up in one place with one reason.
"""

from __future__ import annotations

import codecs
import hashlib
import tempfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from audience_pipeline.contract import InputFile
from audience_pipeline.dialect import Dialect
from audience_pipeline.errors import InputFileError
from audience_pipeline.header import Header, read_header
from audience_pipeline.sql import string_literal
from audience_pipeline.text_encoding import (
    UTF8,
    escape_line,
    field_of,
    read_lines_at,
    transcode_to_utf8,
)

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
    encoding: str = UTF8
    delimiter: str = ","


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


def check_file_is_text(spec: InputFile, path: Path, dialect: Dialect | None = None) -> None:
    """Refuse files that are missing, empty or binary before DuckDB reads them.

    The NUL bytes are looked for here in a UTF-8 file only (UTF-16 has them in every ASCII
    character): a file in another declared encoding is checked for NUL characters as it is
    transcoded. A byte-order mark that contradicts the declared encoding is refused, naming
    the option: the encoding is declared, never guessed.
    """
    dialect = dialect or Dialect()
    if not path.is_file():
        raise InputFileError(spec.file_name, f"file not found at {path}")
    if path.stat().st_size == 0:
        raise InputFileError(spec.file_name, "file is empty (0 bytes); expected a header row")
    with path.open("rb") as handle:
        start = handle.read(_SNIFF_BYTES)
    utf16_bom = start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if dialect.encoding == UTF8 and b"\x00" in start:
        hint = (
            "; it starts with a UTF-16 byte-order mark: declare it with --encoding utf-16"
            f" (every file) or --encoding {spec.name}=utf-16"
            if utf16_bom
            else ""
        )
        raise InputFileError(spec.file_name, f"file is not text (it contains NUL bytes){hint}")
    if dialect.encoding != UTF8 and start.startswith(codecs.BOM_UTF8):
        raise InputFileError(
            spec.file_name,
            f"file starts with a UTF-8 byte-order mark but is declared {dialect.encoding_label}"
            f" (--encoding); declare it utf-8 (--encoding {spec.name}=utf-8)",
        )


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
        else:  # refused for another reason than its bytes (DuckDB's line size limit)
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


def _regex_char(delimiter: str) -> str:
    """``delimiter`` escaped for a regular expression (in or out of a character class)."""
    return "\\t" if delimiter == "\t" else "\\" + delimiter


def _split_fields_sql(header: Header, delimiter: str = ",") -> str:
    """SQL that splits ``line`` into ``fields`` and sets ``split_error`` and ``structural_error``.

    Lines without a double quote are split on the delimiter. Lines with one are parsed as RFC
    4180 fields: a field is either unquoted (no delimiter, no quote) or fully quoted with
    doubled quotes inside; if the fields do not consume the whole line the quoting is
    malformed. A line with an odd number of quotes is an unterminated quote, or a field whose
    embedded line break split the record; each physical piece is quarantined on its own line.

    ``split_error`` says why a line cannot be split; ``structural_error`` is that, or, for a
    line that splits but is not valid text, which byte is bad and in which column
    (``not valid UTF-8: byte 0xE9 in column first_name``).
    """
    expected = len(header.columns)
    d = _regex_char(delimiter)
    quoted_field = f'("(?:[^"]|"")*"|[^{d}"]*){d}'
    delimiter_sql = string_literal(delimiter)
    column_names = "[" + ", ".join(string_literal(column) for column in header.columns) + "]"
    # One pass over the lines. DuckDB evaluates a CASE branch only for the rows that reach it,
    # so the regular expression runs only on the few lines with a quote, and the trim that
    # recognises a blank line only on lines without a delimiter.
    return f"""
        with
        marked as (
            select
                source_line,
                line,
                read_error,
                read_error_field,
                contains(line, '"') as has_quote
            from lines
            where source_line > 1
        ),
        matched as (
            select
                *,
                case
                    when has_quote
                        then regexp_extract_all(line || {delimiter_sql}, '{quoted_field}')
                end as matches
            from marked
        ),
        split as (
            select
                source_line,
                line,
                read_error,
                read_error_field,
                case
                    when has_quote then list_transform(
                        matches,
                        lambda field: case
                            when starts_with(field, '"')
                                then replace(field[2:length(field) - 2], '""', '"')
                            else field[1:length(field) - 1]
                        end
                    )
                    when line is not null then string_split(line, {delimiter_sql})
                end as fields,
                case
                    when has_quote then (length(line) - length(replace(line, '"', ''))) % 2 = 1
                    else false
                end as has_unbalanced_quote,
                case
                    when has_quote then array_to_string(matches, '') <> line || {delimiter_sql}
                    else false
                end as is_malformed_quoting
            from matched
        ),
        counted as (
            select *, len(fields) as field_count from split
        ),
        checked as (
            select
                *,
                case
                    when line is null then 'blank line'
                    when field_count = 1 and trim(line) = '' then 'blank line'
                    when has_unbalanced_quote
                        then 'unterminated quote (or a line break inside a quoted field)'
                    when is_malformed_quoting then 'malformed quoting'
                    when field_count <> {expected}
                        then 'expected {expected} fields, found ' || field_count
                end as split_error
            from counted
        )
        select
            source_line,
            line,
            fields,
            split_error,
            case
                when split_error is not null
                    then split_error || coalesce(
                        '; also ' || read_error || ' in field ' || read_error_field, ''
                    )
                when read_error is not null
                    then read_error || coalesce(
                        ' in column ' || {column_names}[read_error_field],
                        ' in field ' || read_error_field,
                        ''
                    )
            end as structural_error
        from checked
    """


def _salvaged_sql(header: Header, column: str, delimiter: str = ",") -> tuple[str, str]:
    """Where a line with a structural error would hold ``column``, read two ways.

    The line is cut at every delimiter, ignoring quotes, and the piece at the column's
    position is taken counting from the start of the line and counting from its end (a stray
    delimiter or a lost field before the value shifts the first reading, one after it the
    second). Surrounding spaces and quotes are dropped. The staging models read the pieces as
    ids or emails; they only ever exclude the customers they name, never supply a value.
    """
    pieces = f"string_split(line, {string_literal(delimiter)})"
    from_start = header.position(column) + 1
    from_end = len(header.columns) - header.position(column)
    return (
        f"case when structural_error is not null then trim({pieces}[{from_start}], ' \"') end",
        f"case when structural_error is not null then trim({pieces}[-{from_end}], ' \"') end",
    )


def _landing_rows_sql(
    spec: InputFile, header: Header, lines_relation: str, delimiter: str = ","
) -> str:
    """SQL of the landing rows: one per physical data line, split into the contract's columns.

    A line that splits keeps its fields even when it has a structural error (it is not valid
    text): its readable values, the customer_id above all, still say whom the row is about.
    """
    column_selects = ",\n".join(
        f"case when split_error is null then fields[{header.position(column) + 1}] end as {column}"
        for column in spec.columns
    )
    salvaged_selects = ""
    for column in spec.salvaged_columns:
        from_start, from_end = _salvaged_sql(header, column, delimiter)
        salvaged_selects += (
            f"{from_start} as salvaged_{column},\n{from_end} as salvaged_{column}_from_end,\n"
        )
    return f"""
        with
        lines as (select * from {lines_relation}),
        split as ({_split_fields_sql(header, delimiter)})
        select
            source_line,
            structural_error,
            case when structural_error is not null then line end as raw_line,
            {salvaged_selects}
            {column_selects}
        from split
    """


def _header_line(
    con: duckdb.DuckDBPyConnection, spec: InputFile, numbered_lines: str, dialect: Dialect
) -> str:
    """Line 1 of the lines DuckDB read, as text (a leading byte-order mark removed)."""
    row = con.execute(
        f"select line, read_error, read_error_field from ({numbered_lines}) as lines"
        " where source_line = 1"
    ).fetchone()
    if row is None:
        raise InputFileError(spec.file_name, "file has no header row", line=1)
    line, read_error, read_error_field = row
    if read_error is not None:
        where = f" in field {read_error_field}" if read_error_field else ""
        raise InputFileError(
            spec.file_name,
            f"header is {read_error}{where}; if the file is in another encoding, declare it "
            f"with --encoding (e.g. --encoding cp1252, or --encoding {spec.name}=cp1252)",
            line=1,
        )
    return (line or "").lstrip("\ufeff")


def _count_lines(
    con: duckdb.DuckDBPyConnection, landing_rows: str, first_column: str
) -> tuple[int, int, int, int]:
    """Data lines, structural errors, blank lines and lines not split, of a landing relation.

    A line that was split has every contract column (text, possibly empty); one that was not
    has none, so ``first_column`` being null tells them apart.
    """
    data_lines, structural_errors, blank_lines, unsplit_lines = con.execute(
        f"""
        select
            count(*),
            count(structural_error),
            count(*) filter (where structural_error = 'blank line'),
            count(*) filter (where {first_column} is null)
        from {landing_rows}
        """
    ).fetchone()
    return int(data_lines), int(structural_errors), int(blank_lines), int(unsplit_lines)


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
def _utf8_text(spec: InputFile, path: Path, dialect: Dialect, work_dir: Path) -> Iterator[Path]:
    """``path`` itself when it is declared UTF-8; else a UTF-8 work file, removed afterwards."""
    if dialect.encoding == UTF8:
        yield path
        return
    work_dir.mkdir(parents=True, exist_ok=True)
    transcoded = work_dir / f"{spec.name}.utf-8.csv"
    try:
        problem = transcode_to_utf8(path, transcoded, dialect.encoding)
        if problem is not None:
            raise InputFileError(spec.file_name, problem.problem, line=problem.line)
        yield transcoded
    finally:
        transcoded.unlink(missing_ok=True)


def load_input_file(
    con: duckdb.DuckDBPyConnection,
    spec: InputFile,
    path: Path,
    landing_schema: str,
    fingerprint: Callable[[], FileFingerprint] | None = None,
    dialect: Dialect | None = None,
    work_dir: Path | None = None,
) -> LoadedFile:
    """Check one raw file and define its landing rows; raises InputFileError if unusable.

    The file's lines are stored once, in file order (``<landing schema>.<input file>__lines``),
    and ``<landing schema>.<input file>`` is a view that numbers them and splits them into the
    contract's columns: the staging model splits them while it reads them, so the split
    fields are never written twice. ``fingerprint`` returns the file's checksum and NUL scan
    (computed here when not given; the folder computes them in the background). ``dialect``
    is the file's declared encoding and delimiter (UTF-8 and a comma by default); a file in
    another encoding is transcoded into ``work_dir`` first (a temporary folder by default).
    The size and checksum are always those of the original file.
    """
    dialect = dialect or Dialect()
    check_file_is_text(spec, path, dialect)
    lines_store = f"{landing_schema}.{spec.name}__lines"
    _drop_relation(con, landing_schema, spec.name)
    with (
        tempfile.TemporaryDirectory(prefix="audience-landing-") as scratch,
        _utf8_text(spec, path, dialect, work_dir or Path(scratch)) as text_path,
    ):
        marked = text_path != path
        numbered_lines = _read_lines(con, spec, text_path, lines_store, dialect, marked)
        header = read_header(
            spec, _header_line(con, spec, numbered_lines, dialect), dialect.delimiter
        )
    # the split keeps data lines only (source_line > 1)
    con.execute(
        f"create view {landing_schema}.{spec.name} as "
        + _landing_rows_sql(spec, header, f"({numbered_lines})", dialect.delimiter)
    )
    data_lines, structural_errors, blank_lines, unsplit_lines = _count_lines(
        con, f"{landing_schema}.{spec.name}", spec.columns[0]
    )
    if data_lines == 0 and spec.rows_required:
        raise InputFileError(spec.file_name, "file has a header but no data rows", line=2)
    non_blank_lines = data_lines - blank_lines
    if non_blank_lines > 0 and unsplit_lines == data_lines:
        raise InputFileError(
            spec.file_name,
            f"no data line could be split into the header's {len(header.columns)} columns "
            f"on the declared delimiter, a {dialect.delimiter_label}; if the file uses "
            f"another, pass --delimiter (e.g. --delimiter ';' or --delimiter {spec.name}=';')",
            line=2,
        )
    scanned = fingerprint() if fingerprint is not None else fingerprint_file(path)
    # a file in another encoding was checked for NUL characters as it was transcoded
    if scanned.first_nul_byte is not None and not marked:
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
    # them too (hashlib releases the GIL), so they add little to the wall time.
    with ThreadPoolExecutor(max_workers=1) as pool:
        fingerprints = [
            pool.submit(fingerprint_file, path) if path.is_file() else None for path in paths
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
