"""An opt-out or a suppression whose customer_id an export mangled still excludes.

``1001.0`` (a spreadsheet's number), ``C-1002``, ``#1005`` or ``"1,008"`` (a number with a
thousands separator) is not a valid id, so the row is rejected (or, for a suppression with an
address, matched by address only). The first run of digits, read without a thousands
separator, still names a customer (``customer_id_in_digits``): rule 1 holds them for a rejected
consent_events row, rule 7 suppresses them by the row's own dates. The published audience
equals the plain-Python reference's, and `audience explain` shows the line.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import AS_OF, COLUMNS, query, read_decisions, run_and_read_outputs
from reference import audience_rules as rules

from audience_pipeline.explain import explain

pytestmark = pytest.mark.slow  # runs the pipeline

PROJECT_DIR = Path(__file__).resolve().parent.parent

#: customers the sample publishes, and the line each one gets
MANGLED_OPT_OUT = (1001, "CE-900001,1001.0,email,OPT_OUT,2026-11-01T00:00:00Z,web")
MANGLED_SUPPRESSION = (1002, "C-1002,,hard_bounce,2026-01-01,")
MANGLED_SUPPRESSION_WITH_ADDRESS = (1004, "#1004x,nobody@example.com,spam_complaint,2026-02-01,")
EXPIRED_MANGLED_SUPPRESSION = (1005, "1005.0,,hard_bounce,2020-01-01,2020-12-31")
GROUPED_SUPPRESSION = (1008, '"1,008",,hard_bounce,2026-01-01,')


def _run_with_lines(
    tmp_path_factory: pytest.TempPathFactory, name: str, appended: dict[str, list[str]]
) -> tuple[Path, Path]:
    """The sample with ``appended`` lines at the end of each file named, run once: the landing
    folder and the run's database."""
    work = tmp_path_factory.mktemp(name)
    landing = _sample_with_lines(work / "landing", appended)
    return landing, run_and_read_outputs(landing, work).database


def _sample_with_lines(landing: Path, appended: dict[str, list[str]]) -> Path:
    """``landing``: the sample's files with ``appended`` lines at the end of each file named."""
    shutil.copytree(PROJECT_DIR / "seeds", landing, ignore=shutil.ignore_patterns("*.yml"))
    for file_name, lines in appended.items():
        with (landing / f"{file_name}.csv").open("a", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in lines))
    return landing


@pytest.fixture(scope="module")
def mangled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    suppressions = (
        MANGLED_SUPPRESSION,
        MANGLED_SUPPRESSION_WITH_ADDRESS,
        EXPIRED_MANGLED_SUPPRESSION,
        GROUPED_SUPPRESSION,
    )
    return _run_with_lines(
        tmp_path_factory,
        "unreadable_ids",
        {
            "consent_events": [MANGLED_OPT_OUT[1]],
            "suppressions": [line for _, line in suppressions],
        },
    )


def test_the_sample_publishes_the_customers_before_their_ids_are_mangled() -> None:
    result = rules.evaluate_dir(PROJECT_DIR / "seeds", dt.date.fromisoformat(AS_OF))
    for customer_id, _ in (
        MANGLED_OPT_OUT,
        MANGLED_SUPPRESSION,
        MANGLED_SUPPRESSION_WITH_ADDRESS,
        EXPIRED_MANGLED_SUPPRESSION,
        GROUPED_SUPPRESSION,
    ):
        assert result.decisions[customer_id] == rules.ELIGIBLE, customer_id


def test_a_mangled_opt_out_holds_and_a_mangled_suppression_suppresses(
    mangled: tuple[Path, Path],
) -> None:
    _, database = mangled
    decisions = read_decisions(database)
    assert decisions[MANGLED_OPT_OUT[0]] == "data_quality_hold"
    assert decisions[MANGLED_SUPPRESSION[0]] == "suppressed"
    assert decisions[MANGLED_SUPPRESSION_WITH_ADDRESS[0]] == "suppressed"
    # "1,008" names 1008 (its digits without the thousands separator), not customer 1
    assert decisions[GROUPED_SUPPRESSION[0]] == "suppressed"
    # its dates ended before the as-of date: the customer it may name stays eligible
    assert decisions[EXPIRED_MANGLED_SUPPRESSION[0]] == "eligible"


def test_the_decisions_equal_the_reference(mangled: tuple[Path, Path]) -> None:
    landing, database = mangled
    expected = rules.evaluate_dir(landing, dt.date.fromisoformat(AS_OF))
    assert read_decisions(database) == expected.decisions


