"""Declared encodings: reading an input file that is not UTF-8, and showing bytes that are not text.

DuckDB's CSV reader knows UTF-8 (and, natively, UTF-16 and a strict Latin-1); the pre-step
always lets it read UTF-8. A file declared in another encoding (``--encoding cp1252``) is first
transcoded here, as a stream in chunks, into a UTF-8 work file that DuckDB then reads: every
character keeps its line, and every line ending (CRLF, LF or a lone CR: a physical line as
Spark's and Python's readers count them) is written as LF, so the line numbers are those of the
original file. (DuckDB's reader counts a CRLF in a file of LF lines as two line breaks; a file
of mixed line endings goes through this work file for that reason, even when it is UTF-8.)
A byte the declared encoding cannot decode is written as a
*mark*: the byte 0xFF, which UTF-8 never uses, followed by the byte's two hex digits. DuckDB
refuses the lines holding a mark as it refuses any line that is not UTF-8, and the pre-step
reads those lines back with :func:`escape_line`, as for a UTF-8 file with a bad byte.

:func:`escape_line` turns the bytes of a line that is not valid text into text that keeps every
byte recoverable: a byte that is not valid is written ``\\xNN`` (its hex digits) and a backslash
of the line is doubled, so ``unescape_line`` gives the exact bytes back; every other character,
the delimiters and quotes included, is kept as it was, so the line still splits into its fields.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from audience_pipeline.line_count import LineCounter

UTF8 = "utf-8"

#: The byte that marks an undecodable byte in a transcoded work file (never used by UTF-8).
MARK = 0xFF
_MARK_HANDLER = "audience.mark_undecodable"
#: Encodings that say their byte order with a byte-order mark, which must then be there.
_BOM_REQUIRED = {
    "utf-16": (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE),
    "utf-32": (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE),
}
_CHUNK_BYTES = 4 * 1024 * 1024
#: Bytes an encoding that reads files must decode, or hand to the error handler.
_PROBE = b"ab\xff\xfe\x80\x00\r\n\xff"
_ESCAPE = re.compile(r"\\(\\|x([0-9a-f]{2}))")


def _mark_undecodable(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: each undecodable byte becomes U+DCFF + its two hex digits.

    Encoded back with ``surrogateescape``, U+DCFF is the byte 0xFF: the mark.
    """
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(f"\udcff{byte:02X}" for byte in bad), error.end


codecs.register_error(_MARK_HANDLER, _mark_undecodable)


def normalize_encoding(name: str) -> str:
    """The canonical name of a text encoding Python knows (``windows-1252`` -> ``cp1252``).

    Raises ValueError for a name Python does not know or a codec that is not a text encoding
    (``base64``, ``rot13``). UTF-8 with or without a byte-order mark is ``utf-8``.
    """
    try:
        info = codecs.lookup(name.strip())
    except LookupError:
        raise ValueError(f"unknown encoding {name!r}") from None
    if not getattr(info, "_is_text_encoding", True):
        raise ValueError(f"{name!r} is not a text encoding")
    try:  # a byte it cannot decode must reach the handler that marks it (idna, punycode do not)
        codecs.decode(_PROBE, info.name, _MARK_HANDLER)
    except UnicodeError:
        raise ValueError(f"{name!r} is not an encoding a file can be read in") from None
    return UTF8 if info.name in {"utf-8", "utf-8-sig"} else info.name


def encoding_label(encoding: str) -> str:
    """How reasons and messages name an encoding: ``UTF-8``, ``cp1252``, ``UTF-16``."""
    return encoding.upper() if encoding.startswith("utf") else encoding


@dataclass(frozen=True)
class TranscodeProblem:
    """Why a file cannot be read in its declared encoding at all (the pre-step refuses it)."""

    problem: str
    line: int | None = None


