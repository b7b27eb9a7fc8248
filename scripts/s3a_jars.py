"""The jars Spark needs to read s3a:// URLs (hadoop-aws and the AWS SDK it calls).

For the engine test that runs Spark on a folder in an S3 endpoint on this machine
(tests/test_spark_landing.py). pyspark ships without them and Maven is not reachable from here;
the one copy PyPI serves is inside the sdist of sagemaker_pyspark 1.4.5 (hadoop-aws 3.3.1,
aws-java-sdk-bundle 1.11.901). The archive is fetched by its URL and checked by its SHA-256
(nothing of it is installed or run), the two jars are taken out, checked by their own SHA-256
and kept in a cache folder, whose path is printed:

    export AUDIENCE_S3A_JARS="$(python scripts/s3a_jars.py)"

AUDIENCE_S3A_JARS_CACHE names another cache folder. A cluster needs none of this: it reads
s3a:// with the hadoop-aws of its own Hadoop (docs/beyond-one-machine.md).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

ARCHIVE_URL = (
    "https://files.pythonhosted.org/packages/df/37/"
    "88e683fd29270ca890b1b889466325be5461abb93d5ea055bc3a505d40a8/sagemaker_pyspark-1.4.5.tar.gz"
)
ARCHIVE_SHA256 = "05ca2d5081d7138ce29a8fb0a9cba077f28c825288ed07aed46a82e63c0bf1fb"
JARS_IN_ARCHIVE = "sagemaker_pyspark-1.4.5/deps/jars"
JAR_SHA256S = {
    "hadoop-aws-3.3.1.jar": "6be50ad8a8b445d2802381b085b2a3ede5c29d353450a6a21f16b2fefa962b6e",
    "aws-java-sdk-bundle-1.11.901.jar": (
        "b87175b32a16544cc1b37cf40390eb375833e62bed67f8ce6cde4b7ad6429ead"
    ),
}


class FetchError(Exception):
    """The archive or a jar is not what was pinned."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _complete(jars_dir: Path) -> bool:
    return all(
        (jars_dir / jar).is_file() and _sha256(jars_dir / jar) == expected
        for jar, expected in JAR_SHA256S.items()
    )


def _download(url: str, path: Path, attempts: int = 3) -> None:
    """``url`` into ``path``; a broken connection is tried again, twice, after 5 and 10 s."""
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(url, timeout=120) as response, path.open("wb") as handle:
                shutil.copyfileobj(response, handle, 1 << 20)
            return
        except OSError as error:
            if attempt == attempts:
                raise
            print(f"s3a_jars: {error}; trying again", file=sys.stderr)
            time.sleep(5 * attempt)


def _fetch(jars_dir: Path) -> None:
    message = "fetching hadoop-aws 3.3.1 and aws-java-sdk-bundle 1.11.901 (181 MB)"
    print(f"s3a_jars: {message}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "archive.tar.gz"
        _download(ARCHIVE_URL, archive)
        if _sha256(archive) != ARCHIVE_SHA256:
            raise FetchError(f"{ARCHIVE_URL} does not have the expected SHA-256")
        with tarfile.open(archive) as bundle:
            for jar, expected in JAR_SHA256S.items():
                member = bundle.extractfile(f"{JARS_IN_ARCHIVE}/{jar}")
                if member is None:
                    raise FetchError(f"{jar} is not in the archive")
                part = jars_dir / f"{jar}.part"
                with part.open("wb") as handle:
                    shutil.copyfileobj(member, handle, 1 << 20)
                if _sha256(part) != expected:
                    raise FetchError(f"{jar} does not have the expected SHA-256")
                part.replace(jars_dir / jar)


def main() -> None:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    jars_dir = Path(
        os.environ.get("AUDIENCE_S3A_JARS_CACHE") or Path(cache, "audience", "s3a-jars")
    )
    try:
        jars_dir.mkdir(parents=True, exist_ok=True)
        if not _complete(jars_dir):
            _fetch(jars_dir)
    except (FetchError, OSError) as error:  # OSError: the network or the disk
        print(f"s3a_jars: {error}", file=sys.stderr)
        sys.exit(2)
    print(jars_dir)


if __name__ == "__main__":
    main()
