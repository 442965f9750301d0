# syntax=docker/dockerfile:1
# Gembalog: multi-stage build. The runtime image runs migrations, then the server, as a
# non-root user; data (SQLite file when used, attachments, generated secret) lives in /data.

FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim-bookworm AS python-deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml ./
# Dependencies only (the source is copied into the runtime image), from pyproject itself.
RUN python -m venv /opt/venv \
 && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml','rb'))['project']['dependencies']))" > requirements.txt \
 && /opt/venv/bin/pip install -r requirements.txt

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GEMBALOG_PROJECT_ROOT=/app \
    GEMBALOG_DATA_DIR=/data \
    GEMBALOG_ENVIRONMENT=production \
    WEB_CONCURRENCY=2
RUN groupadd --system --gid 10001 gembalog \
 && useradd --system --uid 10001 --gid gembalog --home-dir /app --shell /usr/sbin/nologin gembalog \
 && mkdir -p /data && chown gembalog:gembalog /data
COPY --from=python-deps /opt/venv /opt/venv
WORKDIR /app
COPY alembic.ini ./
COPY migrations/ ./migrations/
COPY app/ ./app/
COPY --from=frontend /src/frontend/dist ./frontend/dist/
USER gembalog
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"
CMD ["sh", "-c", "python -m app.cli migrate && exec python -m app.cli serve --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY}"]
