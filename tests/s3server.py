"""An S3 server for the tests: moto's server on 127.0.0.1 with a free port, a bucket per test.

Everything goes over real HTTP through the real clients (s3fs/botocore, pyarrow, polars'
object_store, DuckDB through a registered s3fs): nothing is patched, moto's `mock_aws` is never
started. One server per test session (per pytest-xdist worker: each worker is its own process),
started lazily by the first test that asks for it and stopped at the end of the session.

- `require_server()`: the running server, or `pytest.skip` with the reason it cannot start
  (`pytest.fail` with `TABLEDAG_REQUIRE_SERVICES=1`, as `.ci/run` sets).
- `create_bucket(server)`: an `S3Bucket` with a new, uniquely named bucket; `bucket.cleanup()`
  empties and deletes it.
- `scrub_aws_env(monkeypatch)`: removes every `AWS_*` variable, so nothing from the machine
  (credentials, profile, endpoint, region) reaches a client, and points the credential and
  metadata look-ups at nothing; `bucket.env` gives the variables that point at moto.

`tests/s3_fixtures.py` wraps these as the `s3_server` and `s3` fixtures.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
import urllib.request
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    import s3fs

REQUIRE_ENV = "TABLEDAG_REQUIRE_SERVICES"
"""Same switch as tests/conftest.py: `1` turns an unavailable service into a failure."""

ACCESS_KEY_ID = "tabledag-test-access-key"
SECRET_ACCESS_KEY = "tabledag-test-secret-DO-NOT-LOG-8c41f"
"""Dummy credentials; distinctive, so a test can assert they never appear in output."""
REGION = "eu-central-1"
"""Not us-east-1 on purpose: a client that drops the region is caught (and us-east-1 refuses
a LocationConstraint on bucket creation)."""
URL_STYLE = "path"
"""moto on an IP address only works path-style (`http://127.0.0.1:PORT/bucket/key`)."""

START_TIMEOUT = 30.0
_DEAD_ENDPOINT = "http://127.0.0.1:9"
"""Where the credential look-ups of last resort (EC2/ECS metadata) are pointed: loopback,
refused at once, never the metadata address."""


class S3ServerUnavailable(RuntimeError):
    """The moto server cannot be started here."""


class _RequestLog(logging.Handler):
    """Keeps the request lines werkzeug logs (`"PUT /bucket/key HTTP/1.1" 200 -`)."""

    _ansi = re.compile(r"\x1b\[[0-9;]*m")

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: deque[str] = deque(maxlen=20000)

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.lines.append(self._ansi.sub("", record.getMessage()))


@dataclass
class MotoServer:
    """A running moto server: its endpoint and the request lines it has served."""

    endpoint_url: str
    host: str
    port: int
    _server: Any = field(repr=False)
    _log: _RequestLog = field(repr=False)

    def requests(self, since: int = 0) -> list[str]:
        """Request lines served (`'PUT /bucket/key HTTP/1.1" 200'`), from index `since`."""
        return list(self._log.lines)[since:]

    def mark(self) -> int:
        """An index for `requests(since=...)`."""
        return len(self._log.lines)

    def set_auth(self, enabled: bool) -> None:
        """Make moto check signatures against its IAM users (off by default: any key works)."""
        self._post("/moto-api/reset-auth", b"0" if enabled else b"inf")

    @contextlib.contextmanager
    def authenticated(self) -> Iterator[None]:
        self.set_auth(True)
        try:
            yield
        finally:
            self.set_auth(False)

    def _post(self, path: str, data: bytes) -> bytes:
        headers = {"Content-Type": "text/plain"}
        request = urllib.request.Request(self.endpoint_url + path, data, headers, method="POST")
        with _direct_opener().open(request, timeout=10) as response:
            return response.read()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._server.stop()
        logging.getLogger("werkzeug").removeHandler(self._log)


def _direct_opener() -> urllib.request.OpenerDirector:
    """urllib without any proxy from the environment: the server is on loopback."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def start_moto_server(
    ip_address: str = "127.0.0.1", port: int = 0, timeout: float = START_TIMEOUT
) -> MotoServer:
    """Start `moto.server.ThreadedMotoServer` in this process (port 0 = a free port).

    Raises `S3ServerUnavailable` with the reason instead of hanging: moto's `start()` waits
    forever when its server thread dies before binding (e.g. werkzeug's `sys.exit(1)` on a port
    in use), so the start runs with a timeout and the thread's error is kept.
    """
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as error:
        raise S3ServerUnavailable(
            f"moto's server cannot be imported ({type(error).__name__}: {error}); install the "
            "test extra: pip install -e '.[test]' (it has moto[server])"
        ) from error

    class _Server(ThreadedMotoServer):
        startup_error: BaseException | None = None

        def _server_entry(self) -> None:
            try:
                super()._server_entry()
            except BaseException as error:  # SystemExit from werkzeug included
                self.startup_error = error
                self._server_ready_event.set()

    log = _RequestLog()
    werkzeug_logger = logging.getLogger("werkzeug")
    werkzeug_logger.addHandler(log)  # with a handler there, werkzeug adds no stderr handler
    werkzeug_logger.setLevel(logging.INFO)
    werkzeug_logger.propagate = False  # not to the root logger's handlers (pytest still
    # captures them per test and shows them with a failure: the requests that test made)

    server = _Server(ip_address=ip_address, port=port, verbose=False)
    starter = threading.Thread(target=server.start, name="moto-start", daemon=True)
    starter.start()
    starter.join(timeout)
    problem: str | None = None
    if starter.is_alive():
        problem = f"moto's server on {ip_address}:{port} did not start within {timeout:.0f} s"
    elif server.startup_error is not None:
        error = server.startup_error
        problem = (
            f"moto's server could not listen on {ip_address}:{port} "
            f"({type(error).__name__}: {str(error).strip()[:200]})"
        )
    if problem is None:
        host, bound_port = server.get_host_and_port()
        endpoint = f"http://{host}:{bound_port}"
        try:
            with _direct_opener().open(endpoint + "/moto-api/data.json", timeout=10) as reply:
                json.loads(reply.read())
        except Exception as error:
            problem = (
                f"moto's server at {endpoint} does not answer "
                f"({type(error).__name__}: {str(error).strip()[:200]})"
            )
        else:
            return MotoServer(endpoint, host, bound_port, server, log)
        with contextlib.suppress(Exception):
            server.stop()  # it listens but does not answer: shut it down
    # (a thread that never got going is a daemon and is left alone: joining it could hang)
    werkzeug_logger.removeHandler(log)
    raise S3ServerUnavailable(problem)


