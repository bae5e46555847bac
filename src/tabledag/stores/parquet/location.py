"""Where a parquet store's files live: an fsspec filesystem and a root path on it.

`parquet_base_path` is a local directory (created as needed) or an fsspec URL such as
`s3://bucket/prefix` (the bucket must exist). S3 settings come from store arguments named as
pipedag names them (`s3_endpoint_url`, `s3_url_style`, `s3_region`) or from the usual AWS
environment variables; the same settings are handed to DuckDB (through the registered fsspec
filesystem, so no DuckDB extension is downloaded), pyarrow (the fsspec filesystem) and polars
(`storage_options`). Credentials stay inside the filesystem object and the options: never in a
path, a repr, a log line or a manifest.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ...errors import ConfigError, StoreConnectionError
from ...util import mask_url

S3_ARGS = ("s3_endpoint_url", "s3_url_style", "s3_region")

GLOB = frozenset("*?[]{}")
"""Characters DuckDB's read_parquet expands as globs, even in a list of paths."""


@dataclass(frozen=True)
class Location:
    """A root on a filesystem; `path()` joins below it, `url()` gives what DuckDB and polars
    read (with the protocol)."""

    protocol: str
    root: str
    options: dict[str, Any] = field(default_factory=dict, repr=False)
    """fsspec filesystem options (may hold credentials: never shown)."""

    @property
    def is_local(self) -> bool:
        return self.protocol in ("file", "local")

    def path(self, *parts: str) -> str:
        return posixpath.join(self.root, *parts)

    def url(self, *parts: str) -> str:
        path = self.path(*parts)
        return path if self.is_local else f"{self.protocol}://{path}"

    def filesystem(self) -> Any:
        import fsspec

        try:
            return fsspec.filesystem(self.protocol, **self.options)
        except (ImportError, ValueError) as error:
            extra = "s3" if self.protocol in ("s3", "s3a") else self.protocol
            raise StoreConnectionError(
                f"cannot use {self.protocol}:// for parquet files ({error}); install its "
                f"fsspec driver, e.g. pip install 'tabledag[{extra}]'"
            ) from error

    def polars_options(self) -> dict[str, Any]:
        """`storage_options` for polars' object store client, from the same settings."""
        if self.protocol not in ("s3", "s3a"):
            return {}
        client = self.options.get("client_kwargs", {})
        options = {
            "aws_access_key_id": self.options.get("key"),
            "aws_secret_access_key": self.options.get("secret"),
            "aws_endpoint_url": self.options.get("endpoint_url"),
            "aws_region": client.get("region_name"),
        }
        endpoint = options["aws_endpoint_url"] or ""
        if endpoint.startswith("http://"):
            options["aws_allow_http"] = "true"
        style = self.options.get("config_kwargs", {}).get("s3", {}).get("addressing_style")
        if style:
            options["aws_virtual_hosted_style_request"] = "true" if style == "virtual" else "false"
        return {k: v for k, v in options.items() if v}

    def __repr__(self) -> str:
        return f"Location({mask_url(self.url())!r})"


def location(base: str, instance_id: str, args: dict[str, Any]) -> Location:
    """The instance's root below `parquet_base_path` (`<base>/<instance_id>`)."""
    if not isinstance(base, str) or not base:
        raise ConfigError("parquet_base_path must be a directory or an fsspec URL (s3://...)")
    parts = urlsplit(base)
    if len(parts.scheme) > 1:  # not a Windows drive letter
        protocol = parts.scheme
        root = (parts.netloc + parts.path).rstrip("/")
        if not parts.netloc:
            raise ConfigError(f"parquet_base_path {mask_url(base)!r} names no bucket")
    else:
        protocol = "file"
        root = os.path.abspath(os.path.expanduser(base)).replace(os.sep, "/")
    if GLOB & set(root):
        raise ConfigError(
            f"parquet_base_path {mask_url(base)!r} contains one of {''.join(sorted(GLOB))}, "
            "which DuckDB reads as a glob pattern; choose a path without them"
        )
    options = s3_options(args) if protocol in ("s3", "s3a") else {}
    if protocol not in ("s3", "s3a") and any(args.get(a) for a in S3_ARGS):
        raise ConfigError(f"{', '.join(S3_ARGS)} apply to s3:// paths, not {protocol}://")
    return Location(protocol, posixpath.join(root, instance_id), options)


def s3_options(args: dict[str, Any]) -> dict[str, Any]:
    """s3fs options from store arguments, falling back to the AWS environment variables.

    The region is resolved here, once, and handed to every client: botocore reads only
    AWS_DEFAULT_REGION, polars prefers AWS_REGION; explicit values agree everywhere."""
    endpoint = (
        args.get("s3_endpoint_url")
        or os.environ.get("AWS_ENDPOINT_URL_S3")
        or os.environ.get("AWS_ENDPOINT_URL")
    )
    region = (
        args.get("s3_region")
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
    )
    style = args.get("s3_url_style")
    if style not in (None, "path", "vhost"):
        raise ConfigError(f"s3_url_style must be 'path' or 'vhost', got {style!r}")
    # No cached listings: another process, or another store object whose filesystem DuckDB did
    # not register (DuckDB keeps the first one registered per database), may write at any time,
    # and a stale listing makes files that exist "not found". The price: a HEAD per info().
    options: dict[str, Any] = {"use_listings_cache": False, "skip_instance_cache": True}
    key = args.get("s3_access_key_id") or os.environ.get("AWS_ACCESS_KEY_ID")
    secret = args.get("s3_secret_access_key") or os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        options.update(key=key, secret=secret)
    if endpoint:
        options["endpoint_url"] = endpoint
    if region:
        options["client_kwargs"] = {"region_name": region}
    if style:
        addressing = "path" if style == "path" else "virtual"
        options["config_kwargs"] = {"s3": {"addressing_style": addressing}}
    return options