def test_explain_names_the_mangled_lines(mangled: tuple[Path, Path]) -> None:
    _, database = mangled
    held = explain(database, MANGLED_OPT_OUT[0])
    assert "consent_events.csv line" in held and "invalid customer_id" in held
    assert "1001.0" in held
    suppressed = explain(database, MANGLED_SUPPRESSION[0])
    assert "its customer_id cannot be read and its digits name this customer" in suppressed


@pytest.fixture(scope="module")
def bad_bytes_in_ids(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, int], Path]:
    """A byte that is not UTF-8 beside or inside an id: each line names its customer still."""
    result = rules.evaluate_dir(PROJECT_DIR / "seeds", dt.date.fromisoformat(AS_OF))
    opted_out, suppressed, inactive, split = (
        int(row["customer_id"]) for row in result.audience[:4]
    )
    work = tmp_path_factory.mktemp("bad_bytes_in_ids")
    landing = work / "landing"
    shutil.copytree(PROJECT_DIR / "seeds", landing, ignore=shutil.ignore_patterns("*.yml"))
    half = str(split)[:2], str(split)[2:]
    appended = {
        "consent_events": [
            b"CE-900011,\xa0%d,email,OPT_OUT,2026-11-20T00:00:00Z,web" % opted_out,
            # a bad byte inside the id: its first digit run names the customer of its head
            b"CE-900012,%s\xe9%s,email,OPT_OUT,2026-11-20T00:00:00Z,web"
            % (half[0].encode(), half[1].encode()),
        ],
        "suppressions": [b"\xa0%d,,fraud_review,2026-01-01," % suppressed],
        "customers": [b"%d\xa0,,Zed,NY,bronze,false,2026-11-25T00:00:00Z" % inactive],
    }
    for name, lines in appended.items():
        path = landing / f"{name}.csv"
        path.write_bytes(path.read_bytes() + b"\n".join(lines) + b"\n")
    published = run_and_read_outputs(landing, work)
    named = {
        "opted_out": opted_out,
        "suppressed": suppressed,
        "inactive": inactive,
        "split": split,
        "head": int(half[0]),
    }
    return named, published.database


def test_a_bad_byte_beside_an_id_does_not_hide_its_customer(
    bad_bytes_in_ids: tuple[dict[str, int], Path],
) -> None:
    named, database = bad_bytes_in_ids
    decisions = read_decisions(database)
    assert decisions[named["opted_out"]] == "data_quality_hold"
    assert decisions[named["suppressed"]] == "suppressed"
    assert decisions[named["inactive"]] == "data_quality_hold"
    # `\xe9` between the digits: the first run of digits is the one before it (never the
    # escape's hex digits, `e9`): only the customer it names is held
    with duckdb.connect(str(database), read_only=True) as con:
        held = con.execute(
            "select customer_id_in_digits from staging.stg_exports__consent_events_checked "
            "where event_id = 'CE-900012'"
        ).fetchall()
    assert held == [(named["head"],)]


