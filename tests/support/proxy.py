"""docker-compose.yml's proxy started natively: Debian's nginx with deploy/nginx/nginx.conf.template.

The template is rendered as the nginx image's entrypoint renders it (envsubst of the listed
`${NAME}`s only; nginx's own `$name`s stay; the rate limit's lines from what
deploy/nginx/15-descent-rate-limit.envsh exports, sourced by `sh` as the entrypoint sources it),
with compose's proxy environment except where nginx
listens (a free loopback port), where gunicorn is (the stack's API) and its own directory (pid file,
buffers). nginx runs in the foreground (`daemon off` is in the template) and never as root: under
root (CI) it is started as `nobody`, as the image runs it as its own unprivileged user.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from .processes import ROOT, free_port, wait_for

TEMPLATE = ROOT / "deploy" / "nginx" / "nginx.conf.template"
RATE_SCRIPT = ROOT / "deploy" / "nginx" / "15-descent-rate-limit.envsh"
VARIABLES = ("DESCENT_PROXY_LISTEN", "DESCENT_PROXY_UPSTREAM", "DESCENT_PROXY_DIR", "DESCENT_MAX_REQUEST_BYTES")
"""What the template substitutes from compose's proxy environment (compose sets each)."""
RATE_INPUTS = ("DESCENT_RATE_LIMIT", "DESCENT_RATE_BURST")
"""What RATE_SCRIPT reads (compose gives the proxy the API's values; unset: 0)."""
DERIVED = ("DESCENT_PROXY_RATE_ZONE", "DESCENT_PROXY_RATE_LIMIT", "DESCENT_PROXY_RETRY_AFTER")
"""What the template substitutes from RATE_SCRIPT's exports."""


def rate_lines(values: Mapping[str, str]) -> dict[str, str]:
    """DERIVED as RATE_SCRIPT exports them from `values`' RATE_INPUTS: sourced by `sh` in an
    environment of those alone, as the image's entrypoint sources it before rendering."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **{k: str(values[k]) for k in RATE_INPUTS if k in values}}
    show = " ".join(f'"${{{name}}}"' for name in DERIVED)
    done = subprocess.run(
        ["sh", "-c", f'. "$0" && printf "%s\\0" {show}', str(RATE_SCRIPT)],
        env=env, capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise ValueError(f"{RATE_SCRIPT.name} refused {env}: {done.stderr.strip()}")
    return dict(zip(DERIVED, done.stdout.split("\0")[: len(DERIVED)], strict=True))


def render(values: Mapping[str, str]) -> str:
    """The template with each of VARIABLES and DERIVED replaced, as `envsubst '${A} ${B}…'` does."""
    text = TEMPLATE.read_text()
    for name, value in {**{name: values[name] for name in VARIABLES}, **rate_lines(values)}.items():
        text = text.replace("${" + name + "}", str(value))
    left = re.findall(r"\$\{\w+\}", text)
    assert not left, f"the template uses variables nobody sets: {left}"
    return text


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
    if found is None:
        raise RuntimeError("nginx is not installed: apt-get install nginx (.ci/run does)")
    return found


def _unprivileged() -> dict[str, int]:
    """Popen's user and group: `nobody` when this process is root, else nothing to change."""
    if os.geteuid() != 0:
        return {}
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid}


class Proxy:
    """nginx on a free loopback port in front of `upstream` (host:port), in a directory of its own.

    `values`: the template's variables beyond the three the proxy sets (at least
    DESCENT_MAX_REQUEST_BYTES). Output (errors and the access log) goes to `log_path`.
    """

    def __init__(self, upstream: str, values: Mapping[str, str]) -> None:
        self.dir = tempfile.mkdtemp(prefix="descent-proxy-")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.upstream = upstream
        user = _unprivileged()
        if user:
            os.chown(self.dir, user["user"], user["group"])
        conf = os.path.join(self.dir, "nginx.conf")
        own = {"DESCENT_PROXY_LISTEN": f"127.0.0.1:{self.port}", "DESCENT_PROXY_UPSTREAM": upstream, "DESCENT_PROXY_DIR": self.dir}
        with open(conf, "w") as out:
            out.write(render({**values, **own}))
        self.log_path = os.path.join(self.dir, "nginx.log")
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        if user:  # nginx opens /dev/stdout, this file, again: as its owner
            os.chown(self.log_path, user["user"], user["group"])
        self.proc = subprocess.Popen(
            [nginx_binary(), "-p", self.dir, "-c", conf, "-e", "stderr"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            **user,  # type: ignore[arg-type]
        )
        try:
            wait_for(self._listening, 30, interval=0.02, what="nginx to listen")
        except BaseException:
            self.stop()
            raise

    def _listening(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"nginx exited ({self.proc.returncode}):\n{self.log()}")
        try:
            return requests.get(self.base + "/healthz/proxy", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def log(self) -> str:
        self._log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def connect(self, timeout: float = 10) -> socket.socket:
        """A raw TCP connection to the proxy."""
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def stop(self) -> None:
        """SIGTERM: nginx's fast stop (open slow connections are dropped, not waited for)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def dead_upstream() -> str:
    """host:port where nothing listens (a proxy in front of it answers 502)."""
    return f"127.0.0.1:{free_port()}"


def send_raw(port: int, data: bytes, timeout: float = 30, half_close: bool = False) -> tuple[int, dict[str, str], bytes]:
    """Send `data` as it is (malformed requests too) to 127.0.0.1:`port` and read the first answer:
    its status, headers (lower-case names) and body (Content-Length bytes). `half_close`: then
    shut the sending side, as a client that stops part way through its body does."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        answer, _ = _read_answer(sock, b"")
        return answer.status, answer.headers, answer.body


@dataclass(frozen=True)
class RawAnswer:
    """One HTTP answer as it came off the socket."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def responses(port: int, data: bytes | list[bytes], count: int, timeout: float = 30) -> list[RawAnswer]:
    """Send `data` (several requests, pipelined; or parts sent one after the other) on one
    connection and read `count` answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        for part in [data] if isinstance(data, bytes) else data:
            sock.sendall(part)
        answers, rest = [], b""
        for _ in range(count):
            answer, rest = _read_answer(sock, rest)
            answers.append(answer)
        return answers


def _read_answer(sock: socket.socket, received: bytes) -> tuple[RawAnswer, bytes]:
    """The next answer on `sock` (after `received`, read already), and what came after it."""
    while b"\r\n\r\n" not in received:
        more = sock.recv(65536)
        assert more, f"the server closed the connection without an answer: {received!r}"
        received += more
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        more = sock.recv(65536)
        if not more:
            break
        body += more
    return RawAnswer(int(status_line.split()[1]), headers, body[:length]), body[length:]
