"""What people are shown of free text: addresses replaced by a short fingerprint."""

from __future__ import annotations

import re

from audience_pipeline.channels import channel_name, channel_without_addresses
from audience_pipeline.redaction import printable, removed_address, without_addresses

REMOVED = re.compile(r"\[address removed #[0-9a-f]{6}\]")


def test_an_address_is_replaced_by_six_hex_digits_of_its_sha256() -> None:
    # sha256("jane@example.com") begins 8c87b489 (printf 'jane@example.com' | sha256sum)
    assert removed_address("jane@example.com") == "[address removed #8c87b4]"
    assert without_addresses("jane@example.com") == "[address removed #8c87b4]"


def test_two_addresses_in_one_report_read_differently_and_one_reads_alike() -> None:
    first = channel_without_addresses("news jane@example.com")
    second = channel_without_addresses("news john@example.com")
    assert first != second
    assert first == channel_without_addresses("news jane@example.com")
    # the address as written: another case is another channel, so another fingerprint
    assert first != channel_without_addresses("news Jane@example.com")
    for shown in (first, second):
        assert shown is not None and "example.com" not in shown and REMOVED.search(shown)


def test_every_address_in_a_text_is_removed_and_the_rest_kept() -> None:
    text = "asked by ops@example.com <cc: a@b.org>\tfor Q4"
    shown = without_addresses(text)
    assert "@" not in shown
    assert len(REMOVED.findall(shown)) == 2
    assert shown.startswith("asked by [address removed #") and shown.endswith("\tfor Q4")
    assert printable(shown).endswith("?for Q4")


def test_a_channel_name_with_an_address_stays_short_and_printable() -> None:
    name = channel_name(channel_without_addresses("ops@example.com\nlist"))
    assert name == f"{removed_address('ops@example.com')}?list" and len(name) <= 40
    assert channel_without_addresses(None) is None
