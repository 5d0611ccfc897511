"""finsig_runner.containers.compose: the subset of the Compose format the staging stage understands.

No Docker and no subprocess here: small inline YAML snippets, plus the real
docker-compose.staging.yml.
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from finsig import __version__
from finsig_runner.containers.compose import (
    ComposeError,
    ComposeProject,
    Condition,
    Healthcheck,
    Port,
    interpolate,
    load_compose,
    parse_compose,
    parse_duration,
)

ROOT = Path(__file__).resolve().parents[2]
STAGING = ROOT / "docker-compose.staging.yml"
SERVICES = {"app", "postgres", "postgres-exporter", "node-exporter", "prometheus", "alertmanager"}

pytestmark = pytest.mark.timeout(30)


def parse(text: str, base_dir: Path = ROOT, **env: str) -> ComposeProject:
    return parse_compose(textwrap.dedent(text), base_dir=base_dir, env=env)


def error(text: str, base_dir: Path = ROOT, **env: str) -> ComposeError:
    with pytest.raises(ComposeError) as info:
        parse(text, base_dir, **env)
    return info.value


# --- the real file -----------------------------------------------------------------------------


def test_staging_file_declares_the_stack() -> None:
    project = load_compose(STAGING)
    assert set(project.services) == SERVICES
    assert project.path == STAGING
    assert set(project.volumes) == {"pgdata"}
    for service in project.services.values():
        assert service.healthcheck is not None, service.name
        assert service.ports, service.name
        assert all(port.host_ip == "127.0.0.1" for port in service.ports)
        assert service.labels["finsig.stack"] == "staging"
        assert service.image == f"finsig/{service.name}:{__version__}"  # image_tag(name)


def test_staging_file_start_levels_let_independent_services_start_together() -> None:
    project = load_compose(STAGING)
    assert project.start_levels == (
        ("alertmanager", "node-exporter", "postgres"),
        ("app", "postgres-exporter", "prometheus"),
    )
    assert sorted(project.start_order) == sorted(SERVICES)
    app = project.services["app"]
    assert [(d.service, d.condition) for d in app.depends_on] == [("postgres", Condition.HEALTHY)]


def test_staging_file_app_image_follows_finsig_app_image() -> None:
    assert load_compose(STAGING).services["app"].image == "finsig/app:0.1.0"
    project = load_compose(STAGING, env={"FINSIG_APP_IMAGE": "finsig/app:run-1234"})
    assert project.services["app"].image == "finsig/app:run-1234"
    assert project.services["postgres"].image == "finsig/postgres:0.1.0"


def test_staging_file_mounts_the_monitoring_config_files() -> None:
    project = load_compose(STAGING)
    binds = {b.target: b for s in project.services.values() for b in s.binds}
    assert set(binds) == {
        "/etc/prometheus/prometheus.yml",
        "/etc/prometheus/alert_rules.yml",
        "/etc/prometheus/alertmanager.yml",
    }
    for bind in binds.values():
        assert bind.read_only
        assert bind.path.is_file()
        assert bind.path.parent == ROOT / "monitoring"
    assert project.services["postgres"].volumes[0].volume == "pgdata"


def test_staging_file_service_names_match_the_scrape_targets() -> None:
    text = (ROOT / "monitoring" / "prometheus.yml").read_text(encoding="utf-8")
    project = load_compose(STAGING)
    for host, port in (
        ("app", 8000), ("postgres-exporter", 9187), ("node-exporter", 9100),
        ("prometheus", 9090), ("alertmanager", 9093),
    ):
        assert f'"{host}:{port}"' in text
        assert port in [p.container_port for p in project.services[host].ports]


# --- parsing what is supported -------------------------------------------------------------------


def test_a_full_service() -> None:
    project = parse(
        """
        services:
          db:
            image: "pg:1"
            healthcheck:
              test: pg_isready -q
          web:
            image: web:2
            environment:
              A: "1"
              B: 2
              C: text
            command: serve --port 80 "two words"
            healthcheck:
              test: ["CMD", "check", "--fast"]
              interval: 1m30s
              timeout: 500ms
              retries: 4
              start_period: 10s
            depends_on:
              db:
                condition: service_healthy
            ports:
              - "127.0.0.1::80"
              - "127.0.0.1:8443:443/tcp"
            labels:
              - team=finsig
        """
    )
    web = project.services["web"]
    assert web.environment == {"A": "1", "B": "2", "C": "text"}
    assert web.command == ("serve", "--port", "80", "two words")
    assert web.healthcheck == Healthcheck(("CMD", "check", "--fast"), 90.0, 0.5, 4, 10.0)
    assert web.ports == (Port(80), Port(443, 8443))
    assert web.labels == {"team": "finsig"}
    db = project.services["db"]
    assert db.healthcheck == Healthcheck(("CMD-SHELL", "pg_isready -q"))  # Docker's defaults
    assert db.healthcheck.to_docker() == {
        "test": ["CMD-SHELL", "pg_isready -q"],
        "interval": 30_000_000_000,
        "timeout": 30_000_000_000,
        "retries": 3,
        "start_period": 0,
    }
    assert project.start_levels == (("db",), ("web",))


def test_parsed_objects_are_frozen() -> None:
    service = parse("services: {a: {image: 'a:1'}}").services["a"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        service.image = "b:1"  # type: ignore[misc]
    with pytest.raises(TypeError):
        service.environment["X"] = "1"  # type: ignore[index]


def test_list_depends_on_means_service_started() -> None:
    project = parse(
        """
        services:
          a: {image: "a:1", depends_on: [b]}
          b: {image: "b:1"}
        """
    )
    assert project.services["a"].depends_on[0].condition is Condition.STARTED


def test_start_levels_group_independent_services() -> None:
    project = parse(
        """
        services:
          top: {image: "t:1", depends_on: [left, right]}
          left: {image: "l:1", depends_on: [base]}
          right: {image: "r:1", depends_on: [base]}
          base: {image: "b:1"}
          loner: {image: "x:1"}
        """
    )
    assert project.start_levels == (("base", "loner"), ("left", "right"), ("top",))


def test_named_volume_and_read_only_bind(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "a.yml").write_text("x: 1\n")
    project = parse(
        """
        services:
          a:
            image: "a:1"
            volumes:
              - data:/var/lib/data
              - ./conf/a.yml:/etc/a.yml:ro
              - ./conf/a.yml:/etc/b.yml
        volumes:
          data:
        """,
        base_dir=tmp_path,
    )
    service = project.services["a"]
    assert [(v.volume, v.target, v.read_only) for v in service.volumes] == [
        ("data", "/var/lib/data", False)
    ]
    assert [(b.source, b.path, b.read_only) for b in service.binds] == [
        ("./conf/a.yml", tmp_path / "conf" / "a.yml", True),
        ("./conf/a.yml", tmp_path / "conf" / "a.yml", False),
    ]


def test_merge_keys_may_be_overridden() -> None:
    project = parse(
        """
        x-check: &check
          test: ["CMD", "true"]
          interval: 2s
          retries: 5
        services:
          a:
            image: "a:1"
            healthcheck:
              <<: *check
              interval: 5s
        """
    )
    assert project.services["a"].healthcheck == Healthcheck(("CMD", "true"), 5.0, 30.0, 5, 0.0)


def test_top_level_extension_fields_are_allowed() -> None:
    project = parse(
        """
        x-labels: &labels
          team: finsig
        services:
          a: {image: "a:1", labels: *labels}
        """
    )
    assert project.services["a"].labels == {"team": "finsig"}


# --- interpolation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${IMG:-app:1}", {}, "app:1"),
        ("${IMG:-app:1}", {"IMG": ""}, "app:1"),
        ("${IMG-app:1}", {"IMG": ""}, ""),
        ("${IMG:-app:1}", {"IMG": "other:2"}, "other:2"),
        ("${IMG}", {"IMG": "other:2"}, "other:2"),
        ("$IMG-x", {"IMG": "a"}, "a-x"),
        ("cost $$5 and $${HOME}", {}, "cost $5 and ${HOME}"),
        ("${IMG:?set it}", {"IMG": "a"}, "a"),
        ("no variables", {}, "no variables"),
    ],
)
def test_interpolation(text: str, env: dict[str, str], expected: str) -> None:
    assert interpolate(text, env) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${IMG}", "IMG is not set and has no default"),
        ("$IMG", "IMG is not set"),
        ("${IMG:?the run must give an image}", "the run must give an image"),
        ("${IMG?}", "IMG is not set"),
        ("$ 5", "invalid interpolation"),
        ("${1BAD}", "invalid interpolation"),
    ],
)
def test_interpolation_errors(text: str, message: str) -> None:
    with pytest.raises(ComposeError, match=message) as info:
        interpolate(text, {}, "services.a.image")
    assert info.value.key == "services.a.image"


def test_interpolation_applies_to_every_string_value() -> None:
    project = parse(
        """
        services:
          a:
            image: "a:${TAG:-1}"
            environment: {URL: "http://${HOST:-db}:5432"}
            command: ["echo", "$$HOME"]
            ports: ["127.0.0.1::${PORT:-80}"]
        """,
        TAG="7",
    )
    service = project.services["a"]
    assert service.image == "a:7"
    assert service.environment == {"URL": "http://db:5432"}
    assert service.command == ("echo", "$HOME")
    assert service.ports == (Port(80),)


# --- durations -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10s", 10.0), ("1m30s", 90.0), ("500ms", 0.5), ("1h", 3600.0), ("1.5s", 1.5)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["5", "5 s", "s", "", "-1s", 5, None, "1d"])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ComposeError, match="duration"):
        parse_duration(value, "services.a.healthcheck.interval")


# --- everything else is an error naming the key --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("services: {a: {image: 'a:1'}}\nnetworks: {}\n", "networks"),
        ("version: '3.9'\nservices: {a: {image: 'a:1'}}\n", "version"),
        ("services: {a: {image: 'a:1', restart: always}}", "services.a.restart"),
        ("services: {a: {image: 'a:1', build: .}}", "services.a.build"),
        ("services: {a: {image: 'a:1', x-note: hi}}", "services.a.x-note"),
        ("services: {a: {image: 'a:1', healthcheck: {test: [CMD, x], disable: true}}}",
         "services.a.healthcheck.disable"),
        ("services:\n a: {image: 'a:1', depends_on: {b: {condition: service_started, "
         "restart: true}}}\n b: {image: 'b:1'}", "services.a.depends_on.b.restart"),
        ("services: {a: {image: 'a:1'}}\nvolumes: {v: {driver: local}}", "volumes.v.driver"),
    ],
)
def test_unknown_keys_are_errors_naming_the_key(text: str, key: str) -> None:
    exc = error(text)
    assert exc.key == key
    assert key in str(exc)
    assert "unsupported key" in str(exc)


def test_errors_inside_a_service_name_the_service() -> None:
    exc = error("services: {web: {image: 'a:1', restart: always}}")
    assert exc.service == "web"
    exc = error("services: {web: {image: 'a:1', ports: ['80']}}")
    assert exc.service == "web"


@pytest.mark.parametrize(
    "port",
    ["8000:8000", "8000", "0.0.0.0::8000", "0.0.0.0:8000:8000", "192.168.1.5::80", "[::1]::80"],
)
def test_ports_not_bound_to_loopback_are_errors(port: str) -> None:
    exc = error(f"services: {{a: {{image: 'a:1', ports: ['{port}']}}}}")
    assert exc.key == "services.a.ports[0]"
    assert "127.0.0.1" in str(exc)


@pytest.mark.parametrize(
    ("ports", "message"),
    [
        ("[8000]", "quoted"),
        ("['127.0.0.1::8000-8001']", "cannot read port"),
        ("['127.0.0.1::70000']", "out of range"),
        ("[{target: 80, host_ip: 127.0.0.1}]", "quoted"),
        ("'127.0.0.1::80'", "expected a list"),
    ],
)
def test_port_syntax_outside_the_subset(ports: str, message: str) -> None:
    exc = error(f"services: {{a: {{image: 'a:1', ports: {ports}}}}}")
    assert message in str(exc)
    assert exc.key is not None and exc.key.startswith("services.a.ports")


def test_depends_on_unknown_service() -> None:
    exc = error("services: {a: {image: 'a:1', depends_on: [ghost]}}")
    assert exc.key == "services.a.depends_on.ghost"
    assert exc.service == "a"
    assert "'ghost'" in str(exc)


def test_depends_on_itself() -> None:
    exc = error("services: {a: {image: 'a:1', depends_on: [a]}}")
    assert "itself" in str(exc)


def test_healthy_condition_needs_a_healthcheck() -> None:
    exc = error(
        """
        services:
          a: {image: "a:1", depends_on: {b: {condition: service_healthy}}}
          b: {image: "b:1"}
        """
    )
    assert exc.key == "services.a.depends_on.b"
    assert "no healthcheck" in str(exc)


def test_unsupported_condition() -> None:
    exc = error(
        """
        services:
          a: {image: "a:1", depends_on: {b: {condition: service_completed_successfully}}}
          b: {image: "b:1"}
        """
    )
    assert exc.key == "services.a.depends_on.b.condition"
    assert "service_completed_successfully" in str(exc)


@pytest.mark.parametrize(
    ("text", "cycle"),
    [
        (
            """
            services:
              a: {image: "a:1", depends_on: [b]}
              b: {image: "b:1", depends_on: [a]}
            """,
            "a -> b -> a",
        ),
        (
            """
            services:
              root: {image: "r:1"}
              x: {image: "x:1", depends_on: [root, z]}
              y: {image: "y:1", depends_on: [x]}
              z: {image: "z:1", depends_on: [y]}
              after: {image: "q:1", depends_on: [z]}
            """,
            "x -> z -> y -> x",
        ),
    ],
)
def test_cycles_are_errors_naming_the_services(text: str, cycle: str) -> None:
    exc = error(text)
    assert f"forms a cycle: {cycle}" in str(exc)
    assert exc.service == cycle[0]
    assert exc.key == f"services.{cycle[0]}.depends_on"


@pytest.mark.parametrize(
    ("volume", "message"),
    [
        ("ghost:/data", "not declared"),
        ("/etc/passwd:/etc/passwd:ro", "relative to the compose file"),
        ("./missing.yml:/etc/m.yml:ro", "existing file"),
        ("./:/etc/all:ro", "existing file"),
        ("./compose.yml:relative:ro", "absolute path"),
        ("./compose.yml:/a:z", "SOURCE:TARGET"),
    ],
)
def test_volume_mounts_outside_the_subset(tmp_path: Path, volume: str, message: str) -> None:
    (tmp_path / "compose.yml").write_text("")
    exc = error(f"services: {{a: {{image: 'a:1', volumes: ['{volume}']}}}}", base_dir=tmp_path)
    assert exc.key == "services.a.volumes[0]"
    assert message in str(exc)


def test_long_volume_syntax_is_an_error() -> None:
    exc = error("services: {a: {image: 'a:1', volumes: [{type: volume, source: v, target: /v}]}}")
    assert "short" in str(exc)


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ("{command: x}", "image is required"),
        ("{image: postgres}", "explicit tag"),
        ("{image: 'registry:5000/postgres'}", "explicit tag"),
        ("{image: '${IMG}'}", "IMG is not set"),
        ("{image: 'a:1', environment: [JUST_A_NAME]}", "NAME=value"),
        ("{image: 'a:1', environment: {DEBUG: true}}", "quote it"),
        ("{image: 'a:1', environment: {EMPTY: null}}", "quote it"),
        ("{image: 'a:1', healthcheck: {test: [NONE]}}", "CMD or CMD-SHELL"),
        ("{image: 'a:1', healthcheck: {test: [CMD-SHELL, a, b]}}", "exactly one"),
        ("{image: 'a:1', healthcheck: {test: x, retries: 0}}", "positive integer"),
        ("{image: 'a:1', healthcheck: {test: x, interval: 10}}", "duration"),
        ("{image: 'a:1', command: ''}", "empty command"),
        ("[image]", "must be a mapping"),
    ],
)
def test_service_values_outside_the_subset(service: str, message: str) -> None:
    exc = error(f"services: {{a: {service}}}")
    assert message in str(exc)
    assert exc.service == "a"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "must be a mapping"),
        ("services: {}\n", "non-empty"),
        ("services: [a]\n", "non-empty"),
        ("services: {a: {image: 'a:1'}\n", "not valid YAML"),
        ("services:\n  a: {image: 'a:1'}\n  a: {image: 'b:1'}\n", "duplicate key 'a'"),
        ("services: {'bad name': {image: 'a:1'}}\n", "invalid service name"),
    ],
)
def test_documents_outside_the_subset(text: str, message: str) -> None:
    assert message in str(error(text))


def test_unreadable_file_is_a_compose_error(tmp_path: Path) -> None:
    with pytest.raises(ComposeError, match="cannot read compose file"):
        load_compose(tmp_path / "absent.yml")
