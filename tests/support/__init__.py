"""What tests share, in one package (test modules import from here, never from each other).

- `processes`: free ports, waiting with a deadline, a throwaway redis-server, `python -m worker`.
- `api`: the calls tests make against the API (upload, submit, wait, full history, problems), over
  Flask's test client or, through `HttpClient`, over real HTTP.
- `tenants`: calling the API as one tenant (its key on every request).
- `holds`: keeping a running job at a step until the test releases it.
- `fill`: filling Redis to its maxmemory under a running job, and freeing it.
- `data`: the datasets tests train on.
- `stack`: docker-compose.yml's commands started natively (e2e and browser tests, bench/).
- `proxy`: the compose proxy's nginx template served by Debian's nginx; raw HTTP for malformed requests.
- `slow_clients`: slowloris sockets and steady pollers (the proxy's tests, bench/load.py).
- `engine`: job specs and data for the engine's tests.
- `fast_paths`: the named jobs of the fast-path tests (test_fast_paths_*.py) and the path each takes.
- `resume`: the runs the checkpoint-and-resume tests interrupt (test_checkpoint_resumed_runs.py,
  test_checkpoint_signals.py), and their uninterrupted reference run.
- `job_requests`: valid job requests as hypothesis strategies (test_validation_*.py).
- `metrics`: scikit-learn's metrics as the reference for a job's `result.metrics`.
- `browser`: what the dashboard's browser tests ask a page (canvas pixels, downloads).
"""
