"""docker-compose.yaml (there is no Docker daemon here to start it): every service has a health
check, and the servers listen where the examples and the test variables expect them."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


def test_the_database_and_storage_services_exist() -> None:
    assert {"postgres", "mssql", "db2", "minio"} <= set(COMPOSE["services"])


def test_every_service_has_a_health_check() -> None:
    for name, service in COMPOSE["services"].items():
        check = service.get("healthcheck")
        assert check and check.get("test"), f"service {name!r} has no health check"
        assert check.get("retries", 0) > 0, name


def test_examples_default_to_the_compose_servers() -> None:
    services = COMPOSE["services"]
    mssql = (ROOT / "examples" / "mssql" / "run_pipeline.py").read_text()
    password = services["mssql"]["environment"]["MSSQL_SA_PASSWORD"]
    assert f"sa:{password}@127.0.0.1:1433" in mssql and "1433:1433" in services["mssql"]["ports"]
    db2 = (ROOT / "examples" / "db2" / "run_pipeline.py").read_text()
    env = services["db2"]["environment"]
    assert f"db2inst1:{env['DB2INST1_PASSWORD']}@127.0.0.1:50000/{env['DBNAME']}" in db2
    assert "50000:50000" in services["db2"]["ports"]
