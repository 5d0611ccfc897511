"""finsig/node-exporter, finsig/postgres-exporter and finsig/alertmanager serve what they should."""

from __future__ import annotations

import json
import re

import pytest
from testcontainers.community.postgres import PostgresContainer

from tests.support.containers import expose
from tests.support.images import network, on_network, running, service, unique, wait_http
from tests.support.containers import LABELS, image_tag

pytestmark = pytest.mark.docker


@pytest.mark.timeout(60)
def test_node_exporter_serves_cpu_and_memory() -> None:
    with network() as net, running(service(image_tag("node-exporter"), 9100, net)) as node:
        metrics = wait_http(node, 9100, "/metrics", timeout=30)
        assert re.search(r"^node_cpu_seconds_total\{", metrics, re.M), "no CPU series"
        assert re.search(r"^node_memory_MemTotal_bytes \d", metrics, re.M), "no memory series"


@pytest.mark.timeout(120)
def test_postgres_exporter_sees_real_postgres() -> None:
    alias = unique("postgres")  # its name on the network, unique (the runner's network is shared)
    with network() as net:
        pg = PostgresContainer(image_tag("postgres"), username="exporter",
                               password="exp-Pw1", dbname="signals", driver=None,
                               labels=dict(LABELS), **on_network(net, alias))
        expose(pg, 5432)
        exporter = service(image_tag("postgres-exporter"), 9187, net).with_env(
            "DATA_SOURCE_NAME",
            f"postgresql://exporter:exp-Pw1@{alias}:5432/signals?sslmode=disable")
        with running(pg), running(exporter):
            wait_http(exporter, 9187, "/metrics", timeout=40,
                      accept=lambda body: re.search(r"^pg_up 1$", body, re.M) is not None)


@pytest.mark.timeout(120)
def test_postgres_exporter_reports_down_without_server() -> None:
    """The check above can fail: with no server behind the name, pg_up is 0.

    A scrape waits for the failed lookup of the name (slow on an internal network), so each
    request gets more time here.
    """
    with network() as net:
        exporter = service(image_tag("postgres-exporter"), 9187, net).with_env(
            "DATA_SOURCE_NAME", f"postgresql://x:y@{unique('postgres')}:5432/none?sslmode=disable")
        with running(exporter):
            wait_http(exporter, 9187, "/metrics", timeout=90, request_timeout=30,
                      accept=lambda body: re.search(r"^pg_up 0$", body, re.M) is not None)


@pytest.mark.timeout(60)
def test_alertmanager_ready() -> None:
    with network() as net, running(service(image_tag("alertmanager"), 9093, net)) as am:
        wait_http(am, 9093, "/-/ready", timeout=30)
        status = json.loads(wait_http(am, 9093, "/api/v2/status"))
        assert status["cluster"]["status"] == "disabled"  # no gossip: a single instance
        assert 'receiver: "null"' in status["config"]["original"]  # the image's default config
