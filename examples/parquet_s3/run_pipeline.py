"""The parquet pipeline of examples/parquet_local on S3-compatible storage.

With Docker (MinIO from the top-level docker-compose.yaml):

    docker compose up -d minio minio-bucket
    python examples/parquet_s3/run_pipeline.py

Without Docker, against moto's S3 server (`pip install 'moto[server]'`):

    moto_server -p 9000 &
    python -c "import boto3; boto3.client('s3', endpoint_url='http://127.0.0.1:9000',
        aws_access_key_id='x', aws_secret_access_key='x', region_name='us-east-1'
        ).create_bucket(Bucket='tabledag')"
    EXAMPLE_S3_ENDPOINT=http://127.0.0.1:9000 python examples/parquet_s3/run_pipeline.py

Needs `pip install 'tabledag[s3]'`. No DuckDB extension is downloaded: DuckDB reads and writes
through the same fsspec filesystem as pyarrow.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "parquet_local"))  # the same pipeline
from run_pipeline import run

from tabledag import Config


def main() -> None:
    os.environ.setdefault("EXAMPLE_BUCKET", "tabledag")
    os.environ.setdefault("EXAMPLE_S3_ENDPOINT", "http://127.0.0.1:9000")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "tabledag")  # MinIO's, from docker-compose.yaml
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "tabledag-secret")
    run(Config.load(Path(__file__).parent).get())


if __name__ == "__main__":
    main()
