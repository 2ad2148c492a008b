# Arbiter's app image: the wheel built in a first stage, installed (not editable) into a slim
# Python with a non-root user; migrations, then the server.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ARBITER_SECRET_KEY_FILE=/home/arbiter/.arbiter-secret

RUN useradd --create-home --uid 10001 arbiter
WORKDIR /srv/arbiter
COPY --from=build /dist /dist
RUN pip install /dist/*.whl && rm -r /dist

USER arbiter
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["sh", "-c", "arbiter db upgrade && arbiter serve --host 0.0.0.0 --port 8000"]
