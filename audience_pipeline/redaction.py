"""Free text from the exports or from a person, shown without the email addresses in it.

A consent channel is free text from an export, and an acceptance reason is typed by whoever
ran the run: what the report, ``reconciliation.json``, ``audience run`` and ``audience history``
show of them has anything shaped like an address removed, and a line of text shows control
characters (a line break, a tab, an escape) as ``?``.
"""

from __future__ import annotations

import re

#: Text shaped like an email address, removed from what people are shown.
ADDRESS_LIKE = re.compile(r"[^\s@<>]+@[^\s@<>]+")


def without_addresses(text: str) -> str:
    """``text`` with anything shaped like an email address replaced by ``[address removed]``."""
    return ADDRESS_LIKE.sub("[address removed]", text)


def printable(text: str) -> str:
    """``text`` with each control character (line break, tab, escape...) shown as ``?``."""
    return "".join(char if char.isprintable() else "?" for char in text)
