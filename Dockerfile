# One image for the API (python -m service: gunicorn) and the workers (python -m worker).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The CPU build of PyTorch from PyTorch's CPU wheel index (the default index serves a CUDA build of
# several GB). Its own layer, so code changes do not reinstall it.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

COPY pyproject.toml README.md ./
COPY descent ./descent
COPY service ./service
COPY worker ./worker
RUN pip install .

# Numba's kernels compiled now, for the columns' summaries (API) and training (workers), into a seed
# that each container copies into its NUMBA_CACHE_DIR, a tmpfs, at start (descent/numba_seed.py):
# no container compiles while it starts. Built as the files will run: from /app.
RUN NUMBA_CACHE_DIR=/app/numba-seed python -c "import service.tables.column_stats, worker.engine.kernels as k; k.warm_up()" \
    && chmod -R a+rX /app/numba-seed
ENV DESCENT_NUMBA_CACHE_SEED=/app/numba-seed

# /var/tmp/descent-uploads: DESCENT_UPLOAD_SPOOL_DIR in compose, a volume that takes this owner on first use.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin descent \
    && install -d -o descent /var/tmp/descent-uploads
USER descent

EXPOSE 8000
CMD ["python", "-m", "service"]
