"""At most DESCENT_UPLOADS_PER_PROCESS uploads are read at once per API process; one more is a 503
problem+json with Retry-After, and the Python client sends it again after Retry-After seconds.

One API process (the stack's default), one turn, no waiting: an upload whose client holds its body
open has the turn, so another is refused until the first ends.
"""

from __future__ import annotations

import threading

from descent.client import Client
from tests.support.data import WORKED
from tests.support.processes import wait_for
from tests.support.stack import Stack
from tests.support.uploads import held_turn, refused_uploads, upload_status

ONE_TURN = {"DESCENT_UPLOADS_PER_PROCESS": "1", "DESCENT_UPLOAD_WAIT_SECONDS": "0"}
HELD_BODY = ("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(1000))).encode()


def test_an_upload_over_the_limit_is_a_503_with_retry_after_until_the_held_one_ends():
    with Stack(0, ONE_TURN) as stack:
        held, refused = held_turn(stack.base, HELD_BODY, WORKED)
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert int(refused.headers["Retry-After"]) >= 1
        problem = refused.json()
        assert problem["status"] == 503 and problem["type"].endswith("too-many-uploads")
        assert "DESCENT_UPLOADS_PER_PROCESS" in problem["detail"]
        assert held.finish() == 201  # nothing of the held upload is lost
        assert upload_status(stack.base, WORKED).status_code == 201  # the turn is free again


def test_the_client_sends_an_upload_again_after_retry_after():
    with Stack(0, ONE_TURN) as stack:
        held, _ = held_turn(stack.base, HELD_BODY, WORKED)
        refused_before = refused_uploads(stack.base)
        outcome: dict[str, object] = {}

        def upload() -> None:
            outcome["dataset"] = Client(stack.base).upload(WORKED, name="retried")

        thread = threading.Thread(target=upload)
        thread.start()
        wait_for(lambda: refused_uploads(stack.base) > refused_before, 30, interval=0.05, what="a 503")
        assert held.finish() == 201
        thread.join(60)
        dataset = outcome["dataset"]
        assert isinstance(dataset, dict) and dataset["name"] == "retried" and dataset["rows"] == 3