def transcode_to_utf8(
    source: Path, target: Path, encoding: str, counter: LineCounter | None = None
) -> TranscodeProblem | None:
    """Write ``source``, read in ``encoding``, to ``target`` as UTF-8, in chunks.

    Undecodable bytes become marks (see the module's docstring); a leading byte-order mark is
    dropped. Returns a problem instead when the file cannot be text in that encoding: UTF-16 or
    UTF-32 without its byte-order mark, or a NUL character (the line it is on is given).
    ``counter`` is fed the bytes written (``target``'s lines, the lines of ``source``).
    """
    written = counter if counter is not None else LineCounter()
    with source.open("rb") as handle:
        start = handle.read(4)
    if encoding in _BOM_REQUIRED and not start.startswith(_BOM_REQUIRED[encoding]):
        return TranscodeProblem(
            f"file has no {encoding_label(encoding)} byte-order mark; declare its byte order "
            f"with --encoding {encoding}-le or {encoding}-be"
        )
    decoder = codecs.getincrementaldecoder(encoding)(errors=_MARK_HANDLER)
    held = ""  # a CR at the end of a chunk: the next one may start with its LF
    shifted = _ShiftedLines() if encoding.startswith(("utf-16", "utf-32")) else None
    with source.open("rb") as reader, target.open("wb") as writer:
        for chunk in _chunks(reader):
            text = held + decoder.decode(chunk)
            if (nul := text.find("\x00")) != -1:
                return TranscodeProblem(
                    f"file is not text (it contains NUL characters read as "
                    f"{encoding_label(encoding)})",
                    line=written.line_breaks + _line_breaks(text[:nul]) + 1,
                )
            text, held = (text[:-1], "\r") if text.endswith("\r") else (text, "")
            lines = _as_lf(text)
            if shifted is not None and (line := shifted.feed(lines)) is not None:
                return shifted.problem(line, encoding)
            _write(writer, written, lines.encode(UTF8, "surrogateescape"))
        rest = _as_lf(held + decoder.decode(b"", final=True))
        if shifted is not None and (line := shifted.feed(rest, final=True)) is not None:
            return shifted.problem(line, encoding)
        _write(writer, written, rest.encode(UTF8, "surrogateescape"))
    written.finish()
    return None


#: a character of one byte's value (U+0000 to U+00FF): every line of an export has some (its
#: delimiters, digits); a UTF-16 or UTF-32 file read one byte off has none
_NARROW = re.compile(r"[\x00-\xff]")
_WIDE = re.compile(r"[^\x00-\xff]")
#: an undecodable byte's mark as decoded text (U+DCFF and two hex digits, ``_mark_undecodable``):
#: its digits are not the line's
_UNMARKED = re.compile("\udcff[0-9A-F]{2}")
#: a line break of a UTF-16 file read one byte off: LF and CR become U+0A00 and U+0D00, which
#: no export writes (the first is not even a character)
_SHIFTED_BREAK = re.compile("[\u0a00\u0d00]")


class _ShiftedLines:
    """The first line of a UTF-16 or UTF-32 file read a byte off: one holding a line break so
    read (U+0A00, U+0D00), or 16 characters or more and none below U+0100, not even its
    delimiters. A byte lost or added (or text in another encoding appended) pairs each byte
    with its neighbour's, so every character after it is another one and line breaks are no
    longer line breaks: the rest of the file would be one line of nonsense, quarantined, and
    every opt-out or suppression in it lost."""

    _LONGEST_NATURAL = 16

    def __init__(self) -> None:
        self.line = 1  # the line being read
        self.length = 0
        self.narrow = False

    def feed(self, text: str, final: bool = False) -> int | None:
        """Read LF-separated ``text``; the number of a shifted line, once one is complete."""
        if _WIDE.search(text) is None:  # the usual chunk: every line in it has narrow characters
            breaks = text.count("\n")
            tail = len(text) - 1 - text.rfind("\n") if breaks else len(text)
            if breaks:
                # the line the chunk's first break ends: narrow if any of it is in this chunk
                if self.length >= self._LONGEST_NATURAL and not self.narrow and text[0] == "\n":
                    return self.line
                self.line, self.length, self.narrow = self.line + breaks, 0, False
            self.length += tail
            self.narrow = self.narrow or tail > 0
            return self._end() if final else None
        pieces = text.split("\n")
        for position, piece in enumerate(pieces):
            if _SHIFTED_BREAK.search(piece):
                return self.line
            self.length += len(piece)
            self.narrow = self.narrow or _NARROW.search(_UNMARKED.sub("", piece)) is not None
            ends = position < len(pieces) - 1 or final
            if ends and (shifted := self._end()) is not None:
                return shifted
        return None

    def _end(self) -> int | None:
        """End the line being read: its number if it is shifted, else go on to the next."""
        if self.length >= self._LONGEST_NATURAL and not self.narrow:
            return self.line
        self.line, self.length, self.narrow = self.line + 1, 0, False
        return None

    @staticmethod
    def problem(line: int, encoding: str) -> TranscodeProblem:
        return TranscodeProblem(
            f"the line does not read as {encoding_label(encoding)}: its bytes are read one "
            "off (a byte lost or added before it, or text in another encoding appended), so its "
            "characters are others and its line breaks no longer line breaks; the lines after it "
            "cannot be read",
            line=line,
        )


