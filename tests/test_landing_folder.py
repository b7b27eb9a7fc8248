"""--input-dir as a local folder or a URL; a URL's files read through fsspec (landing_folder.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import fsspec
import pytest

from audience_pipeline.errors import PipelineError
from audience_pipeline.landing_folder import RemoteFolder, is_remote, landing_folder


@pytest.mark.parametrize(
    ("text", "remote"),
    [
        ("s3a://exports/landing", True),
        ("abfss://c@account.dfs.core.windows.net/landing", True),
        ("dbfs:/mnt/landing", True),
        ("file:///srv/landing", True),
        ("landing/2026-11-26", False),
        ("/data/landing", False),
        ("C:/landing", False),  # a drive letter is not a scheme
        ("a:b/landing", False),
    ],
)
def test_a_url_is_remote_and_a_path_is_not(text: str, remote: bool) -> None:
    assert is_remote(text) is remote
    assert isinstance(landing_folder(text), RemoteFolder if remote else Path)


def test_a_remote_folder_answers_what_the_checks_ask() -> None:
    root = f"/landing-{uuid.uuid4().hex}"
    fsspec.filesystem("memory").pipe(f"{root}/customers.csv", b"customer_id\n1\n")
    folder = RemoteFolder(f"memory:/{root}/")
    file = folder / "customers.csv"
    assert str(file) == f"memory:/{root}/customers.csv"
    assert file.name == "customers.csv" and file.resolve() == file
    assert folder.is_dir() and folder.exists() and file.is_file()
    assert not (folder / "bookings.csv").is_file()
    assert file.stat().st_size == 14
    with file.open() as handle:
        assert handle.read() == b"customer_id\n1\n"
    with pytest.raises(ValueError, match="only read"):
        file.open("wb")


def test_a_store_fsspec_does_not_know_stops_the_run_naming_it() -> None:
    with pytest.raises(PipelineError, match="foo://") as refused:
        RemoteFolder("foo://bucket/landing").is_dir()
    assert "foo://bucket/landing" in str(refused.value)


def test_a_single_slash_url_is_never_read_as_a_local_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "abc:/x" would be a relative local path to a naive reader: it must go to the store
    name = f"landing-{uuid.uuid4().hex}"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "memory:" / name).mkdir(parents=True)  # what a local reading would find
    assert not RemoteFolder(f"memory:/{name}").exists()
    fsspec.filesystem("memory").pipe(f"/{name}/customers.csv", b"customer_id\n")
    assert RemoteFolder(f"memory:/{name}").is_dir()
