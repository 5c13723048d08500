#!/bin/sh
# web: migrate (once per start; concurrent starts serialize on PostgreSQL's migration lock), then gunicorn.
# worker: celery on the registry's own tasks; outbound: celery on the emails and webhook deliveries
# (their own queue, so a slow receiver or mail server never holds up uploads; portal/settings.py:
# CELERY_TASK_ROUTES); beat. Anything else runs as given (e.g. `manage.py createsuperuser`).
set -e
case "$1" in
  web)
    python manage.py migrate --noinput
    exec gunicorn portal.wsgi --bind 0.0.0.0:8000 --workers "${WEB_CONCURRENCY:-3}" \
      --access-logfile - --forwarded-allow-ips "*" --max-requests 2000 --max-requests-jitter 200
    ;;
  worker)
    exec celery -A portal worker --loglevel INFO --concurrency "${WORKER_CONCURRENCY:-2}" --queues celery
    ;;
  outbound)
    exec celery -A portal worker --loglevel INFO --concurrency "${OUTBOUND_CONCURRENCY:-4}" --queues outbound
    ;;
  beat)
    exec celery -A portal beat --loglevel INFO --schedule /tmp/celerybeat-schedule
    ;;
  *)
    exec "$@"
    ;;
esac
