"""WSGI entry point of the HTTP benchmarks (webhook_ingest.py, tracking_page.py, overview.py).

    AFTERSALE_BENCH_DATABASE=NAME .venv/bin/gunicorn bench.wsgi:application \
        --bind 127.0.0.1:PORT --no-control-socket

The production settings, with these changes made here, in this process only, each when its
variable is set (bench/common.py's start_server sets them from the benchmark's arguments):

- AFTERSALE_BENCH_DATABASE replaces the database name before the first query, so the server
  works on the benchmark's throwaway database, never the demo's.
- AFTERSALE_BENCH_URLCONF replaces ROOT_URLCONF (otherwise config.urls, as in production):
  webhook_ingest sets bench.ingest_urls, config.urls plus its baselines' view.
  Django reads ROOT_URLCONF on every request (get_resolver), so setting it after django.setup()
  works; the resolver caches are cleared in case anything resolved a URL during set-up.
- AFTERSALE_BENCH_STARTPROJECT_PREFIX: the paths under this prefix are served by a handler
  whose middleware is Django's default (MIDDLEWARE as `django-admin startproject` writes it,
  read from the installed Django's template), the others by production's application
  (config.webhook_stack: the full stack, and the short one for /webhooks/). webhook_ingest's
  minimal baseline is served so, by the same gunicorn.
- AFTERSALE_BENCH_QUEUE becomes Celery's default queue: the enqueue on commit still pushes one
  message per event to the broker (the same work), but into a list of its own that no demo
  worker reads, and that the benchmark deletes at the end (webhook_ingest).
- AFTERSALE_BENCH_STATIC_ROOT replaces STATIC_ROOT: production serves the output of
  collectstatic (the Dockerfile runs it; the pages' {% static %} tags need its manifest), which
  tracking_page and overview make in a temporary folder rather than under DATA_DIR. WhiteNoise
  and the storage read STATIC_ROOT when the application is built, below.
"""

import ast
import os
from pathlib import Path

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

from config.webhook_stack import ByPath, handler_with, wsgi_application  # noqa: E402


def startproject_middleware() -> list[str]:
    """MIDDLEWARE as `django-admin startproject` writes it, from the installed Django's template
    (django/conf/project_template/project_name/settings.py-tpl)."""
    template = Path(django.__file__).parent / "conf/project_template/project_name/settings.py-tpl"
    for node in ast.parse(template.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "MIDDLEWARE":
            return ast.literal_eval(node.value)
    raise LookupError(f"no MIDDLEWARE in {template}")


application = wsgi_application()
if prefix := os.environ.get("AFTERSALE_BENCH_STARTPROJECT_PREFIX"):
    application = ByPath(application, {prefix: handler_with(startproject_middleware())})
