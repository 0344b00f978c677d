"""The scale-out deployment (docker-compose.yml, Dockerfile): it parses, its commands are ones the
`kontor` CLI has, migrations run before start, and it carries no default secrets. Pure file checks."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from cli import main as cli

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
KONTOR_SERVICES = {"migrate", "api", "worker"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET")
VARIABLE = re.compile(r"\$\{(\w+)([^}]*)\}")


def kontor_args(command) -> list[str]:
    """The arguments after `kontor` of a Compose or Dockerfile command (list or shell string)."""
    args = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    assert args and args[0] == "kontor", f"{command!r} does not run kontor"
    return args[1:]


def parse_cli(args: list[str], where: str):
    try:
        return cli.build_parser().parse_args(args)
    except SystemExit:
        pytest.fail(f"{where}: `kontor {shlex.join(args)}` is not a command the kontor CLI accepts", pytrace=False)


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def test_expected_services():
    assert {"postgres", "prefect-server", "migrate", "api", "worker", "mailpit"} <= set(SERVICES)
    built = {name for name, service in SERVICES.items() if "build" in service}
    assert built == KONTOR_SERVICES
    assert SERVICES["worker"]["deploy"]["replicas"] >= 2


def test_healthchecks_everywhere_but_the_one_shot_migration():
    for name, service in SERVICES.items():
        if name == "migrate":
            assert service.get("restart") == "no"
            assert "healthcheck" not in service
        else:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_migrations_run_before_the_api_and_the_workers():
    assert parse_cli(kontor_args(SERVICES["migrate"]["command"]), "migrate").command == "migrate"
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api", "worker"):
        depends_on = SERVICES[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name
        assert depends_on["prefect-server"]["condition"] == "service_healthy", name


@pytest.mark.parametrize("name", sorted(KONTOR_SERVICES))
def test_kontor_service_commands_exist_in_the_cli(name):
    args = parse_cli(kontor_args(SERVICES[name]["command"]), f"service {name}")
    assert callable(args.func) and getattr(cli, args.func.__name__) is args.func


def test_dockerfile_default_command_exists_in_the_cli():
    cmd = re.search(r"^CMD\s+(\[.*\])\s*$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert cmd, "the Dockerfile has no exec-form CMD"
    assert parse_cli(kontor_args(json.loads(cmd.group(1))), "Dockerfile CMD").command == "serve"


def test_no_default_secrets():
    text = (ROOT / "docker-compose.yml").read_text()
    secrets = [(name, rest) for name, rest in VARIABLE.findall(text) if SECRET_NAME.search(name)]
    assert secrets, "no secret variable is referenced at all"
    for name, rest in secrets:
        assert rest.startswith(":?"), f"${{{name}{rest}}} must be required (${{{name}:?message}}), not defaulted"
    required = re.compile(r"^\$\{\w+:\?[^}]*\}$")
    for service_name, service in SERVICES.items():
        for key, value in environment(service).items():
            if SECRET_NAME.search(key):
                assert required.match(value), f"{service_name}: {key} is not a required variable"
            for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", value):
                assert required.match(password), f"{service_name}: {key} has a password in its URL"


def test_ports_are_published_on_loopback_only():
    for name, service in SERVICES.items():
        assert service.get("network_mode") != "host", name
        for port in service.get("ports", []):
            host_ip = port.get("host_ip") if isinstance(port, dict) else str(port).split(":")[0]
            assert host_ip == "127.0.0.1" and (isinstance(port, dict) or str(port).count(":") == 2), \
                f"{name} publishes {port!r} beyond 127.0.0.1"


def dockerfile_instructions() -> list[tuple[str, list[str]]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), shlex.split(line)[1:]) for line in lines]


def test_dockerfile_copies_bpmn_and_migrations_beside_the_editable_package():
    """kernel.settings.REPO_ROOT and kernel.db.MIGRATIONS_DIR are the folder above the packages: the image
    must hold bpmn/ and migrations/ in the WORKDIR and install Kontor in place (editable) from there."""
    instructions = dockerfile_instructions()
    workdir = next(args[0] for op, args in instructions if op == "WORKDIR").rstrip("/")
    copied = set()
    for op, args in instructions:
        if op == "COPY":
            *sources, dest = [a for a in args if not a.startswith("--")]
            dest = dest.rstrip("/") if dest.startswith("/") else f"{workdir}/{dest.removeprefix('./').rstrip('/')}"
            copied |= {(s.rstrip("/"), dest) for s in sources}
    for folder in ("kernel", "kontor", "bpmn", "migrations"):
        assert (folder, f"{workdir}/{folder}") in copied, f"the Dockerfile does not copy {folder}/ to {workdir}/"
    assert any(op == "RUN" and "install" in args and "-e" in args and "." in args for op, args in instructions), \
        "Kontor must be installed editable (pip install -e .) so that it finds bpmn/ and migrations/"
    ignored = {line.strip().strip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert not ignored & {"bpmn", "migrations", "kontor", "pyproject.toml", "constraints.txt"}


def test_api_and_worker_health_checks_ask_the_readiness_probes():
    api = " ".join(COMPOSE["services"]["api"]["healthcheck"]["test"])
    worker = COMPOSE["services"]["worker"]
    port = environment(worker)["KONTOR_WORKER_HEALTH_PORT"]
    assert "http://127.0.0.1:8000/ready" in api
    assert f"http://127.0.0.1:{port}/ready" in " ".join(worker["healthcheck"]["test"])