#: lines with one field too many (they cannot be split), whose customer_id is mangled
BROKEN_MANGLED_OPT_OUTS = (
    (1050, "CE-900051,1050.0,email,OPT_OUT,2026-11-01T00:00:00Z,web,x"),
    (1051, "CE-900052,C-1051,email,OPT_OUT,2026-11-01T00:00:00Z,web,x"),
    (1028, 'CE-900053,="1028",email,OPT_OUT,2026-11-01T00:00:00Z,web'),
)
BROKEN_MANGLED_SUPPRESSION = (1058, "1058.0,,fraud_review,2026-01-01,,x")
#: lines with a field too many whose id is quoted with its thousands comma: read in their
#: quoted fields, not cut at the comma inside the quotes (which names customer 1)
BROKEN_QUOTED_OPT_OUT = (1054, 'CE-900057,"1,054",email,OPT_OUT,2026-11-01T00:00:00Z,web,x')
BROKEN_QUOTED_SUPPRESSION = (1057, '"1,057",,fraud_review,2026-01-01,,x')
#: ids grouping their thousands by a dot (German exports) or an apostrophe (Swiss ones): on a
#: line that splits, and on one with a field too many
DOT_GROUPED_OPT_OUT = (1021, "CE-900059,1.021,email,OPT_OUT,2026-11-01T00:00:00Z,web")
APOSTROPHE_GROUPED_SUPPRESSION = (1025, "1'025,,fraud_review,2026-01-01,")
BROKEN_DOT_GROUPED_OPT_OUT = (1029, "CE-900060,1.029,email,OPT_OUT,2026-11-01T00:00:00Z,web,x")
#: lines whose quotes leave fewer fields than columns: quoted whole, or a stray pair of quotes
#: swallowing the customer_id; read in their pieces, quotes not interpreted
WHOLE_QUOTED_OPT_OUT = (1031, '"CE-900064,1031,email,OPT_OUT,2026-11-20T00:00:00Z,web"')
SWALLOWED_ID_OPT_OUT = (1033, '"CE-900065,1033",email,OPT_OUT,2026-11-20T00:00:00Z,web')
#: an opt-out whose event_id and customer_id were swapped
SWAPPED_OPT_OUT = (1056, "1056,CE-900058,email,OPT_OUT,2026-11-01T00:00:00Z,web")
#: lines that split, whose id groups its thousands with a space (French and Swiss exports)
SPACE_GROUPED_OPT_OUT = (1022, "CE-900056,1 022,email,OPT_OUT,2026-11-01T00:00:00Z,web")
SPACE_GROUPED_SUPPRESSION = (1023, "1\u202f023,,fraud_review,2026-01-01,")
#: a customers line with a field too many: read from its end, its address (digits and all)
#: sits where the customer_id would, and names nobody
BROKEN_CUSTOMER_WITH_DIGITS = (1063, "1063,a1001@example.com,Zed,UT,gold,false,2026-11-20,x")


@pytest.fixture(scope="module")
def broken_mangled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    appended = {
        "consent_events": [
            *(line for _, line in BROKEN_MANGLED_OPT_OUTS),
            SPACE_GROUPED_OPT_OUT[1],
            BROKEN_QUOTED_OPT_OUT[1],
            SWAPPED_OPT_OUT[1],
            DOT_GROUPED_OPT_OUT[1],
            BROKEN_DOT_GROUPED_OPT_OUT[1],
            WHOLE_QUOTED_OPT_OUT[1],
            SWALLOWED_ID_OPT_OUT[1],
        ],
        "suppressions": [
            BROKEN_MANGLED_SUPPRESSION[1],
            SPACE_GROUPED_SUPPRESSION[1],
            BROKEN_QUOTED_SUPPRESSION[1],
            APOSTROPHE_GROUPED_SUPPRESSION[1],
        ],
        "customers": [BROKEN_CUSTOMER_WITH_DIGITS[1]],
    }
    return _run_with_lines(tmp_path_factory, "broken_mangled_ids", appended)


def test_a_broken_line_names_the_customer_of_a_mangled_id(
    broken_mangled: tuple[Path, Path],
) -> None:
    """A line that cannot be split reads a mangled id where its customer_id would sit as an
    unreadable id is read (its digits): the opt-outs hold, the suppression suppresses. A piece
    that is not shaped like an id (an address with digits) names nobody."""
    _, database = broken_mangled
    before = rules.evaluate_dir(PROJECT_DIR / "seeds", dt.date.fromisoformat(AS_OF)).decisions
    customers = [customer for customer, _ in BROKEN_MANGLED_OPT_OUTS]
    assert all(before[customer] == rules.ELIGIBLE for customer in [*customers, 1058, 1001])
    decisions = read_decisions(database)
    assert [decisions[customer] for customer in customers] == ["data_quality_hold"] * 3
    assert decisions[BROKEN_MANGLED_SUPPRESSION[0]] == "suppressed"
    assert decisions[BROKEN_CUSTOMER_WITH_DIGITS[0]] == "data_quality_hold"  # its own line
    assert decisions[1001] == "eligible"  # a1001@example.com names nobody


def test_an_id_grouped_by_a_space_names_its_customer(broken_mangled: tuple[Path, Path]) -> None:
    """`1 022` (a space between the thousands) names 1022, not 1; so does a narrow no-break
    space."""
    _, database = broken_mangled
    _assert_held_and_suppressed(database, SPACE_GROUPED_OPT_OUT[0], SPACE_GROUPED_SUPPRESSION[0])
    readings = _consent_readings(database, "customer_id_in_digits", "event_id = 'CE-900056'")
    assert readings == [(1022,)]  # not 1


