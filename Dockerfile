# The relay service image: python -m service on a slim Python base, as a non-root user.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY service ./service
COPY kafka_client ./kafka_client
COPY producer ./producer
RUN python -m venv /opt/relay \
    && /opt/relay/bin/pip install --no-cache-dir ".[fast]"

FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 relay \
    && useradd --system --uid 10001 --gid relay --no-create-home --shell /usr/sbin/nologin relay
COPY --from=build /opt/relay /opt/relay
ENV PATH=/opt/relay/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    RELAY_OPS_PORT=8080 \
    RELAY_LOG_FORMAT=json
USER 10001:10001
EXPOSE 8080
# The same check as the ECS task definition: the event loop answers and no lagging partition is stuck.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('RELAY_OPS_PORT', '8080') + '/healthz', timeout=2)"]
ENTRYPOINT ["python", "-m", "service"]
