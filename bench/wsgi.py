"""WSGI entry point of the HTTP benchmarks (webhook_ingest.py, tracking_page.py, overview.py).

    AFTERSALE_BENCH_DATABASE=NAME .venv/bin/gunicorn bench.wsgi:application \
        --bind 127.0.0.1:PORT --no-control-socket

The production settings, with these changes made here, in this process only, each when its
variable is set (bench/common.py's start_server sets them from the benchmark's arguments):

- AFTERSALE_BENCH_DATABASE replaces the database name before the first query, so the server
  works on the benchmark's throwaway database, never the demo's.
- AFTERSALE_BENCH_URLCONF replaces ROOT_URLCONF (otherwise config.urls, as in production):
  webhook_ingest sets bench.ingest_urls, config.urls plus /bench/bare-stripe/<public id>/.
  Django reads ROOT_URLCONF on every request (get_resolver), so setting it after django.setup()
  works; the resolver caches are cleared in case anything resolved a URL during set-up.
- AFTERSALE_BENCH_QUEUE becomes Celery's default queue: the enqueue on commit still pushes one
  message per event to the broker (the same work), but into a list of its own that no demo
  worker reads, and that the benchmark deletes at the end (webhook_ingest).
- AFTERSALE_BENCH_STATIC_ROOT replaces STATIC_ROOT: production serves the output of
  collectstatic (the Dockerfile runs it; the pages' {% static %} tags need its manifest), which
  tracking_page and overview make in a temporary folder rather than under DATA_DIR. WhiteNoise
  and the storage read STATIC_ROOT when the application is built, below.
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
if static_root := os.environ.get("AFTERSALE_BENCH_STATIC_ROOT"):
    settings.STATIC_ROOT = static_root
if urlconf := os.environ.get("AFTERSALE_BENCH_URLCONF"):
    settings.ROOT_URLCONF = urlconf
    clear_url_caches()

from django.core.wsgi import get_wsgi_application  # noqa: E402 - after the settings changes

application = get_wsgi_application()
