"""Offline checks of ``deploy/``: each returns a list of problems (empty when the files are right).

They run on the shipped files and on deliberately broken copies (``test_deploy.py``), so a check
that cannot fail shows up as a failing test. Nothing here needs a cluster, Docker or the network:

- Kubernetes objects against the API schemas bundled in ``kubernetes-validate``; KEDA and
  Prometheus-operator objects against our own strict schemas (``schemas/keda.json``);
- the compose file against the compose-spec keys we use (a strict subset);
- every environment variable a manifest sets is one the settings read (or a known outsider);
- every grace period exceeds that manifest's own job timeout;
- ports are above 1024, the metrics port a command serves is the one its probes, Service and
  KEDA trigger ask, and the KEDA URL names a Service we ship by its full cluster name;
- the torch wheel flavour the images install exists for the pinned torch.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

SCHEMAS = Path(__file__).parent / "schemas"
K8S_VERSION = "1.31.0"
TORCH_WHEELS = {"2.13.0": {"cpu", "cu126", "cu130"}}
"""Flavours download.pytorch.org publishes per torch release (no cu124 for 2.13)."""
OUTSIDE_ENV = {"REDIS_PASSWORD", "CUDA_VISIBLE_DEVICES", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR"}
"""Variables read by something other than our settings (the Redis image, CUDA, Python, pip)."""
CRD_KINDS = {"ScaledObject", "TriggerAuthentication", "PodMonitor", "PrometheusRule"}
SYSTEMD_INSTANCES = range(10)

COMPOSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "patternProperties": {"^x-": {}},
    "required": ["services"],
    "properties": {
        "name": {"type": "string"},
        "services": {"type": "object", "additionalProperties": {"$ref": "#/$defs/service"}},
        "volumes": {"type": "object"},
        "networks": {"type": "object"},
    },
    "$defs": {
        "service": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "build": {"type": "object", "additionalProperties": False,
                          "properties": {"context": {"type": "string"}, "dockerfile": {"type": "string"},
                                         "args": {"type": "object", "additionalProperties": {"type": "string"}},
                                         "target": {"type": "string"}}},
                "image": {"type": "string"},
                "command": {"type": "array", "items": {"type": "string"}},
                "restart": {"enum": ["no", "always", "on-failure", "unless-stopped"]},
                "environment": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
                "depends_on": {"type": "object", "additionalProperties": {
                    "type": "object", "properties": {"condition": {
                        "enum": ["service_started", "service_healthy", "service_completed_successfully"]}}}},
                "healthcheck": {"type": "object", "additionalProperties": False, "properties": {
                    "test": {"type": ["array", "string"]}, "interval": {"$ref": "#/$defs/duration"},
                    "timeout": {"$ref": "#/$defs/duration"}, "start_period": {"$ref": "#/$defs/duration"},
                    "retries": {"type": "integer"}, "disable": {"type": "boolean"}}},
                "stop_grace_period": {"$ref": "#/$defs/duration"},
                "volumes": {"type": "array", "items": {"type": "string"}},
                "ports": {"type": "array", "items": {"type": "string"}},
                "profiles": {"type": "array", "items": {"type": "string"}},
                "deploy": {"type": "object", "additionalProperties": False, "properties": {
                    "resources": {"type": "object", "additionalProperties": False, "properties": {
                        "reservations": {"type": "object", "additionalProperties": False, "properties": {
                            "devices": {"type": "array", "items": {
                                "type": "object", "additionalProperties": False, "required": ["capabilities"],
                                "properties": {"driver": {"type": "string"}, "count": {"type": ["integer", "string"]},
                                               "device_ids": {"type": "array", "items": {"type": "string"}},
                                               "capabilities": {"type": "array", "items": {"type": "string"}}}}}}}}}}},
            },
        },
        "duration": {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(us|ms|s|m|h))+$"},
    },
}


# --------------------------------------------------------------------------- reading the files
def docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def k8s_docs(deploy: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for folder in ("k8s", "monitoring"):
        for path in sorted((deploy / folder).glob("*.yaml")):
            for doc in docs(path):
                yield path, doc


def compose(deploy: Path) -> dict[str, Any]:
    return docs(deploy / "docker-compose.yml")[0]


def systemd_units(deploy: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((deploy / "systemd").glob("*.service"))}


def pod_specs(deploy: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, doc in k8s_docs(deploy):
        if doc.get("kind") in ("Deployment", "StatefulSet"):
            yield f"{path.name}:{doc['metadata']['name']}", doc["spec"]["template"]["spec"]


def container_env(container: dict[str, Any]) -> dict[str, str | None]:
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else None


# --------------------------------------------------------------------------- the checks
def k8s_schema_problems(deploy: Path) -> list[str]:
    import jsonschema
    import kubernetes_validate

    crd = json.loads((SCHEMAS / "keda.json").read_text(encoding="utf-8"))
    problems = []
    for path, doc in k8s_docs(deploy):
        where = f"{path.name}:{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        try:
            if doc.get("kind") in CRD_KINDS:
                schema = {"$defs": crd["$defs"], **crd[doc["kind"]]}
                jsonschema.validate(doc, schema)
            else:
                kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except (jsonschema.ValidationError, kubernetes_validate.ValidationError) as exc:
            problems.append(f"{where}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{where}: no schema for kind {doc.get('kind')!r}")
    return problems


def compose_problems(deploy: Path) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(COMPOSE_SCHEMA)
    return [f"docker-compose.yml:{'/'.join(map(str, e.path))}: {e.message}"
            for e in validator.iter_errors(compose(deploy))]


def env_problems(deploy: Path, known: set[str]) -> list[str]:
    """Every variable set for our processes must be read by some settings section."""
    found: list[tuple[str, str]] = []
    for where, pod in pod_specs(deploy):
        for c in pod["containers"]:
            if c["name"] == "redis":
                continue
            found += [(where, n) for n in container_env(c)]
    for name, service in compose(deploy)["services"].items():
        if name != "redis":
            found += [(f"docker-compose.yml:{name}", n) for n in service.get("environment") or {}]
    for unit, text in systemd_units(deploy).items():
        found += [(unit, m.group(1)) for m in re.finditer(r"^Environment=([A-Z0-9_]+)=", text, re.M)]
    dockerfile = (deploy / "Dockerfile").read_text(encoding="utf-8")
    for line in dockerfile.splitlines():
        if line.startswith("ENV "):
            found += [("Dockerfile", kv.split("=")[0]) for kv in line[4:].split()]
    return [f"{where}: {name} is not a setting (misspelt?)" for where, name in found
            if name not in known and name not in OUTSIDE_ENV]


def _seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"([0-9.]+)(ms|s|m|h)", text))


def grace_problems(deploy: Path, default_timeout: int) -> list[str]:
    """A warm shutdown lets the current job finish: the grace period must outlast the job timeout."""
    problems = []
    for where, pod in pod_specs(deploy):
        for c in pod["containers"]:
            if "worker" not in (c.get("command") or [])[:2]:
                continue
            timeout = int(container_env(c).get("POETCORE_JOB_TIMEOUT_S") or default_timeout)
            grace = int(pod.get("terminationGracePeriodSeconds", 30))
            if grace <= timeout:
                problems.append(f"{where}: terminationGracePeriodSeconds {grace} <= job timeout {timeout}")
    for name, service in compose(deploy)["services"].items():
        if "worker" not in (service.get("command") or [])[:2]:
            continue
        timeout = int((service.get("environment") or {}).get("POETCORE_JOB_TIMEOUT_S") or default_timeout)
        grace = _seconds(service.get("stop_grace_period", "10s"))
        if grace <= timeout:
            problems.append(f"docker-compose.yml:{name}: stop_grace_period {grace:.0f} s <= job timeout {timeout}")
    for unit, text in systemd_units(deploy).items():
        if " worker" not in text:
            continue
        env = dict(re.findall(r"^Environment=([A-Z0-9_]+)=(\S+)", text, re.M))
        timeout = int(env.get("POETCORE_JOB_TIMEOUT_S", default_timeout))
        stop = re.search(r"^TimeoutStopSec=(\d+)", text, re.M)
        if stop is None or int(stop.group(1)) <= timeout:
            problems.append(f"{unit}: TimeoutStopSec {stop and stop.group(1)} <= job timeout {timeout}")
    return problems


def _port_ok(port: int) -> bool:
    return 1024 < port < 65536


def port_problems(deploy: Path) -> list[str]:
    problems = []
    services = {doc["metadata"]["name"]: (path, doc) for path, doc in k8s_docs(deploy) if doc.get("kind") == "Service"}
    for where, pod in pod_specs(deploy):
        for c in pod["containers"]:
            named = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            problems += [f"{where}: port {p} is privileged or out of range" for p in named.values() if not _port_ok(p)]
            served = option(c.get("command") or [], "--metrics-port")
            if served is not None and named.get("metrics") != int(served):
                problems.append(f"{where}: serves metrics on {served} but declares port metrics={named.get('metrics')}")
            env_port = container_env(c).get("POETCORE_METRICS_PORT")
            if env_port is not None and served is not None and env_port != served:
                problems.append(f"{where}: POETCORE_METRICS_PORT {env_port} differs from --metrics-port {served}")
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                port = c.get(probe, {}).get("httpGet", {}).get("port")
                if port is not None and port not in named and port not in named.values():
                    problems.append(f"{where}: {probe} asks port {port!r}, which the container does not declare")
    for path, doc in k8s_docs(deploy):
        if doc.get("kind") != "ScaledObject":
            continue
        for trigger in doc["spec"]["triggers"]:
            url = trigger["metadata"].get("url", "")
            m = re.fullmatch(r"http://([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)(/\S*)", url)
            if m is None:
                problems.append(f"{path.name}: KEDA url {url!r} is not http://<service>.<namespace>.svc.cluster.local:<port>/...")
                continue
            name, namespace, port, route = m.group(1), m.group(2), int(m.group(3)), m.group(4)
            if name not in services:
                problems.append(f"{path.name}: KEDA url names Service {name!r}, which deploy/ does not define")
                continue
            svc = services[name][1]
            if svc["metadata"].get("namespace") != namespace:
                problems.append(f"{path.name}: Service {name} lives in {svc['metadata'].get('namespace')!r}, not {namespace!r}")
            if port not in [p["port"] for p in svc["spec"]["ports"]]:
                problems.append(f"{path.name}: KEDA url port {port} is not a port of Service {name}")
            if route != "/demand":
                problems.append(f"{path.name}: KEDA url path {route!r}: workers serve /demand")
    for name, service in compose(deploy)["services"].items():
        served = option(service.get("command") or [], "--metrics-port")
        if served is not None and not _port_ok(int(served)):
            problems.append(f"docker-compose.yml:{name}: metrics port {served} is privileged")
        health = json.dumps(service.get("healthcheck", {}))
        asked = re.search(r"127\.0\.0\.1:(\d+)/healthz", health)
        if served is not None and asked is not None and asked.group(1) != served:
            problems.append(f"docker-compose.yml:{name}: healthcheck asks {asked.group(1)}, the worker serves {served}")
    for unit, text in systemd_units(deploy).items():
        for m in re.finditer(r"--metrics-port (\S+)", text):
            for i in SYSTEMD_INSTANCES:
                port = int(m.group(1).replace("%i", str(i)))
                if not _port_ok(port):
                    problems.append(f"{unit}: instance {i} gets metrics port {port}, which is privileged or out of range")
                    break
    return problems


def image_problems(deploy: Path) -> list[str]:
    """Every torch flavour asked for (default, compose build args) is a stage with a real wheel."""
    text = (deploy / "Dockerfile").read_text(encoding="utf-8")
    version = re.search(r"ARG TORCH_VERSION=(\S+)", text)
    default = re.search(r"ARG TORCH_FLAVOR=(\S+)", text)
    stages = set(re.findall(r"^FROM \S+ AS torch-(\S+)$", text, re.M))
    indexes = dict(re.findall(r"^FROM base AS torch-(\S+)\nRUN pip install --index-url https://download\.pytorch\.org/whl/(\S+) ",
                              text, re.M))
    if version is None or default is None:
        return ["Dockerfile: TORCH_VERSION and TORCH_FLAVOR must be declared"]
    problems = []
    wheels = TORCH_WHEELS.get(version.group(1), set())
    for stage in stages:
        if indexes.get(stage) != stage:
            problems.append(f"Dockerfile: stage torch-{stage} installs from {indexes.get(stage)!r}, not {stage!r}")
        if stage not in wheels:
            problems.append(f"Dockerfile: torch {version.group(1)} has no {stage} wheel (has {sorted(wheels)})")
    asked = {default.group(1)}
    for service in compose(deploy)["services"].values():
        build = service.get("build") or {}
        if "TORCH_FLAVOR" in (build.get("args") or {}):
            asked.add(build["args"]["TORCH_FLAVOR"])
    problems += [f"TORCH_FLAVOR={f}: no stage torch-{f} in the Dockerfile" for f in sorted(asked - stages)]
    if not re.search(r"^USER 10001", text, re.M):
        problems.append("Dockerfile: USER must be numeric (10001) for runAsNonRoot")
    return problems


def pod_security_problems(deploy: Path) -> list[str]:
    """Pod Security "restricted": non-root, no privilege escalation, no capabilities, RuntimeDefault seccomp."""
    problems = []
    for where, pod in pod_specs(deploy):
        pod_ctx = pod.get("securityContext", {})
        for c in pod["containers"]:
            ctx = {**pod_ctx, **c.get("securityContext", {})}
            if ctx.get("runAsNonRoot") is not True:
                problems.append(f"{where}/{c['name']}: runAsNonRoot is not true")
            if ctx.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}/{c['name']}: allowPrivilegeEscalation is not false")
            if "ALL" not in ctx.get("capabilities", {}).get("drop", []):
                problems.append(f"{where}/{c['name']}: capabilities do not drop ALL")
            if ctx.get("seccompProfile", {}).get("type") not in ("RuntimeDefault", "Localhost"):
                problems.append(f"{where}/{c['name']}: seccompProfile is not RuntimeDefault")
    return problems
