"""How each input file is written: its encoding and delimiter, declared, never guessed.

``audience run`` reads UTF-8 and commas unless told otherwise: ``--encoding cp1252`` or
``--delimiter ';'`` declares every file, ``--encoding customers=cp1252`` one file (the
per-file value wins over the one for every file). Each file's encoding and delimiter are
recorded in the manifest, ``reconciliation.json`` and the history.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from audience_pipeline.text_encoding import UTF8, encoding_label, normalize_encoding

DEFAULT_DELIMITER = ","
#: Delimiters spelled by name on the command line (a tab is awkward to type in a shell).
DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}
_LABELS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_FILE_PREFIX = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*)=(.*)$", re.DOTALL)

#: One command-line value: the input file it is for (None: every file) and the value.
Setting = tuple[str | None, str]


@dataclass(frozen=True)
class Dialect:
    """The encoding and delimiter one input file is read with."""

    encoding: str = UTF8
    delimiter: str = DEFAULT_DELIMITER

    @property
    def delimiter_label(self) -> str:
        """``comma``, ``semicolon``, ``tab``, ``pipe`` or the character quoted."""
        return delimiter_label(self.delimiter)

    @property
    def encoding_label(self) -> str:
        return encoding_label(self.encoding)


def delimiter_label(delimiter: str) -> str:
    return _LABELS.get(delimiter, repr(delimiter))


def parse_delimiter(text: str) -> str:
    """One ASCII character that can separate fields (or its name: comma, semicolon, tab, pipe).

    Letters, digits, spaces, the double quote (the quote character), the backslash and line
    breaks cannot.
    """
    value = DELIMITER_NAMES.get(text.lower(), text)
    if len(value) != 1 or not value.isascii():
        raise ValueError(
            f"expected one character such as ';' (or comma, semicolon, tab, pipe), not {text!r}"
        )
    if value.isalnum() or value in {'"', "\\", " ", "\r", "\n", "\x00"}:
        raise ValueError(f"{text!r} cannot be a delimiter")
    return value


def split_setting(text: str, file_names: Iterable[str]) -> Setting:
    """``customers=cp1252`` -> ("customers", "cp1252"); ``cp1252`` -> (None, "cp1252").

    A prefix that is not an input file's name is refused, so a typo never silently applies a
    value to every file.
    """
    match = _FILE_PREFIX.match(text)
    if match is None:
        return None, text
    names = list(file_names)
    name = match[1].lower().removesuffix(".csv")
    if name not in names:
        raise ValueError(
            f"{match[1]!r} is not an input file (one of {', '.join(names)}); "
            "write FILE=VALUE or VALUE for every file"
        )
    return name, match[2]


def encoding_setting(text: str, file_names: Iterable[str]) -> Setting:
    """A ``--encoding`` value: an encoding Python knows, for every file or ``FILE=``."""
    name, value = split_setting(text, file_names)
    return name, normalize_encoding(value)


def delimiter_setting(text: str, file_names: Iterable[str]) -> Setting:
    """A ``--delimiter`` value: one character, for every file or ``FILE=``."""
    name, value = split_setting(text, file_names)
    return name, parse_delimiter(value)


def _resolve(settings: Sequence[Setting], option: str, default: str) -> dict[str | None, str]:
    chosen: dict[str | None, str] = {None: default}
    given: set[str | None] = set()
    for name, value in settings:
        if name in given and chosen[name] != value:
            target = f"{name}.csv" if name else "every file"
            raise ValueError(f"{option} is given twice for {target}")
        given.add(name)
        chosen[name] = value
    return chosen


def resolve_dialects(
    file_names: Iterable[str],
    encodings: Sequence[Setting] = (),
    delimiters: Sequence[Setting] = (),
) -> dict[str, Dialect]:
    """Each input file's dialect: its own value, else the one for every file, else the default.

    Raises ValueError when one option gives two different values for the same file.
    """
    encoding = _resolve(encodings, "--encoding", UTF8)
    delimiter = _resolve(delimiters, "--delimiter", DEFAULT_DELIMITER)
    return {
        name: Dialect(
            encoding=encoding.get(name, encoding[None]),
            delimiter=delimiter.get(name, delimiter[None]),
        )
        for name in file_names
    }
