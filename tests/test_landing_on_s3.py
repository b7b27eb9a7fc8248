"""A landing folder in S3, named ``s3a://bucket/folder`` as Spark names it, checked before the
build through s3fs (landing_folder.py): an S3 endpoint on this machine (moto's server) stands in
for the store. Every refusal must read as it does for the same file on disk, with the URL in
place of the path. (Spark reading the same URLs: tests/test_spark_landing.py.)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import s3fs
from conftest import write_landing_folder
from landing_damages import DAMAGES, assert_described_alike, assert_refused_alike
from s3_endpoint import point_clients_at, running_endpoint, upload_folder

from audience_pipeline.errors import UsageError
from audience_pipeline.landing_folder import RemoteFile, RemoteFolder
from audience_pipeline.options import existing_dir


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with running_endpoint() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new bucket on the endpoint; s3fs finds it the way it finds a real one (environment)."""
    point_clients_at(monkeypatch, s3_endpoint, tmp_path)
    name = f"exports-{uuid.uuid4().hex[:12]}"
    s3fs.S3FileSystem().mkdir(name)
    yield name
    s3fs.S3FileSystem.clear_instance_cache()


def _uploaded(folder: Path, bucket: str) -> RemoteFolder:
    """The files of ``folder`` under ``landing/`` in ``bucket``, as Spark would be given them."""
    return RemoteFolder(upload_folder(folder, bucket))


@pytest.mark.parametrize(("input_file", "damage"), DAMAGES)
def test_a_file_in_s3_is_refused_with_the_message_a_local_one_gets(
    tmp_path: Path, bucket: str, input_file: str, damage: Callable[[Path], None]
) -> None:
    local = tmp_path / "landing"
    write_landing_folder(local)
    damage(local / f"{input_file}.csv")
    refused = assert_refused_alike(local, _uploaded(local, bucket))
    assert f"{input_file}.csv" in refused


def test_a_folder_in_s3_is_described_as_on_disk_with_its_urls(tmp_path: Path, bucket: str) -> None:
    local = tmp_path / "landing"
    write_landing_folder(local)
    path = local / "customers.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # CRLF lines count once
    remote = _uploaded(local, bucket)
    assert str(remote) == f"s3a://{bucket}/landing"
    assert_described_alike(local, remote)


def test_a_folder_missing_from_the_bucket_is_named(bucket: str) -> None:
    missing = RemoteFolder(f"s3a://{bucket}/no-such-folder")
    with pytest.raises(UsageError) as refused:
        existing_dir(missing, "--input-dir", remote_allowed=True)
    assert str(refused.value) == (
        f"argument --input-dir: s3a://{bucket}/no-such-folder does not exist"
    )


def test_a_file_in_s3_is_a_file_and_the_folder_a_folder(tmp_path: Path, bucket: str) -> None:
    local = tmp_path / "landing"
    write_landing_folder(local)
    remote = _uploaded(local, bucket)
    existing_dir(remote, "--input-dir", remote_allowed=True)  # no refusal
    customers = remote / "customers.csv"
    assert customers.is_file() and not RemoteFile(f"s3a://{bucket}/landing").is_file()
    assert customers.stat().st_size == (local / "customers.csv").stat().st_size
    with pytest.raises(UsageError, match="is not a folder"):
        existing_dir(RemoteFolder(str(customers)), "--input-dir", remote_allowed=True)
