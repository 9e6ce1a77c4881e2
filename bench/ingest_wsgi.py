"""WSGI entry point for bench/webhook_ingest.py: the production app plus the bare baseline view.

    .venv/bin/gunicorn bench.ingest_wsgi:application --bind 127.0.0.1:PORT

The production settings, with three changes made here, in this process only:

- ROOT_URLCONF is bench.ingest_urls: config.urls plus /bench/bare-stripe/<public id>/. Django
  reads ROOT_URLCONF on every request (get_resolver), so setting it after django.setup() works;
  the resolver caches are cleared in case anything resolved a URL during set-up.
- AFTERSALE_BENCH_DATABASE, when set, replaces the database name before the first query, so the
  server works on the benchmark's throwaway database.
- AFTERSALE_BENCH_QUEUE, when set, becomes Celery's default queue: the enqueue on commit still
  pushes one message per event to the broker (the same work), but into a list of its own that no
  demo worker reads, and that the benchmark deletes at the end.
"""

import os

import django
from django.conf import settings
from django.urls import clear_url_caches

os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
django.setup()

if database := os.environ.get("AFTERSALE_BENCH_DATABASE"):
    # No connection is open yet, so the first query goes to this database.
    settings.DATABASES["default"]["NAME"] = database
if queue := os.environ.get("AFTERSALE_BENCH_QUEUE"):
    from config.celery import app as celery_app

    celery_app.conf.task_default_queue = queue

settings.ROOT_URLCONF = "bench.ingest_urls"
clear_url_caches()

from django.core.wsgi import get_wsgi_application  # noqa: E402 - after the settings changes

application = get_wsgi_application()
