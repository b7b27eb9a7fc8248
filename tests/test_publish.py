"""Unit tests of the atomic publish, ``audience_pipeline.publish.stage_outputs`` and the switch
(no dbt).

The marts are stand-in tables in an in-memory DuckDB; every test publishes into a temporary
output folder and reads it back through the documented paths.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from audience_pipeline import publish
from audience_pipeline.errors import PipelineError
from audience_pipeline.publish import (
    DIAGNOSTICS_KEPT,
    diagnostics_dir,
    generations_dir,
    resolve_output_dir,
    stage_outputs,
    write_diagnostics,
)

INPUT_FILES = ["customers", "bookings"]
DELTA_NAMES = {"audience_entered.csv", "audience_left.csv", "audience_updated.csv"}
OUTPUT_NAMES = {
    "eligible_audience.csv",
    "rejected_customers.csv",
    "rejected_bookings.csv",
    "reconciliation.json",
    *DELTA_NAMES,
}


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute("create schema marts")
    try:
        yield connection
    finally:
        connection.close()


def set_marts(con: duckdb.DuckDBPyConnection, tag: str, rows: int = 3) -> None:
    """Stand-in marts whose every value carries ``tag``, so a file tells which run wrote it."""
    con.execute(
        "create or replace table marts.eligible_audience as "
        f"select range as customer_id, '{tag}' as tag from range({rows})"
    )
    for name in INPUT_FILES:
        con.execute(
            f"create or replace table marts.rejected_{name} as "
            f"select range as source_line, '{tag}' as tag from range({rows})"
        )
    for name in DELTA_NAMES:
        # in reverse order: the published file must come out sorted by customer_id
        con.execute(
            f"create or replace table marts.{name.removesuffix('.csv')} as "
            f"select {rows} - 1 - range as customer_id, '{tag}' as tag from range({rows})"
        )


def publish_tagged(
    con: duckdb.DuckDBPyConnection, out: Path, tag: str, **kwargs: object
) -> list[Path]:
    set_marts(con, tag)
    staged = stage_outputs(con, {"tag": tag}, INPUT_FILES, out, **kwargs)  # type: ignore[arg-type]
    staged.switch()
    return staged.paths


def tags_in(folder: Path) -> dict[str, str]:
    """The tag every output file in ``folder`` carries."""
    tags = {}
    for name in OUTPUT_NAMES:
        text = (folder / name).read_text(encoding="utf-8")
        if name.endswith(".json"):
            tags[name] = json.loads(text)["tag"]
        else:
            values = {line.rsplit(",", 1)[1] for line in text.splitlines()[1:]}
            assert len(values) == 1, (name, text)
            tags[name] = values.pop()
    return tags


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def test_first_publish_creates_a_link_to_a_complete_generation(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    written = publish_tagged(con, out, "one")
    assert {path.name for path in written} == OUTPUT_NAMES
    assert all(path.parent == out for path in written)
    assert out.is_symlink()
    assert os.readlink(out) == ".out.generations/g000001"
    assert {path.name for path in out.iterdir()} == OUTPUT_NAMES
    assert set(tags_in(out).values()) == {"one"}
    assert sorted(path.name for path in generations_dir(out).iterdir()) == ["g000001"]


def test_each_publish_replaces_the_whole_set_and_keeps_one_previous_generation(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    for number in range(1, 5):
        publish_tagged(con, out, f"run{number}")
        assert set(tags_in(out).values()) == {f"run{number}"}
        assert os.readlink(out) == f".out.generations/g{number:06d}"
    kept = sorted(path.name for path in generations_dir(out).iterdir())
    assert kept == ["g000003", "g000004"]
    assert set(tags_in(generations_dir(out) / "g000003").values()) == {"run3"}


def test_same_content_gives_byte_identical_files(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    publish_tagged(con, out, "same")
    first = snapshot(out)
    publish_tagged(con, out, "same")
    assert snapshot(out) == first
    assert os.readlink(out).endswith("g000002")


def test_a_failure_while_writing_leaves_the_previous_outputs_and_is_cleaned_up(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    publish_tagged(con, out, "good")
    before = snapshot(out)
    original = publish._copy_query

    def failing(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
        if "rejected_bookings" in query:
            raise OSError(28, "No space left on device")
        original(con, query, path)

    monkeypatch.setattr(publish, "_copy_query", failing)
    with pytest.raises(OSError, match="No space left"):
        publish_tagged(con, out, "bad")
    assert snapshot(out) == before
    leftovers = [path.name for path in generations_dir(out).iterdir()]
    assert leftovers == ["g000001"]  # the half-written generation is removed at once

    monkeypatch.setattr(publish, "_copy_query", original)
    publish_tagged(con, out, "next")
    assert set(tags_in(out).values()) == {"next"}
    assert sorted(path.name for path in generations_dir(out).iterdir()) == ["g000001", "g000002"]


def test_leftovers_of_killed_runs_are_removed_by_the_next_publish(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    publish_tagged(con, out, "good")
    root = generations_dir(out)
    (root / ".staging-999999").mkdir()
    (root / ".staging-999999" / "eligible_audience.csv").write_text("half")
    (root / "g000007").mkdir()  # written, never switched to
    os.symlink(".out.generations/g000007", tmp_path / ".out.link-999999")
    publish_tagged(con, out, "next")
    assert sorted(path.name for path in root.iterdir()) == ["g000001", "g000002"]
    assert not (tmp_path / ".out.link-999999").is_symlink()
    assert set(tags_in(out).values()) == {"next"}


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2-exchange", "two-renames"])
def test_a_plain_folder_from_before_is_adopted_without_a_visible_change(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    exchange: bool,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "eligible_audience.csv").write_text("customer_id\n1\n")
    (out / "notes.txt").write_text("kept")
    (out / ".publishing-123").mkdir()  # what the earlier publish left when it was killed
    if not exchange:
        monkeypatch.setattr(publish, "_exchange", lambda first, second: False)
    generations = publish._Generations(resolve_output_dir(out))
    generations.root.mkdir()
    generations._adopt_plain_folder()
    assert out.is_symlink()
    assert os.readlink(out) == ".out.generations/g000000"
    assert (out / "eligible_audience.csv").read_text() == "customer_id\n1\n"
    assert sorted(path.name for path in generations.root.iterdir()) == ["g000000"]
    assert not list(tmp_path.glob(".out.link-*"))

    publish_tagged(con, out, "new")
    assert set(tags_in(out).values()) == {"new"}
    assert (out / "notes.txt").read_text() == "kept"  # carried over
    assert not (out / ".publishing-123").exists()


def test_an_empty_plain_folder_is_simply_replaced(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    publish_tagged(con, out, "one")
    assert os.readlink(out) == ".out.generations/g000001"


def test_files_the_pipeline_did_not_write_are_carried_over(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    publish_tagged(con, out, "one")
    (out / "history.jsonl").write_text('{"run": 1}\n')
    (out / "charts").mkdir()
    (out / "charts" / "a.svg").write_text("<svg/>")
    publish_tagged(con, out, "two")
    assert (out / "history.jsonl").read_text() == '{"run": 1}\n'
    assert (out / "charts" / "a.svg").read_text() == "<svg/>"
    assert set(tags_in(out).values()) == {"two"}


def test_extra_files_are_published_in_the_same_generation(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    publish_tagged(con, out, "one", extra_files={"report.html": "<p>one</p>"})
    written = publish_tagged(con, out, "two", extra_files={"report.html": b"<p>two</p>"})
    assert out / "report.html" in written
    assert (out / "report.html").read_text() == "<p>two</p>"


@pytest.mark.parametrize("name", ["../x.html", "sub/x.html", ".hidden", "reconciliation.json"])
def test_an_extra_file_cannot_escape_or_replace_an_output(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str
) -> None:
    out = tmp_path / "out"
    publish_tagged(con, out, "one")
    before = snapshot(out)
    with pytest.raises(PipelineError, match="extra file"):
        publish_tagged(con, out, "two", extra_files={name: "x"})
    assert snapshot(out) == before


def test_a_link_the_pipeline_did_not_make_is_followed(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    real = tmp_path / "published" / "2026-11-26"
    real.parent.mkdir()
    (tmp_path / "latest").symlink_to(real.parent)
    out = tmp_path / "latest" / "2026-11-26"
    assert resolve_output_dir(out) == real
    publish_tagged(con, out, "one")
    assert real.is_symlink()
    assert set(tags_in(out).values()) == {"one"}


def test_an_output_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("not a folder")
    with pytest.raises(PipelineError, match="is a file, not a folder"):
        resolve_output_dir(tmp_path / "out")


def test_readers_never_see_a_mix_of_two_runs(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A reader that resolves the folder once always reads one complete set; a reader of a
    single documented path always reads a complete file."""
    out = tmp_path / "out"
    publish_tagged(con, out, "run0")
    stop = threading.Event()
    problems: list[str] = []
    reads = 0

    def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            try:
                folder = Path(os.path.realpath(out))
                tags = set(tags_in(folder).values())
                single = (out / "eligible_audience.csv").read_text().splitlines()
            except FileNotFoundError as error:
                # documented: a generation two switches old is deleted; anything else is wrong
                if not folder.exists():
                    continue
                problems.append(f"missing: {error}")
                continue
            if len(tags) != 1:
                problems.append(f"mixed set: {tags}")
            if len(single) != 4:
                problems.append(f"partial file: {single}")
            reads += 1

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for number in range(1, 25):
            publish_tagged(con, out, f"run{number}")
    finally:
        stop.set()
        thread.join()
    assert problems == []
    assert reads > 0


