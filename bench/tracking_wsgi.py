"""WSGI entry point for bench/tracking_watch.py: the production app on the throwaway database.

    AFTERSALE_BENCH_DATABASE=NAME .venv/bin/gunicorn bench.tracking_wsgi:application \
        --bind 127.0.0.1:PORT --no-control-socket

The production settings and URLconf (config.urls) as they are, with two changes made here, in
this process only:

- AFTERSALE_BENCH_DATABASE, when set, replaces the database name before the first query, so the
  server works on the benchmark's throwaway database, never the demo's.
- AFTERSALE_BENCH_STATIC_ROOT, when set, replaces STATIC_ROOT: production serves the output of
  collectstatic (the Dockerfile runs it; the pages' {% static %} tags need its manifest), which
  the benchmark makes in a temporary folder rather than under DATA_DIR. WhiteNoise and the
  storage read STATIC_ROOT when the application is built, below.
"""

import os

import django
from django.conf import settings

os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
django.setup()

if database := os.environ.get("AFTERSALE_BENCH_DATABASE"):
    # No connection is open yet, so the first query goes to this database.
    settings.DATABASES["default"]["NAME"] = database
if static_root := os.environ.get("AFTERSALE_BENCH_STATIC_ROOT"):
    settings.STATIC_ROOT = static_root

from django.core.wsgi import get_wsgi_application  # noqa: E402 - after the settings changes

application = get_wsgi_application()