def _write(writer: BinaryIO, counter: LineCounter, data: bytes) -> None:
    writer.write(data)
    counter.feed(data)


def _as_lf(text: str) -> str:
    """``text`` with every line ending (CRLF, LF, a lone CR) written as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _chunks(reader: Iterable[bytes] | object) -> Iterable[bytes]:
    read = reader.read  # type: ignore[attr-defined]
    return iter(lambda: read(_CHUNK_BYTES), b"")


def _line_breaks(text: str) -> int:
    """Line breaks: CRLF, LF or a lone CR."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


@dataclass(frozen=True)
class EscapedLine:
    """A line that is not valid text, as recoverable text, and its first bad byte."""

    text: str
    first_bad_byte: int | None  # the byte's value; None when every byte was valid
    first_bad_position: int | None  # where its escape starts in ``text``


def escape_line(raw: bytes, marked: bool = False) -> EscapedLine:
    """``raw`` (a line's bytes, without its line ending) as text with every byte recoverable.

    Valid UTF-8 is kept as it is, except that a backslash is doubled; each byte that is not
    valid UTF-8 becomes ``\\xNN``. Python's decoder reports the shortest invalid sequence, so
    a bad byte never takes the delimiter or quote after it with it. With ``marked`` (a work
    file written by :func:`transcode_to_utf8`), a mark (0xFF and two hex digits) is the
    original byte it names.
    """
    parts: list[str] = []
    first_byte: int | None = None
    first_position: int | None = None
    length = 0
    position = 0
    while position < len(raw):
        try:
            valid = raw[position:].decode(UTF8)
            bad_start = bad_end = len(raw)
        except UnicodeDecodeError as error:
            valid = raw[position : position + error.start].decode(UTF8)
            bad_start, bad_end = position + error.start, position + error.end
        valid = valid.replace("\\", "\\\\")
        parts.append(valid)
        length += len(valid)
        if bad_start == len(raw):
            break
        bad = raw[bad_start:bad_end]
        if marked and raw[bad_start] == MARK and len(raw) >= bad_start + 3:
            original = bytes([int(raw[bad_start + 1 : bad_start + 3], 16)])
            bad_end = bad_start + 3
        else:
            original = bad
        if first_byte is None:
            first_byte, first_position = original[0], length
        escaped = "".join(f"\\x{byte:02x}" for byte in original)
        parts.append(escaped)
        length += len(escaped)
        position = bad_end
    return EscapedLine("".join(parts), first_byte, first_position)


def unescape_line(text: str) -> bytes:
    """The bytes :func:`escape_line` escaped (``\\xNN`` and ``\\\\`` read back)."""
    out = bytearray()
    position = 0
    for match in _ESCAPE.finditer(text):
        out += text[position : match.start()].encode(UTF8)
        out += b"\\" if match[1] == "\\" else bytes([int(match[2], 16)])
        position = match.end()
    out += text[position:].encode(UTF8)
    return bytes(out)


def field_of(text: str, position: int, delimiter: str) -> int:
    """The 1-based field of ``text`` holding ``position``: delimiters outside quotes counted."""
    field, quoted = 1, False
    for char in text[:position]:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            field += 1
    return field


def read_lines_at(path: Path, line_numbers: Iterable[int]) -> dict[int, bytes]:
    """The bytes of the given physical lines of ``path`` (1-based), without their endings.

    Lines end as DuckDB's reader ends them: CRLF, LF or a lone CR. The file is read as a
    stream up to the last line asked for (Latin-1 maps each byte to one character, so the text
    is the bytes).
    """
    wanted = sorted(set(line_numbers))
    found: dict[int, bytes] = {}
    if not wanted:
        return found
    targets = iter(wanted)
    target = next(targets)
    with path.open(encoding="latin-1", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            if number < target:
                continue
            found[number] = line.rstrip("\r\n").encode("latin-1")
            target = next(targets, None)  # type: ignore[arg-type]
            if target is None:
                break
    return found
