# syntax=docker/dockerfile:1
# oee-edge gateway image: `docker build -t oee-edge .` at the repository root.
#
#   docker run -v ./config.yaml:/etc/oee-edge/config.yaml:ro -v oee-data:/var/lib/oee-edge \
#     -p 8080:8080 -e OEE_API_KEY=... oee-edge
#
# The config's gateway.data_dir should be /var/lib/oee-edge (the volume); an API bound
# to 0.0.0.0 (to be reachable through -p) needs api.api_key. deploy/compose.yaml runs
# it with Mosquitto, InfluxDB and Grafana.

# ---- build: the project and its dependencies as a wheel, installed into a venv --------
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/oee-edge
WORKDIR /src
# What the wheel is built from (pyproject.toml's packages and package data); tests,
# benchmarks and deploy files stay out of the image.
COPY pyproject.toml README.md ./
COPY core ./core
COPY edge ./edge
COPY connectors ./connectors
COPY oee ./oee
COPY api ./api
COPY simulators ./simulators
RUN /opt/oee-edge/bin/pip wheel --no-deps --wheel-dir /wheels . \
 && /opt/oee-edge/bin/pip install /wheels/*.whl \
 && /opt/oee-edge/bin/oee-edge --version

# ---- run: the venv on a clean slim image, as an unprivileged user ---------------------
FROM python:3.11-slim

# A fixed UID/GID (also in USER below), so file ownership on the host is predictable.
RUN groupadd --system --gid 10001 oee-edge \
 && useradd --system --uid 10001 --gid oee-edge --no-create-home \
      --home-dir /var/lib/oee-edge --shell /usr/sbin/nologin oee-edge \
 && mkdir -p /var/lib/oee-edge /etc/oee-edge \
 && chown oee-edge:oee-edge /var/lib/oee-edge

# Same base image as the builder, so the venv's interpreter links stay valid.
COPY --from=builder /opt/oee-edge /opt/oee-edge

ENV PATH=/opt/oee-edge/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

# The data dir: outbox, checkpoints, embedded store, OPC UA PKI.
WORKDIR /var/lib/oee-edge
VOLUME ["/var/lib/oee-edge"]

USER 10001:10001
EXPOSE 8080

# The slim image has no curl: ask /health with Python. OEE_HEALTH_URL overrides the URL
# for an api.port other than 8080.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ.get('OEE_HEALTH_URL', 'http://127.0.0.1:8080/health'), timeout=4)"]

# SIGTERM (docker stop) is the gateway's graceful stop; give it more than
# outbox.stop_flush_s (docker stop -t / compose stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["oee-edge"]
CMD ["run", "-c", "/etc/oee-edge/config.yaml"]
