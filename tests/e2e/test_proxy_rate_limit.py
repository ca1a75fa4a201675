"""nginx's first-line rate limit per API key (deploy/nginx/nginx.conf.template, issue 14's noisy
neighbour): through Debian's nginx in front of the native stack, with two tenants and a small
DESCENT_RATE_LIMIT, a tenant that floods gets nginx's own 429 problem+json with Retry-After (its
document says `refused_by: proxy`: the API never saw the request), the other tenant and the paths
outside /v1 are not refused meanwhile, and a client that keeps to the rate is never refused."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.processes import wait_for
from tests.support.rate_clients import Flood, headers, paced
from tests.support.stack import Stack

RATE, BURST = 20, 10
"""DESCENT_RATE_LIMIT and DESCENT_RATE_BURST of this module's stack (the API's, and so nginx's)."""
PACED = 2 * RATE
"""Requests of a client that keeps to the rate: two seconds' worth, after its burst would be spent."""


@pytest.fixture(scope="module")
def stack():
    env = {"DESCENT_API_KEYS": "a:key-a,b:key-b", "DESCENT_RATE_LIMIT": str(RATE), "DESCENT_RATE_BURST": str(BURST)}
    with Stack(workers=0, env=env, proxy=True) as s:
        yield s


def first_refusal(flood: Flood) -> requests.Response:
    return wait_for(flood.refused, 60, interval=0.01, what="nginx's first 429")[0]


def test_a_flood_gets_nginxs_429_problem_with_retry_after(stack):
    with Flood(stack.base, "key-a") as flood:
        refusal = first_refusal(flood)
    assert refusal.headers["Content-Type"] == "application/problem+json"
    assert refusal.headers["Retry-After"] == "1"  # nginx lets one more in every 1/RATE s
    assert refusal.headers["Cache-Control"] == "no-store"
    doc = refusal.json()
    assert doc["type"] == "urn:descent:problem:rate-limited" and doc["title"] == "Too many requests"
    assert doc["status"] == 429 and "DESCENT_RATE_LIMIT" in doc["detail"]
    assert doc["limit"] == "DESCENT_RATE_LIMIT" and doc["retry_after"] == 1 and doc["refused_by"] == "proxy"
    assert set(flood.statuses) <= {200, 429} and not flood.errors, (flood.statuses, flood.errors[:3])


def test_the_other_tenant_and_paths_outside_v1_are_not_refused_during_a_flood(stack):
    with Flood(stack.base, "key-a") as flood:
        first_refusal(flood)  # A is over its rate at nginx from here on
        others = paced(stack.base, "key-b", RATE, PACED)
        for path in ("/healthz", "/metrics", "/openapi.json"):  # never limited, whoever asks
            assert requests.get(stack.base + path, headers=headers("key-a"), timeout=30).status_code == 200
        refused_meanwhile = len(flood.refused())
    assert [r.status_code for r in others] == [200] * PACED, [r.text for r in others if r.status_code != 200][:3]
    assert refused_meanwhile > 1


def test_a_client_that_keeps_to_the_rate_is_never_refused(stack):
    """A's flood ends; A waits the Retry-After it was given, then sends at the rate: nginx (and
    the API) let every request through."""
    with Flood(stack.base, "key-a") as flood:
        retry_after = int(first_refusal(flood).headers["Retry-After"])
    time.sleep(retry_after)  # what the 429 asks of the client, not a wait for the server's state
    answers = paced(stack.base, "key-a", RATE, PACED)
    assert [r.status_code for r in answers] == [200] * PACED, [r.text for r in answers if r.status_code != 200][:3]


def test_requests_without_a_key_share_one_bucket(stack):
    """With API keys they are the API's 401s; past the rate, nginx refuses them before the API."""
    with Flood(stack.base, None) as flood:
        first_refusal(flood)
    assert set(flood.statuses) == {401, 429}
