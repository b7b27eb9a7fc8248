"""Counting a file's physical lines as it streams by, and finding a line too long to read.

A line ends with CRLF, LF or a lone CR (as DuckDB's and Spark's text readers and Python count
physical lines); a last line without an ending counts too. The counter is fed the file's bytes
in chunks of any size, so the checksum pass (``file_checks.fingerprint_file``) and the
transcoder (``text_encoding.transcode_to_utf8``) count lines in the pass they already make.

DuckDB's CSV reader (2.0) refuses a line of 2,000,000 bytes or more, and drops one longer than
its read buffer (32,000,000 bytes) without a word; Spark reads either whole. A line that long
is not a row of an export but rows whose line breaks were lost, and among them could be an
opt-out. So a file with a line over :data:`MAX_LINE_BYTES` is refused, on every engine, naming
the line.
"""

from __future__ import annotations

#: The longest physical line a file may have, in bytes (its ending not counted): half of
#: DuckDB's line limit.
MAX_LINE_BYTES = 1_000_000


class LineCounter:
    """Physical lines of a byte stream, fed in chunks, and the first line over a byte limit.

    The work per chunk is a few scans in C, whatever the number of lines in it: from a line's
    start, the last line break within the next ``limit + 1`` bytes ends every line starting
    before it, so a chunk is crossed in jumps of about ``limit`` bytes, and a line is too long
    exactly where such a window holds no line break.
    """

    def __init__(self, limit: int | None = None) -> None:
        self.limit = MAX_LINE_BYTES if limit is None else limit
        self.line_breaks = 0
        self.bytes_read = 0
        #: The number of the first line longer than ``limit``, if any.
        self.first_long_line: int | None = None
        self._open_line = 0  # bytes of the line not yet ended
        self._last_byte = b""

    @property
    def lines(self) -> int:
        """Physical lines so far: every line break, and a last line without one."""
        ends_open = self.bytes_read and self._last_byte not in (b"\n", b"\r")
        return self.line_breaks + (1 if ends_open else 0)

    def feed(self, chunk: bytes) -> None:
        """Count the line breaks of the next chunk and measure the lines in it."""
        if not chunk:
            return
        crlf_cut = self._last_byte == b"\r" and chunk.startswith(b"\n")
        body = chunk[1:] if crlf_cut else chunk  # a CRLF cut between chunks is one line break
        has_cr = b"\r" in body  # one quick scan spares LF-only files two slow counts
        if self.first_long_line is None:
            self._measure(body, has_cr)
        self.line_breaks += _line_breaks(body, has_cr)
        self._last_byte = chunk[-1:]
        self.bytes_read += len(chunk)

    def finish(self) -> LineCounter:
        """Measure a last line without an ending; returns the counter."""
        if self._open_line > self.limit:
            self._note(self.line_breaks + 1)
        self._open_line = 0
        return self

    def _measure(self, body: bytes, has_cr: bool) -> None:
        first = _find_break(body, 0, len(body), has_cr, last=False)
        if first is None:
            self._open_line += len(body)
            if self._open_line > self.limit:
                self._note(self.line_breaks + 1)
            return
        if self._open_line + first > self.limit:
            self._note(self.line_breaks + 1)
            return
        start = first + 1
        while len(body) - start > self.limit:
            window_end = start + self.limit + 1
            last = _find_break(body, start, window_end, has_cr, last=True)
            if last is None:  # the line starting here runs past the window
                self._note(self.line_breaks + _line_breaks(body[:start], has_cr) + 1)
                return
            start = last + 1
        last = _find_break(body, start, len(body), has_cr, last=True)
        self._open_line = len(body) - (start if last is None else last + 1)

    def _note(self, number: int) -> None:
        if self.first_long_line is None:
            self.first_long_line = number


def _line_breaks(data: bytes, has_cr: bool) -> int:
    """Line breaks in ``data``: LF, lone CR, and CRLF counted once."""
    breaks = data.count(b"\n")
    if has_cr:
        breaks += data.count(b"\r") - data.count(b"\r\n")
    return breaks


def _find_break(data: bytes, start: int, end: int, has_cr: bool, last: bool) -> int | None:
    """The first (or ``last``) CR or LF in ``data[start:end]``, or None."""
    find = data.rfind if last else data.find
    found = [find(b"\n", start, end)]
    if has_cr:
        found.append(find(b"\r", start, end))
    found = [position for position in found if position != -1]
    if not found:
        return None
    return max(found) if last else min(found)
