"""`python -m service`: the API under gunicorn, configured from the environment (see service.server)."""

from service.server import main

if __name__ == "__main__":
    raise SystemExit(main())
