"""An S3 endpoint on this machine (moto's server) standing in for a bucket's store.

Shared by the tests that read a landing folder in S3: the checks before a build, through s3fs
(tests/test_landing_on_s3.py), and Spark reading ``s3a://`` itself
(tests/test_spark_landing.py). Clients find the endpoint the way they find a real one: from
the environment (``point_clients_at``), never from this machine's AWS configuration.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import s3fs
from moto.server import ThreadedMotoServer

ACCESS_KEY = "audience-test"
SECRET_KEY = "audience-test"
#: Variables that would send the requests elsewhere or sign them with this machine's identity.
FOREIGN_VARIABLES = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL_S3",  # would win over AWS_ENDPOINT_URL
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",  # would send the requests to AWS
)


@contextmanager
def running_endpoint() -> Iterator[str]:
    """Start moto's server on a free port; yields its URL (``http://127.0.0.1:PORT``)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def point_clients_at(patch: pytest.MonkeyPatch, endpoint: str, scratch: Path) -> None:
    """Make S3 clients (boto, s3fs; a child process inherits it) reach ``endpoint``."""
    no_config = str(scratch / "no-aws-config")  # never this machine's files
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": no_config,
        "AWS_SHARED_CREDENTIALS_FILE": no_config,
        "NO_PROXY": "127.0.0.1",
    }.items():
        patch.setenv(name, value)
    for name in FOREIGN_VARIABLES:
        patch.delenv(name, raising=False)
    s3fs.S3FileSystem.clear_instance_cache()  # clients made before see the old environment


def upload_folder(folder: Path, bucket: str, prefix: str = "landing") -> str:
    """The files of ``folder`` under ``prefix/`` in ``bucket``; their ``s3a://`` URL."""
    store = s3fs.S3FileSystem()
    for path in folder.iterdir():
        store.pipe(f"{bucket}/{prefix}/{path.name}", path.read_bytes())
    store.invalidate_cache()
    return f"s3a://{bucket}/{prefix}"
