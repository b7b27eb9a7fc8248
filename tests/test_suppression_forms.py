"""A suppression suppresses the address or customer it names in whatever form it is written.

Suppression lists come from email platforms and hands: ``<a@x.com>``, ``"Jane" <a@x.com>``,
``mailto:a@x.com``, a list of addresses in one field, addresses run together, the customer_id
and email columns swapped, or a broken line holding nothing but addresses. Customers the sample
publishes get such lines; the run excludes each one, agrees with the plain-Python reference,
and `audience explain` says how the line named them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path

import pytest
from conftest import AS_OF, read_decisions, run_and_read_outputs
from reference import audience_rules as rules

from audience_pipeline.explain import explain

pytestmark = pytest.mark.slow  # runs the pipeline

PROJECT_DIR = Path(__file__).resolve().parent.parent

#: how each line writes the customer it names: {email} or {id} is filled in
FORMS = {
    "angle_brackets": ",<{email}>,hard_bounce,2026-01-01,",
    "display_name": ',"""Jane Roe"" <{email}>",spam_complaint,2026-01-01,',
    "mailto": ",mailto:{email},unsubscribe_all,2026-01-01,",
    "first_of_two": ',"{email}; someone@example.org",hard_bounce,2026-01-01,',
    "last_of_two": ',"someone@example.org, {email}",hard_bounce,2026-01-01,',
    "middle_of_four": ',"a@example.org; {email}, b@example.org c@example.org",spam,2026-01-01,',
    "at_signs_run_together": ",x@{email}@y,hard_bounce,2026-01-01,",
    "columns_swapped": "{email},{id},fraud_review,2026-01-01,",
    "email_column_holds_id": ",{id},fraud_review,2026-01-01,",
    "broken_line_with_an_address": "{email}",
    "broken_line_with_a_list": "a@example.org; {email}; b@example.org",
    # invisible characters a copy and paste brings: the address inside still suppresses
    "zero_width_space_after": ",{email}\u200b,hard_bounce,2026-01-01,",
    "byte_order_mark_before": ",\ufeff{email},hard_bounce,2026-01-01,",
}
#: a byte that is not UTF-8 (a cp1252 no-break space) before the address: the line is
#: rejected, and the address it holds still suppresses
BAD_BYTE = b",\xa0{email},hard_bounce,2026-01-01,"
#: written like the others but ended before the as-of date: the customer stays eligible
EXPIRED = ",<{email}>,hard_bounce,2020-01-01,2020-12-31"


@pytest.fixture(scope="module")
def forms(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, int], Path, Path]:
    result = rules.evaluate_dir(PROJECT_DIR / "seeds", dt.date.fromisoformat(AS_OF))
    emails = {int(row["customer_id"]): row["email"] for row in result.audience}
    chosen = list(emails)[: len(FORMS) + 2]
    named = dict(zip([*FORMS, "expired", "bad_byte"], chosen, strict=True))
    work = tmp_path_factory.mktemp("suppression_forms")
    landing = work / "landing"
    shutil.copytree(PROJECT_DIR / "seeds", landing, ignore=shutil.ignore_patterns("*.yml"))
    with (landing / "suppressions.csv").open("a", encoding="utf-8") as handle:
        for form, line in [*FORMS.items(), ("expired", EXPIRED)]:
            customer_id = named[form]
            handle.write(line.format(email=emails[customer_id].upper(), id=customer_id) + "\n")
    with (landing / "suppressions.csv").open("ab") as binary:
        binary.write(BAD_BYTE.replace(b"{email}", emails[named["bad_byte"]].encode()) + b"\n")
    published = run_and_read_outputs(landing, work)
    return named, landing, published.database


def test_the_lines_are_read_as_written(forms: tuple[dict[str, int], Path, Path]) -> None:
    """The fixture's lines hold what they claim (a quoted display name is one field)."""
    _, landing, _ = forms
    with (landing / "suppressions.csv").open(encoding="utf-8", errors="replace") as handle:
        rows = list(csv.reader(handle))
    assert any(row[1].startswith('"Jane Roe" <') for row in rows if len(row) == 5)
    assert sum(1 for row in rows if len(row) == 1) == 2  # the broken lines


def test_every_form_suppresses_the_customer_it_names(
    forms: tuple[dict[str, int], Path, Path],
) -> None:
    named, _, database = forms
    decisions = read_decisions(database)
    for form in FORMS:
        assert decisions[named[form]] == "suppressed", form
    assert decisions[named["expired"]] == "eligible"
    assert decisions[named["bad_byte"]] == "suppressed"


def test_the_decisions_equal_the_reference(forms: tuple[dict[str, int], Path, Path]) -> None:
    """The reference reads a line with a bad byte (as U+FFFD) like one that cannot be split."""
    _, landing, database = forms
    text = (landing / "suppressions.csv").read_bytes().decode("utf-8", errors="replace")
    header, *lines = text.splitlines()
    columns = header.split(",")
    broken = [line for line in lines if "," not in line or "\ufffd" in line]
    readable = [
        row
        for row in csv.DictReader(io.StringIO("\n".join([header, *lines])))
        if None not in row and None not in row.values() and "\ufffd" not in "".join(row.values())
    ]
    expected = rules.evaluate(
        rules.load_rows(landing / "customers.csv"),
        rules.load_rows(landing / "bookings.csv"),
        rules.load_rows(landing / "consent_events.csv"),
        readable,
        dt.date.fromisoformat(AS_OF),
        unsplittable_suppression_emails={
            email
            for line in broken
            for email in rules.emails_named_by_unsplittable_line(line, columns)
        },
    )
    assert read_decisions(database) == expected.decisions


def test_explain_says_how_the_line_names_the_customer(
    forms: tuple[dict[str, int], Path, Path],
) -> None:
    named, _, database = forms
    bracketed = explain(database, named["angle_brackets"])
    assert "its fields hold this address inside other text" in bracketed
    swapped = explain(database, named["email_column_holds_id"])
    assert "its email column holds this customer_id" in swapped
    broken = explain(database, named["broken_line_with_an_address"])
    assert "may name this email" in broken