def test_a_broken_line_reads_a_quoted_id_whole(broken_mangled: tuple[Path, Path]) -> None:
    """A line with a field too many and sound quoting is read in its quoted fields: `"1,054"`
    names 1054 (cut at every comma, it read `"1`: customer 1, and 1054 was published)."""
    _, database = broken_mangled
    _assert_held_and_suppressed(database, BROKEN_QUOTED_OPT_OUT[0], BROKEN_QUOTED_SUPPRESSION[0])
    readings = _consent_readings(
        database,
        "salvaged_customer_id, salvaged_customer_id_from_end",
        "rejection_reason like 'expected 6 fields%'",  # the lines with a field too many
    )
    assert (1054, None) in readings
    assert all(1 not in reading for reading in readings)


def test_a_line_with_fewer_quoted_fields_than_columns_is_read_in_its_pieces(
    broken_mangled: tuple[Path, Path],
) -> None:
    """A line quoted whole is one quoted field; read so, it names nobody and its opt-out was
    lost. Such a line is read in its pieces between commas, as a line without sound quoting."""
    _, database = broken_mangled
    decisions = read_decisions(database)
    assert decisions[WHOLE_QUOTED_OPT_OUT[0]] == "data_quality_hold"
    assert decisions[SWALLOWED_ID_OPT_OUT[0]] == "data_quality_hold"
    for customer, line in (WHOLE_QUOTED_OPT_OUT, SWALLOWED_ID_OPT_OUT):
        assert customer in rules.ids_named_by_unsplittable_line(line, COLUMNS["consent_events"])


def test_an_opt_out_with_its_ids_swapped_holds_its_customer(
    broken_mangled: tuple[Path, Path],
) -> None:
    """A consent row whose event_id is a customer id and whose customer_id is an event id
    holds the customer its event_id names (before, only 900058, its customer_id's digits, and
    1056 was published)."""
    _, database = broken_mangled
    assert read_decisions(database)[SWAPPED_OPT_OUT[0]] == "data_quality_hold"
    readings = _consent_readings(
        database, "customer_id_in_event_id, customer_id_in_digits", "event_id = '1056'"
    )
    assert readings == [(1056, 900058)]


def test_an_id_grouped_by_a_dot_or_an_apostrophe_names_its_customer(
    broken_mangled: tuple[Path, Path],
) -> None:
    """`1.021` and `1'025` (thousands as German and Swiss exports write them) name 1021 and
    1025, not 1, on a line that splits and on one with a field too many."""
    _, database = broken_mangled
    _assert_held_and_suppressed(database, DOT_GROUPED_OPT_OUT[0], APOSTROPHE_GROUPED_SUPPRESSION[0])
    assert read_decisions(database)[BROKEN_DOT_GROUPED_OPT_OUT[0]] == "data_quality_hold"
    readings = _consent_readings(database, "customer_id_in_digits", "event_id = 'CE-900059'")
    assert readings == [(1021,)]  # not 1


def _assert_held_and_suppressed(database: Path, opted_out: int, suppressed: int) -> None:
    decisions = read_decisions(database)
    assert decisions[opted_out] == "data_quality_hold"
    assert decisions[suppressed] == "suppressed"


def _consent_readings(database: Path, columns: str, where: str) -> list[tuple[object, ...]]:
    """``columns`` of the checked consent rows that match ``where``."""
    return query(
        database, f"select {columns} from staging.stg_exports__consent_events_checked where {where}"
    )


#: lines another export wrote with another delimiter, appended to the comma files: each has
#: fewer pieces than columns on the comma, and names its customer cut at its own delimiter
OTHER_DELIMITER_OPT_OUTS = (
    (1009, "CE-900061;1009;email;OPT_OUT;2026-11-20T00:00:00Z;web"),
    (1010, "CE-900062\t1010\temail\tOPT_OUT\t2026-11-20T00:00:00Z\tweb"),
)
OTHER_DELIMITER_SUPPRESSION = (1012, "1012;;customer_request;2026-01-01;")
OTHER_DELIMITER_CUSTOMER = (1013, "1013|someone@example.com|Zed|NY|gold|false|2026-11-20")


