"""docker-compose.yml keeps its promises: hardened services, Redis private and password-protected,
only the proxy published, in front of the API with the API's own body limit and request rate."""

from __future__ import annotations

import re

import pytest
import yaml

from descent.settings import Settings
from tests.support.processes import ROOT
from tests.support.proxy import RATE_INPUTS, RATE_SCRIPT, TEMPLATE, VARIABLES
from tests.support.stack import compose_service, interpolate

SERVICES = ("redis", "api", "proxy", "worker")


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_is_hardened(name):
    service = compose_service(name)
    assert service["read_only"] is True
    assert service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]
    assert service["healthcheck"]["test"]
    for limit in ("mem_limit", "cpus", "pids_limit"):
        assert service[limit]
    assert service.get("user") != "root"


def test_redis_is_private_persistent_and_needs_a_password():
    redis = compose_service("redis")
    assert "ports" not in redis
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--rdbcompression") + 1] == "no"  # rewrites spend no core on LZF (README, Durability)
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    password = command[command.index("--requirepass") + 1]
    for name in ("api", "worker"):
        assert f":{password}@redis:6379" in compose_service(name)["environment"]["REDIS_URL"]


def test_worker_has_time_to_checkpoint_on_stop():
    assert compose_service("worker")["stop_grace_period"] == "30s"


def test_a_stopping_worker_waits_for_a_full_redis_within_its_grace():
    """DESCENT_STOP_WAIT_SECONDS (a hand-back waiting for room) ends well before compose kills."""
    grace = float(compose_service("worker")["stop_grace_period"].removesuffix("s"))
    environment = compose_service("worker").get("environment") or {}
    wait = Settings.from_env({k: str(v) for k, v in environment.items() if v is not None}).stop_wait_seconds
    assert wait + 5 <= grace


def test_only_the_proxy_is_published():
    services = yaml.safe_load(interpolate((ROOT / "docker-compose.yml").read_text()))["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    proxy = compose_service("proxy")
    (port,) = proxy["ports"]
    host, container = port.split(":")
    assert host == "8000" and container == proxy["environment"]["DESCENT_PROXY_LISTEN"]


def test_the_proxy_is_unprivileged_nginx_in_front_of_the_api():
    proxy = compose_service("proxy")
    assert re.fullmatch(r"nginxinc/nginx-unprivileged:1\.[23]\d(\.\d+)?-alpine", proxy["image"])
    env = proxy["environment"]
    assert set(VARIABLES) <= set(env)
    assert env["NGINX_ENVSUBST_FILTER"] == "^DESCENT_"  # nginx's own $variables stay as they are
    api_port = compose_service("api")["environment"]["DESCENT_BIND"].rsplit(":", 1)[1]
    assert env["DESCENT_PROXY_UPSTREAM"] == f"api:{api_port}"
    # the template the image renders is this repository's, into the file the command starts nginx with
    mount = next(v for v in proxy["volumes"] if v.endswith(":/etc/nginx/templates/nginx.conf.template:ro"))
    assert (ROOT / mount.split(":")[0]).resolve() == TEMPLATE
    output = env["NGINX_ENVSUBST_OUTPUT_DIR"]
    assert proxy["command"] == ["nginx", "-c", f"{output}/nginx.conf"] and output in proxy["tmpfs"]
    assert proxy["depends_on"]["api"]["condition"] == "service_healthy"


def test_the_proxy_and_the_api_take_one_body_limit():
    """One variable for both, defaulting to the API's own default."""
    text = (ROOT / "docker-compose.yml").read_text()
    (default,) = re.findall(r"\$\{DESCENT_MAX_REQUEST_BYTES:-(\d+)\}", text)  # one, shared by a YAML anchor
    assert int(default) == Settings().max_request_bytes
    api, proxy = compose_service("api"), compose_service("proxy")
    assert api["environment"]["DESCENT_MAX_REQUEST_BYTES"] == proxy["environment"]["DESCENT_MAX_REQUEST_BYTES"]


def test_the_proxy_and_the_api_take_one_request_rate():
    """DESCENT_RATE_LIMIT and DESCENT_RATE_BURST, one variable each for both (the API's defaults),
    and the script the image's entrypoint sources to turn them into nginx's limit is this one."""
    text = (ROOT / "docker-compose.yml").read_text()
    api, proxy = compose_service("api"), compose_service("proxy")
    for name, default in zip(RATE_INPUTS, (Settings().rate_limit, Settings().rate_burst), strict=True):
        (found,) = re.findall(rf"\$\{{{name}:-([\d.]+)\}}", text)
        assert float(found) == default
        assert api["environment"][name] == proxy["environment"][name]
    mount = next(v for v in proxy["volumes"] if ":/docker-entrypoint.d/" in v)
    source, target, mode = mount.split(":")
    assert (ROOT / source).resolve() == RATE_SCRIPT and target.endswith("/" + RATE_SCRIPT.name) and mode == "ro"
    assert RATE_SCRIPT.name.endswith(".envsh") and RATE_SCRIPT.name < "20-envsubst-on-templates.sh"  # sourced first
    assert RATE_SCRIPT.stat().st_mode & 0o111  # the entrypoint sources only executable ones
