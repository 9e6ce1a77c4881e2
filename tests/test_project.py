"""Checks on the project as a whole."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from storefront_settings.models import Storefront


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_seed_demo_runs_only_with_debug_on():
    with pytest.raises(CommandError, match="DEBUG on only"):
        call_command("seed_demo")
    assert not Storefront.objects.exists()


@pytest.mark.django_db
def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True
    # The history's own idempotency is tests/test_demo.py's; here, the storefront and login.
    call_command("seed_demo", "--no-history", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo", "--no-history", stdout=out)
    assert Storefront.objects.filter(slug="demo").count() == 1
    assert "merchant@example.com" in out.getvalue()


def test_celery_acknowledges_late_and_speaks_json_only():
    from config.celery import app

    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.worker_prefetch_multiplier == 1
