# The portal's one image: web (gunicorn), worker and beat (celery) run it with different commands.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --create-home --uid 10001 registry
WORKDIR /app

# The dependencies first, from pyproject.toml alone: a layer that a change of the code reuses.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
    > /tmp/requirements.txt && pip install -r /tmp/requirements.txt && rm /tmp/requirements.txt
# Then the tree, less what .dockerignore leaves out: every app, with no list of them to keep. The
# processes run it from /app (manage.py's directory; gunicorn and celery -A import from theirs), so
# the project itself is not pip-installed: a second copy in site-packages would only mislead.
COPY . .
# collectstatic needs settings that load; the real secret comes from the environment at run time.
RUN PRODUCTION=1 SECRET_KEY=collectstatic-only-build-time-key-not-used-at-run-time-0123456789 \
    python manage.py collectstatic --noinput \
    && mkdir -p /data/media && chown -R registry /data /app/staticfiles

USER registry
EXPOSE 8000
ENTRYPOINT ["/app/docker-entrypoint.sh"]
CMD ["web"]