@pytest.fixture(scope="module")
def other_delimiters(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    appended = {
        "consent_events": [line for _, line in OTHER_DELIMITER_OPT_OUTS],
        "suppressions": [OTHER_DELIMITER_SUPPRESSION[1]],
        "customers": [OTHER_DELIMITER_CUSTOMER[1]],
    }
    return _run_with_lines(tmp_path_factory, "other_delimiter_lines", appended)


def test_a_line_in_another_delimiter_names_its_customer(
    other_delimiters: tuple[Path, Path],
) -> None:
    """An opt-out, a suppression or a newer (inactive) snapshot written with semicolons, tabs
    or pipes in a comma file cannot be split, and still excludes the customer it names."""
    _, database = other_delimiters
    before = rules.evaluate_dir(PROJECT_DIR / "seeds", dt.date.fromisoformat(AS_OF)).decisions
    customers = [1009, 1010, 1012, 1013]
    assert all(before[customer] == rules.ELIGIBLE for customer in customers)
    decisions = read_decisions(database)
    assert [decisions[customer] for customer, _ in OTHER_DELIMITER_OPT_OUTS] == [
        "data_quality_hold"
    ] * 2
    assert decisions[OTHER_DELIMITER_SUPPRESSION[0]] == "suppressed"
    assert decisions[OTHER_DELIMITER_CUSTOMER[0]] == "data_quality_hold"
    # the plain-Python reference reads the same customers from the same lines
    for customer, line in OTHER_DELIMITER_OPT_OUTS:
        assert rules.ids_named_by_unsplittable_line(line, COLUMNS["consent_events"]) == {customer}
    assert rules.ids_named_by_unsplittable_line(
        OTHER_DELIMITER_SUPPRESSION[1], COLUMNS["suppressions"]
    ) == {OTHER_DELIMITER_SUPPRESSION[0]}
    # a comma line whose pieces are too few is still read on its commas
    assert rules.ids_named_by_unsplittable_line(
        "CE-900063,1009,email;x", COLUMNS["consent_events"]
    ) == {1009}


def test_explain_names_the_line_in_another_delimiter(
    other_delimiters: tuple[Path, Path],
) -> None:
    _, database = other_delimiters
    held = explain(database, OTHER_DELIMITER_OPT_OUTS[0][0])
    assert "consent_events.csv line" in held


#: customers under 1,000 added to the sample, each eligible, and the line that names them with
#: three zero decimals (`101.000` may be customer 101 or 101000: both are excluded)
NEW_CUSTOMERS = (101, 102, 103, 104, 105)
ZERO_DECIMALS_SUPPRESSION = (101, "101.000,,hard_bounce,2026-01-01,")
ZERO_DECIMALS_OPT_OUT = (102, 'CE-900301,"102,000",email,OPT_OUT,2026-11-20T00:00:00Z,web')
ZERO_DECIMALS_CUSTOMER = (103, "103.000,other103@example.com,Cy,NY,gold,true,2026-11-25T00:00:00Z")
BROKEN_ZERO_DECIMALS_SUPPRESSION = (104, "104.000,,hard_bounce,2026-01-01,,extra")
MILLIONS_SUPPRESSION = (105, "105.000.000,,hard_bounce,2026-01-01,")  # one reading: 105000000


def _new_customers_lines(customers: tuple[int, ...] = NEW_CUSTOMERS) -> dict[str, list[str]]:
    """Lines that make each of ``customers`` eligible: a snapshot, a booking, an opt-in."""
    return {
        "customers": [
            f"{customer_id},new{customer_id}@example.com,Ann,NY,gold,true,2026-01-01T00:00:00Z"
            for customer_id in customers
        ],
        "bookings": [
            f"BK-9{customer_id:05d},{customer_id},2026-10-01,100.00,COMPLETED,Family Resort,web"
            for customer_id in customers
        ],
        "consent_events": [
            f"CE-9{customer_id:05d},{customer_id},email,OPT_IN,2025-01-01T00:00:00Z,web"
            for customer_id in customers
        ],
    }


def _run_and_decide(
    tmp_path_factory: pytest.TempPathFactory, name: str, appended: dict[str, list[str]]
) -> tuple[Path, dict[int, str]]:
    """``_run_with_lines``: the run's database and its decisions."""
    _, database = _run_with_lines(tmp_path_factory, name, appended)
    return database, read_decisions(database)


def _reference_landing(
    tmp_path_factory: pytest.TempPathFactory, name: str, appended: dict[str, list[str]]
) -> Path:
    """The sample with the readable ``appended`` lines, for the reference (which is given the
    broken lines' readings apart)."""
    return _sample_with_lines(tmp_path_factory.mktemp(name) / "landing", appended)


@pytest.fixture(scope="module")
def zero_decimals(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    appended = _new_customers_lines()
    appended["suppressions"] = [
        ZERO_DECIMALS_SUPPRESSION[1],
        BROKEN_ZERO_DECIMALS_SUPPRESSION[1],
        MILLIONS_SUPPRESSION[1],
    ]
    appended["consent_events"].append(ZERO_DECIMALS_OPT_OUT[1])
    appended["customers"].append(ZERO_DECIMALS_CUSTOMER[1])
    return _run_with_lines(tmp_path_factory, "zero_decimals", appended)


def test_the_new_customers_are_eligible_before_their_ids_have_decimals(
    tmp_path: Path,
) -> None:
    landing = _sample_with_lines(tmp_path / "landing", _new_customers_lines())
    result = rules.evaluate_dir(landing, dt.date.fromisoformat(AS_OF))
    assert {
        customer_id: result.decisions[customer_id] for customer_id in NEW_CUSTOMERS
    } == dict.fromkeys(NEW_CUSTOMERS, rules.ELIGIBLE)


def test_an_id_with_three_zero_decimals_excludes_both_readings(
    zero_decimals: tuple[Path, Path],
) -> None:
    """`101.000` and `"102,000"` may be 101 and 102 written with decimals, or 101000 and 102000
    written with thousands: the one a line names is excluded either way, a customers row's
    both readings are customers, held; `105.000.000` has one reading and leaves 105 eligible."""
    landing, database = zero_decimals
    decisions = read_decisions(database)
    assert decisions[ZERO_DECIMALS_SUPPRESSION[0]] == "suppressed"
    assert decisions[ZERO_DECIMALS_OPT_OUT[0]] == "data_quality_hold"
    assert decisions[ZERO_DECIMALS_CUSTOMER[0]] == "data_quality_hold"
    assert decisions[103_000] == "data_quality_hold"  # the thousands reading, a customer too
    assert decisions[BROKEN_ZERO_DECIMALS_SUPPRESSION[0]] == "suppressed"
    assert decisions[MILLIONS_SUPPRESSION[0]] == "eligible"
    assert decisions == rules.evaluate_dir(landing, dt.date.fromisoformat(AS_OF)).decisions


def test_explain_names_the_line_with_zero_decimals(zero_decimals: tuple[Path, Path]) -> None:
    _, database = zero_decimals
    suppressed = explain(database, ZERO_DECIMALS_SUPPRESSION[0])
    assert "its customer_id cannot be read and its digits name this customer" in suppressed
    held = explain(database, ZERO_DECIMALS_OPT_OUT[0])
    assert "consent_events.csv line" in held and "102,000" in held


#: a line a field too many whose pieces from its start and from its end both could carry three
#: zero decimals: the start's (106.000, 108.000) and the end's (107.000, 109.000) name their
#: customers, each in both readings
TWO_PIECES = {
    "suppressions": (106, 107, "106.000,107.000,,hard_bounce,2026-01-01,"),
    "consent_events": (
        108,
        109,
        "CE-900401,108.000,109.000,email,OPT_OUT,2026-11-20T00:00:00Z,web",
    ),
}


def test_both_pieces_of_a_broken_line_name_their_customers_with_zero_decimals(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The end's reading with three zero decimals is not lost when the start has one too: the
    suppression suppresses 107 (and 106), the opt-out holds 109 (and 108), as the reference
    says, and `audience explain` names the opt-out's line for 109."""
    customers = (106, 107, 108, 109)
    appended = _new_customers_lines(customers)
    landing = _reference_landing(tmp_path_factory, "zero_decimals_two_pieces_reference", appended)
    for file_name, (_, _, line) in TWO_PIECES.items():
        appended.setdefault(file_name, []).append(line)
    database, decisions = _run_and_decide(tmp_path_factory, "zero_decimals_two_pieces", appended)
    assert {customer_id: decisions[customer_id] for customer_id in customers} == {
        106: "suppressed",
        107: "suppressed",
        108: "data_quality_hold",
        109: "data_quality_hold",
    }
    # the reference reads a broken line through ids_named_by_unsplittable_line
    named = {
        file_name: rules.ids_named_by_unsplittable_line(line, COLUMNS[file_name])
        for file_name, (_, _, line) in TWO_PIECES.items()
    }
    assert named == {
        "suppressions": {106, 106_000, 107, 107_000},
        "consent_events": {108, 108_000, 109, 109_000},
    }
    expected = rules.evaluate(
        *(
            rules.load_rows(landing / f"{name}.csv")
            for name in ("customers", "bookings", "consent_events", "suppressions")
        ),
        dt.date.fromisoformat(AS_OF),
        unsplittable_line_ids=named,
    )
    assert decisions == expected.decisions
    assert "consent_events.csv line" in explain(database, 109)


#: lines whose id was written with a comma for thousands, unquoted, in a comma file: the split
#: cuts it in two (`110` and `000`, which name 110 and 0 from the line's start and end); read
#: uncut, it names the customer the export meant, 110000. Each: the file, the customer, the
#: line, and what it makes of the customer.
HOLD, SUPPRESSED = "data_quality_hold", "suppressed"
THOUSANDS_CUT = (
    ("suppressions", 110_000, "110,000,,hard_bounce,2026-01-01,", SUPPRESSED),
    # cut in three
    ("suppressions", 1_113_000, "1,113,000,,hard_bounce,2026-01-01,", SUPPRESSED),
    # another unquoted comma after the id: the id is read at the start of the text
    ("suppressions", 115_000, "115,000,o@x.com,hard_bounce, manual,2026-01-01,", SUPPRESSED),
    # quoted, a field short: cut at every comma, read from the id's place
    ("suppressions", 116_000, '"116,000",,hard_bounce,2026-01-01', SUPPRESSED),
    # quoted, two commas and a field short: more pieces than columns
    ("suppressions", 1_118_000, '"1,118,000",,hard_bounce,2026-01-01', SUPPRESSED),
    # padded after the id, no-break spaces included
    ("suppressions", 122_000, "122,000 \u00a0\u00a0 ,,hard_bounce,2026-01-01,", SUPPRESSED),
    # unquoted, a field short
    ("suppressions", 121_000, "121,000,,hard_bounce", SUPPRESSED),
    # `114,Sm` is not an id grouped in threes: 114 alone
    ("suppressions", 114_000, "114,Sm,,hard_bounce,2026-01-01,", "eligible"),
    ("consent_events", 111_000, "CE-9501,111,000,email,OPT_OUT,2026-11-20T00:00:00Z,web", HOLD),
    ("consent_events", 117_000, "CE-9502,117,000,email,OPT_OUT,2026-11-20T00:00:00Z,web,eu", HOLD),
    ("customers", 112_000, "112,000,o112@x.com,Cy,NY,gold,true,2026-11-25T00:00:00Z", HOLD),
    # `Smith, Jo` unquoted: the address is not where the email would sit
    ("customers", 119_000, "119,000,s119@x.com,Smith, Jo,NY,gold,true,2026-11-25", HOLD),
)
#: 119000 opted out; 120000 now holds the address 119000's broken line gives them, so rule 9
#: blocks it (the line's ids hold every address written in it)
SHARED_ADDRESS_LINES = {
    "consent_events": ["CE-9119001,119000,email,OPT_OUT,2026-06-01T00:00:00Z,web"],
    "customers": ["120000,s119@x.com,Ann,NY,gold,true,2026-02-01T00:00:00Z"],
}


def test_an_id_cut_by_a_thousands_comma_names_its_customer(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """`110,000` in a comma file is two pieces: each line names the customer of its id read
    uncut (and 110 and 0), whatever else it breaks; `114,Sm` names 114, not 114000, who stays
    eligible; a customer holding an address written in a broken customers line whose cut id
    names one who opted out is blocked. The decisions equal the reference's, and `audience
    explain` names the lines."""
    customers = (*(customer for _, customer, _, _ in THOUSANDS_CUT), 120_000)
    appended = _new_customers_lines(customers)
    for file_name, lines in SHARED_ADDRESS_LINES.items():
        appended[file_name] += lines
    landing = _reference_landing(tmp_path_factory, "thousands_cut_reference", appended)
    broken: dict[str, list[str]] = {}
    for file_name, _, line, _ in THOUSANDS_CUT:
        broken.setdefault(file_name, []).append(line)
        appended.setdefault(file_name, []).append(line)
    database, decisions = _run_and_decide(tmp_path_factory, "thousands_cut", appended)
    assert {customer: decisions[customer] for customer in customers} == {
        **{customer: decision for _, customer, _, decision in THOUSANDS_CUT},
        120_000: "shared_address_blocked",
    }
    for file_name, customer, line, decision in THOUSANDS_CUT:
        named = rules.ids_named_by_unsplittable_line(line, COLUMNS[file_name])
        assert (customer in named) == (decision != "eligible"), line
    expected = rules.evaluate(
        *(
            rules.load_rows(landing / f"{name}.csv")
            for name in ("customers", "bookings", "consent_events", "suppressions")
        ),
        dt.date.fromisoformat(AS_OF),
        unsplittable_line_ids={
            file_name: set().union(
                *(rules.ids_named_by_unsplittable_line(line, COLUMNS[file_name]) for line in lines)
            )
            for file_name, lines in broken.items()
        },
        unsplittable_suppression_emails=set().union(
            *(
                rules.emails_named_by_unsplittable_line(line, COLUMNS["suppressions"])
                for line in broken["suppressions"]
            )
        ),
        unsplittable_customer_addresses=set().union(
            *(
                rules.addresses_named_by_unsplittable_line(line, COLUMNS["customers"])
                for line in broken["customers"]
            )
        ),
    )
    assert decisions == expected.decisions
    assert "suppressions.csv line" in explain(database, 110_000)
    assert "consent_events.csv line" in explain(database, 111_000)
    assert "customers.csv line" in explain(database, 112_000)


#: lines whose id was cut by its thousands comma and which lost a field further on, so they
#: still split into the header's columns: `130` is the customer_id and `000` the next field.
#: Each line is quarantined and names the id read uncut too. Each: the file, the customer, the
#: line, and what it makes of the customer.
CUT_WHERE_IT_SPLITS = (
    # the end date lost: an accepted suppression of 130 (email `000`) before
    ("suppressions", 130_000, "130,000,hard_bounce,2026-01-01,", SUPPRESSED),
    # cut in three, two fields lost
    ("suppressions", 1_134_000, "1,134,000,hard_bounce,2026-01-01", SUPPRESSED),
    # padded, and padded wide as a fixed-width column is
    ("suppressions", 135_000, "135, 000 ,hard_bounce,2026-01-01,", SUPPRESSED),
    ("suppressions", 138_000, "138,000          ,hard_bounce,2026-01-01,", SUPPRESSED),
    ("suppressions", 139_000, "       139,000,hard_bounce,2026-01-01,", SUPPRESSED),
    # source_system lost: rejected for its event_ts before, holding 131 only
    ("consent_events", 131_000, "CE-9601,131,000,email,OPT_OUT,2026-11-20T00:00:00Z", HOLD),
    # the channel lost: an accepted event of channel `000` about 132 before
    ("consent_events", 132_000, "CE-9602,132,000,OPT_OUT,2026-11-20T00:00:00Z,web", HOLD),
    # updated_at lost
    ("customers", 133_000, "133,000,o133@x.com,Cy,NY,gold,true", HOLD),
    # two digits after the id, four before: rows like any other
    ("suppressions", 136_000, "136,00,hard_bounce,2026-01-01,", "eligible"),
    ("suppressions", 137_000, "1370,000,hard_bounce,2026-01-01,", "eligible"),
)


def test_an_id_cut_on_a_line_that_still_splits_names_its_customer(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """`130,000,hard_bounce,2026-01-01,` has the suppressions' five fields: a cut id and a lost
    end date. A customer_id of one to three digits followed by a field of three digits is read
    as such a cut: the line is quarantined and suppresses (or holds) the customer of its id read
    uncut. The reference, given the lines as rows, finds the same lines and decisions, and
    `audience explain` names the lines."""
    customers = tuple(customer for _, customer, _, _ in CUT_WHERE_IT_SPLITS)
    appended = _new_customers_lines(customers)
    for file_name, _, line, _ in CUT_WHERE_IT_SPLITS:
        appended.setdefault(file_name, []).append(line)
    landing = _reference_landing(tmp_path_factory, "cut_where_it_splits_reference", appended)
    run = run_and_read_outputs(landing, tmp_path_factory.mktemp("cut_where_it_splits"))
    decisions = read_decisions(run.database)
    assert {customer: decisions[customer] for customer in customers} == {
        customer: decision for _, customer, _, decision in CUT_WHERE_IT_SPLITS
    }
    for file_name, _, line, decision in CUT_WHERE_IT_SPLITS:
        quarantined = [row for row in run.rejected[file_name] if row["raw_line"] == line]
        assert bool(quarantined) == (decision != "eligible"), line
        if quarantined:
            assert "may be one id cut at its thousands separator" in quarantined[0]["reason"]
    expected = rules.evaluate(
        *(
            rules.load_rows(landing / f"{name}.csv")
            for name in ("customers", "bookings", "consent_events", "suppressions")
        ),
        dt.date.fromisoformat(AS_OF),
    )
    assert decisions == expected.decisions
    assert "suppressions.csv line" in explain(run.database, 130_000)
    assert "consent_events.csv line" in explain(run.database, 132_000)
    assert "customers.csv line" in explain(run.database, 133_000)
