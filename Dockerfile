# The portal's one image: web (gunicorn), worker and beat (celery) run it with different commands.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --create-home --uid 10001 registry
WORKDIR /app

COPY pyproject.toml README.md ./
# The project's packages (pyproject.toml's [tool.setuptools.packages.find]); dev/ is tooling for a
# checkout, not for the image.
COPY portal portal
COPY utilities utilities
COPY registry registry
COPY accounts accounts
COPY certificates certificates
COPY transfers transfers
COPY ledger ledger
RUN pip install .
COPY manage.py docker-entrypoint.sh gunicorn.conf.py ./
COPY templates templates
COPY static static
# collectstatic needs settings that load; the real secret comes from the environment at run time.
RUN PRODUCTION=1 SECRET_KEY=collectstatic-only-build-time-key-not-used-at-run-time-0123456789 \
    python manage.py collectstatic --noinput \
    && mkdir -p /data/media && chown -R registry /data /app/staticfiles

USER registry
EXPOSE 8000
ENTRYPOINT ["/app/docker-entrypoint.sh"]
CMD ["web"]
