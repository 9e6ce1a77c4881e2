"""The Celery app of the benchmarks that run a worker and beat (bench/first_email.py).

    AFTERSALE_BENCH_DATABASE=NAME .venv/bin/celery -A bench.celery_app worker

config.celery's app with the production settings, with these changes made here, in this process
only, each when its variable is set (as bench/wsgi.py does for gunicorn):

- AFTERSALE_BENCH_DATABASE replaces the database name before the first query, so the worker and
  beat work on the benchmark's throwaway database, never the demo's. A prefork worker's children
  inherit it.
- AFTERSALE_BENCH_DISPATCH_PERIOD (seconds) replaces the period of beat's inbound dispatcher
  (inbound.tasks.dispatch, every second in settings), to measure what the period costs.

The queue is the settings' own variable, CELERY_DEFAULT_QUEUE, which the benchmark sets for every
process it starts.
"""

import os

import django
from django.conf import settings

os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
django.setup()

if database := os.environ.get("AFTERSALE_BENCH_DATABASE"):
    # No connection is open yet, so the first query goes to this database.
    settings.DATABASES["default"]["NAME"] = database

from config.celery import app  # noqa: E402 - after the settings changes

if period := os.environ.get("AFTERSALE_BENCH_DISPATCH_PERIOD"):
    dispatcher = app.conf.beat_schedule["dispatch-inbound-events"]
    dispatcher["schedule"] = float(period)
    dispatcher["options"] = {**dispatcher.get("options", {}), "expires": 2 * float(period)}

__all__ = ["app"]
