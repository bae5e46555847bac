"""pytest fixtures for S3 tests against moto's server (see tests/s3server.py).

Use from a test module or conftest with `pytest_plugins = ["tests.s3_fixtures"]`.

- `s3_server` (session): the running `MotoServer` (`.endpoint_url`, `.requests()`,
  `.authenticated()`); skips, or fails with `TABLEDAG_REQUIRE_SERVICES=1`, when it cannot start.
- `s3` (function): an `S3Bucket` with a new bucket, emptied and deleted afterwards; every
  `AWS_*` variable is removed for the test (`monkeypatch.setenv(k, v)` over `s3.env` to test
  the environment path).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import s3server
from .s3server import MotoServer, S3Bucket


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoServer]:
    server = s3server.require_server()
    yield server
    s3server.stop_server()


@pytest.fixture
def s3(s3_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Bucket]:
    s3server.scrub_aws_env(monkeypatch)
    bucket = s3server.create_bucket(s3_server)
    yield bucket
    bucket.cleanup()
