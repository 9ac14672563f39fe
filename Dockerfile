# The databot worker image: `databot worker`, the SQS loop the ECS Fargate service runs.
#   docker build -t databot-worker .        (push to ECR: see docs/deploy.md)
# The same Python as the test suite, which installs requirements/worker.txt in a clean
# virtual environment and runs `databot worker --help` (tests/unit/test_dockerfile.py).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLBACKEND=Agg \
    MPLCONFIGDIR=/tmp/matplotlib

# libseccomp2: the local sandbox's system-call filter.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libseccomp2 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so this layer is rebuilt only when the pins change.
COPY requirements/worker.txt requirements/worker.txt
RUN pip install -r requirements/worker.txt

# The code, with input/ beside it (schema.yaml, verified_queries.yaml, the sample data).
# Editable, so the package finds input/ where the repository keeps it.
COPY pyproject.toml setup.py README.md ./
COPY bot bot
COPY handlers handlers
COPY executor executor
COPY input input
RUN pip install --no-deps --editable . \
    && useradd --system --uid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin databot

USER 10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4)"]
# The worker by default; a task may run another databot command in its place (the daily
# `verified check` overrides the command, template.yaml).
ENTRYPOINT ["databot"]
CMD ["worker"]