def test_delta_files_are_published_sorted_by_customer_id(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    publish_tagged(con, out, "one")
    for name in DELTA_NAMES:
        lines = (out / name).read_text(encoding="utf-8").splitlines()
        assert lines == ["customer_id,tag", "0,one", "1,one", "2,one"], name


def test_diagnostics_go_beside_the_output_folder_and_only_the_last_are_kept(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    publish_tagged(con, out, "published")
    before = snapshot(out)
    set_marts(con, "stopped")
    folders = [
        write_diagnostics(
            con,
            out,
            as_of=f"2026-11-{day:02d}",
            input_files=INPUT_FILES,
            built_models={"eligible_audience", "rejected_customers", "audience_left"},
            why="the drift guard stopped the run",
            report={"tag": "stopped"},
            extra_files={"run_report.html": "<p>stopped</p>"},
        )
        for day in range(1, DIAGNOSTICS_KEPT + 3)
    ]
    assert snapshot(out) == before  # nothing reached the output folder
    root = diagnostics_dir(out)
    assert root == tmp_path / ".out.diagnostics"
    assert all(folder.parent == root for folder in folders)
    kept = sorted(path.name for path in root.iterdir())
    assert kept == sorted(folder.name for folder in folders[-DIAGNOSTICS_KEPT:])
    last = folders[-1]
    assert last.name.endswith(f"-as-of-2026-11-{DIAGNOSTICS_KEPT + 2:02d}")
    # only the models this run built: the others may hold an earlier build
    assert sorted(path.name for path in last.iterdir()) == [
        "audience_left.csv",
        "eligible_audience.csv",
        "reconciliation.json",
        "rejected_customers.csv",
        "run_report.html",
        "stopped.txt",
    ]
    assert (last / "stopped.txt").read_text() == "the drift guard stopped the run\n"
    assert set(tags_in_files(last, ["eligible_audience.csv", "audience_left.csv"])) == {"stopped"}


def tags_in_files(folder: Path, names: list[str]) -> list[str]:
    return [
        line.rsplit(",", 1)[1]
        for name in names
        for line in (folder / name).read_text(encoding="utf-8").splitlines()[1:]
    ]