_lock = threading.Lock()
_server: MotoServer | None = None
_problem: str | None = None


def get_server() -> MotoServer:
    """The session's server, started on first use (raises `S3ServerUnavailable`, cached)."""
    global _server, _problem
    with _lock:
        if _server is None and _problem is None:
            try:
                _server = start_moto_server()
            except S3ServerUnavailable as error:
                _problem = str(error)
        if _server is None:
            raise S3ServerUnavailable(_problem)
        return _server


def stop_server() -> None:
    """Stop the session's server if it was started (the `s3_server` fixture's teardown)."""
    global _server, _problem
    with _lock:
        if _server is not None:
            _server.stop()
        _server, _problem = None, None


def unavailable(problem: str) -> NoReturn:
    """Skip the test, or fail it when `TABLEDAG_REQUIRE_SERVICES=1` (CI must run S3 tests)."""
    if os.environ.get(REQUIRE_ENV) == "1":
        message = f"S3 tests need moto's server: {problem} ({REQUIRE_ENV}=1 requires it)"
        pytest.fail(message, pytrace=False)
    pytest.skip(f"S3 tests need moto's server: {problem}")


def require_server() -> MotoServer:
    """The session's server, or skip/fail the calling test with the reason."""
    try:
        return get_server()
    except S3ServerUnavailable as error:
        problem = str(error)
    unavailable(problem)  # outside the except: no chained traceback in the report


SCRUBBED_ENV_SET = (
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_METADATA_ENDPOINT",
)
"""The `AWS_*` variables `scrub_aws_env` sets (all others are removed)."""


