"""Free text from the exports or from a person, shown without the email addresses in it.

A consent channel is free text from an export, and an acceptance reason is typed by whoever
ran the run: what the report, ``reconciliation.json``, ``audience run`` and ``audience history``
show of them has anything shaped like an address replaced by a short fingerprint of it, and a
line of text shows control characters (a line break, a tab, an escape) as ``?``.
"""

from __future__ import annotations

import hashlib
import re

#: Text shaped like an email address, removed from what people are shown.
ADDRESS_LIKE = re.compile(r"[^\s@<>]+@[^\s@<>]+")
#: Hex digits of an address's SHA-256 kept in its place: enough to tell apart the few addresses
#: a report shows, far too few to recover or confirm one.
FINGERPRINT_DIGITS = 6


def removed_address(address: str) -> str:
    """What is shown in place of ``address``: ``[address removed #1a2b3c]``, the first
    ``FINGERPRINT_DIGITS`` hex digits of the SHA-256 of its text as written (its UTF-8 bytes).
    Two addresses in one report (two consent channels, say) read differently, and one address
    reads the same in every run, report and line."""
    digest = hashlib.sha256(address.encode("utf-8", "surrogatepass")).hexdigest()
    return f"[address removed #{digest[:FINGERPRINT_DIGITS]}]"


def without_addresses(text: str) -> str:
    """``text`` with anything shaped like an email address replaced by :func:`removed_address`."""
    return ADDRESS_LIKE.sub(lambda match: removed_address(match.group(0)), text)


def printable(text: str) -> str:
    """``text`` with each control character (line break, tab, escape...) shown as ``?``."""
    return "".join(char if char.isprintable() else "?" for char in text)
