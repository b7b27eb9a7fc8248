"""Where a landing folder lives: a folder on this machine, or storage only an engine reaches.

``--input-dir`` is a local path, or, with ``--target spark``, a URL the engine reads
(``s3a://bucket/landing/2026-11-26``, ``abfss://container@account.dfs.core.windows.net/...``,
``dbfs:/mnt/landing/...``, ``file:///srv/landing``). Spark reads the URL as it is given; the
checks made before the build (``file_checks``: header, delimiter, NUL bytes, checksum, line
count) read the same files through fsspec, so a remote file is refused with the same messages
as a local one. fsspec reaches each store through its own package (``s3fs`` for ``s3a://``,
``adlfs`` for ``abfss://``, ``requests`` for ``dbfs:/``), installed beside the spark extra
where the store is used, with the store's usual credentials in the environment.

A ``RemoteFolder`` and its ``RemoteFile`` answer the few questions the checks ask of a
``pathlib.Path`` (``/``, ``resolve``, ``is_dir``, ``is_file``, ``stat().st_size``, ``open``),
so the checks are written once.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from audience_pipeline.errors import PipelineError

#: A path with a URL scheme (s3a://, abfss://, dbfs:/, file://).
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):/")
#: Hadoop's names for stores that fsspec knows by another.
_FSSPEC_PROTOCOL = {"abfss": "abfs", "s3n": "s3"}


def is_remote(text: str) -> bool:
    """Whether ``text`` is a URL (a scheme and ``:/``) rather than a path on this machine."""
    match = _URL.match(text)
    # "C:/landing" is a Windows drive, not a scheme
    return match is not None and len(match["scheme"]) > 1


@dataclass(frozen=True)
class RemoteFile:
    """A file in a remote landing folder, read through fsspec."""

    url: str

    def __str__(self) -> str:
        return self.url

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    def resolve(self) -> RemoteFile:
        return self

    def is_file(self) -> bool:
        filesystem, path = _filesystem(self.url)
        with _store_errors(self.url):
            return bool(filesystem.isfile(path))

    def stat(self) -> os.stat_result:
        filesystem, path = _filesystem(self.url)
        with _store_errors(self.url):
            size = int(filesystem.size(path))
        return os.stat_result((0, 0, 0, 0, 0, 0, size, 0, 0, 0))

    def open(self, mode: str = "rb") -> IO[bytes]:
        if mode != "rb":
            raise ValueError("a remote landing file is only read, as bytes")
        filesystem, path = _filesystem(self.url)
        with _store_errors(self.url):
            handle: IO[bytes] = filesystem.open(path, "rb")
        return handle


@dataclass(frozen=True)
class RemoteFolder:
    """A landing folder in storage an engine reads (Spark), addressed by URL."""

    url: str

    def __str__(self) -> str:
        return self.url

    def __truediv__(self, name: str) -> RemoteFile:
        return RemoteFile(f"{self.url.rstrip('/')}/{name}")

    def resolve(self) -> RemoteFolder:
        return self

    def is_dir(self) -> bool:
        filesystem, path = _filesystem(self.url)
        with _store_errors(self.url):
            return bool(filesystem.isdir(path))

    def exists(self) -> bool:
        filesystem, path = _filesystem(self.url)
        with _store_errors(self.url):
            return bool(filesystem.exists(path))


class UnknownStore(PipelineError):
    """A URL whose scheme no installed fsspec store reads (``bogus://``)."""


def landing_folder(text: str) -> Path | RemoteFolder:
    """``--input-dir`` as given: a ``RemoteFolder`` for a URL, a ``Path`` otherwise.

    An empty path (Python reads it as the current folder) is refused.
    """
    if not text:
        raise argparse.ArgumentTypeError("empty path")
    return RemoteFolder(text) if is_remote(text) else Path(text)


@contextmanager
def _store_errors(url: str) -> Iterator[None]:
    """What the store answers instead of the file (no credentials, access denied, no network),
    in one line naming the URL."""
    try:
        yield
    except (FileNotFoundError, PipelineError):
        raise
    except Exception as error:  # each store's package raises its own errors
        reason = str(error).splitlines()[0] if str(error) else ""
        raise PipelineError(
            f"{url}: the store refused to be read: {type(error).__name__}: {reason}"
        ) from None


def _filesystem(url: str) -> tuple[Any, str]:
    """fsspec's filesystem for ``url`` and the path within it; a missing package is named."""
    try:
        import fsspec.core
    except ImportError:
        raise PipelineError(
            f"{url}: reading a remote landing folder needs fsspec (the spark extra: "
            "AUDIENCE_EXTRAS=spark bash scripts/setup.sh)"
        ) from None
    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    protocol = _FSSPEC_PROTOCOL.get(scheme, scheme)
    # "dbfs:/mnt/x" (one slash, as Databricks writes it) is "dbfs:///mnt/x" to fsspec
    location = f"{protocol}:{rest if rest.startswith('//') else '//' + rest}"
    options: dict[str, str] = {}
    if protocol == "dbfs":  # fsspec's Databricks store takes the workspace and a token
        options = {
            "instance": os.environ.get("DATABRICKS_HOST", "").removeprefix("https://"),
            "token": os.environ.get("DATABRICKS_TOKEN", ""),
        }
    with _store_errors(url):  # a store that connects when opened (ftp://, sftp://)
        try:
            filesystem, path = fsspec.core.url_to_fs(location, **options)
        except (ImportError, ValueError) as error:
            raise UnknownStore(f"{url}: {scheme}:// paths cannot be read here: {error}") from None
    if "file" in _protocols(filesystem) and scheme != "file":  # never a local path by accident
        raise UnknownStore(f"{url}: {scheme}:// is not a store fsspec knows")
    return filesystem, path


def _protocols(filesystem: Any) -> tuple[str, ...]:
    protocol = filesystem.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)