def scrub_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every `AWS_*` variable for the test and make the credential chain end nowhere.

    With explicit arguments botocore uses them before the environment, but an `AWS_PROFILE`
    naming a missing profile breaks even explicit clients (ProfileNotFound), `AWS_ENDPOINT_URL`
    redirects clients built without an endpoint, and a client with no credentials at all would
    ask the EC2/ECS metadata service: hence the file and metadata variables set here.
    """
    for name in list(os.environ):
        if name.upper().startswith("AWS_"):
            monkeypatch.delenv(name)
    missing = os.path.join(os.sep, "nonexistent", f"tabledag-aws-{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("AWS_CONFIG_FILE", missing + "-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", missing + "-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # botocore, AWS SDK (pyarrow)
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", _DEAD_ENDPOINT)  # botocore
    monkeypatch.setenv("AWS_METADATA_ENDPOINT", _DEAD_ENDPOINT)  # object_store (polars)
    assert {n for n in os.environ if n.upper().startswith("AWS_")} == set(SCRUBBED_ENV_SET)
    for name in ("NO_PROXY", "no_proxy"):
        current = os.environ.get(name, "")
        monkeypatch.setenv(name, ",".join(filter(None, [current, "127.0.0.1", "localhost"])))


def s3fs_options(
    endpoint_url: str,
    key: str = ACCESS_KEY_ID,
    secret: str = SECRET_ACCESS_KEY,
    region: str = REGION,
    url_style: str = URL_STYLE,
) -> dict[str, Any]:
    """`s3fs.S3FileSystem` arguments that leave nothing to the environment: explicit
    credentials and endpoint win over `AWS_*` variables, and so does the region."""
    return {
        "key": key,
        "secret": secret,
        "endpoint_url": endpoint_url,
        "client_kwargs": {"region_name": region},
        "config_kwargs": {"s3": {"addressing_style": url_style}},
    }


@dataclass
class S3Bucket:
    """One test's bucket on the moto server, and how each tool reaches it."""

    server: MotoServer
    name: str
    fs: s3fs.S3FileSystem = field(repr=False)
    endpoint_url: str
    access_key_id: str = ACCESS_KEY_ID
    secret_access_key: str = field(default=SECRET_ACCESS_KEY, repr=False)
    region: str = REGION
    url_style: str = URL_STYLE

    def path(self, *parts: str) -> str:
        """`bucket/part/part`: the form fsspec and pyarrow take (no protocol)."""
        return "/".join([self.name, *(p.strip("/") for p in parts)])

    def url(self, *parts: str) -> str:
        """`s3://bucket/part/part`: the form DuckDB and polars take."""
        return "s3://" + self.path(*parts)

    @property
    def storage_options(self) -> dict[str, Any]:
        """Keyword arguments for `s3fs.S3FileSystem` / `fsspec.filesystem("s3", ...)`."""
        return s3fs_options(
            self.endpoint_url,
            self.access_key_id,
            self.secret_access_key,
            self.region,
            self.url_style,
        )

    @property
    def polars_storage_options(self) -> dict[str, str]:
        """`storage_options` for polars' `read_parquet`/`scan_parquet`/`write_parquet`."""
        return {
            "aws_endpoint_url": self.endpoint_url,
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "aws_region": self.region,
            "aws_allow_http": "true",
            "aws_virtual_hosted_style_request": "false",
        }

    @property
    def env(self) -> dict[str, str]:
        """The usual environment variables pointing at this server (for env-only tests)."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    @property
    def store_args(self) -> dict[str, str]:
        """The non-secret store arguments named in issue 15 (credentials: `env` or explicit)."""
        return {
            "s3_endpoint_url": self.endpoint_url,
            "s3_region": self.region,
            "s3_url_style": self.url_style,
        }

    def new_fs(self, **overrides: Any) -> s3fs.S3FileSystem:
        """A separate s3fs client with its own listings cache, as another process would have
        (`skip_instance_cache`: fsspec otherwise hands back the same instance for equal args)."""
        import s3fs

        return s3fs.S3FileSystem(
            **{**self.storage_options, "skip_instance_cache": True, **overrides}
        )

    def cleanup(self) -> None:
        """Delete every object and the bucket (best effort: the server is in memory anyway)."""
        with contextlib.suppress(Exception):
            fs = self.new_fs()
            keys = fs.find(self.name)
            if keys:
                fs.rm(keys)
            uploads = fs.call_s3("list_multipart_uploads", Bucket=self.name).get("Uploads", [])
            for upload in uploads:
                key, upload_id = upload["Key"], upload["UploadId"]
                fs.call_s3("abort_multipart_upload", Bucket=self.name, Key=key, UploadId=upload_id)
            fs.rmdir(self.name)


def create_bucket(server: MotoServer, prefix: str = "tabledag") -> S3Bucket:
    """A new bucket with a unique name, and an s3fs client with explicit credentials, endpoint,
    region and path-style addressing (nothing taken from the environment)."""
    import s3fs

    name = f"{prefix}-{uuid.uuid4().hex[:16]}"
    fs = s3fs.S3FileSystem(**s3fs_options(server.endpoint_url), skip_instance_cache=True)
    fs.mkdir(name)
    return S3Bucket(server, name, fs, server.endpoint_url)
