import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from storefront_settings.models import ApiKey, AuditLog, Membership, ProviderSecret, Storefront
from storefront_settings.services.credentials import authenticate_api_key

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PAYPAL_CLIENT_ID = (
    "AV8hdBBM7nB9W2fGsS-yzNpW9pQ7j0fqOGm1RjbhT2aXEVtA3TLxGSs_RjbB2vKSf1aA5VeVgXn1K6Ky"
)
PAYPAL_CLIENT_SECRET = (
    "EJuSmYMfsVyQ3kDOoAHsG1QTmUdaL3b6sk-2VBqS7pBwDrLnoC_jpMfTmV7kaW5y0CbW8fq2yW0L9A"
)
User = get_user_model()


def create(*args) -> dict:
    out = io.StringIO()
    call_command("create_storefront", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def nothing_was_created():
    return (
        not Storefront.objects.exists()
        and not User.objects.exists()
        and not Membership.unscoped.exists()
        and not ApiKey.unscoped.exists()
        and not ProviderSecret.unscoped.exists()
        and not AuditLog.unscoped.exists()
    )


@pytest.mark.django_db
def test_creates_storefront_owner_key_and_secrets():
    result = create(
        "--name",
        "Maison Lune",
        "--owner-email",
        "Owner@Example.com",
        "--password",
        "a long and unusual password",
        "--secret",
        "stripe=whsec_abcdefghijklmnop1234",
        "--secret",
        "easypost=easypost-secret-1",
    )
    storefront = Storefront.objects.get()
    assert result["id"] == storefront.public_id
    assert result["slug"] == "maison-lune"
    assert result["webhook_urls"]["stripe"] == f"/webhooks/stripe/{storefront.public_id}/"
    assert set(result["webhook_urls"]) == {
        "stripe",
        "adyen",
        "paypal",
        "easypost",
        "aftership",
        "generic",
    }
    # Every URL printed is an endpoint: an unsigned post is refused by it, never a 404.
    for provider, path in result["webhook_urls"].items():
        answer = Client().post(path, data="{}", content_type="application/json")
        assert answer.status_code in (400, 401), (provider, answer.status_code)
    assert "owner_password" not in result
    assert authenticate_api_key(result["api_key"]).storefront == storefront
    owner = User.objects.get()
    assert owner.check_password("a long and unusual password")
    membership = Membership.objects.for_storefront(storefront).get()
    assert (membership.user, membership.role) == (owner, "owner")
    secrets = ProviderSecret.objects.for_storefront(storefront).order_by("provider")
    assert [(s.provider, s.secret) for s in secrets] == [
        ("easypost", "easypost-secret-1"),
        ("stripe", "whsec_abcdefghijklmnop1234"),
    ]
    assert AuditLog.objects.for_storefront(storefront).filter(action="storefront.created").exists()


@pytest.mark.django_db
def test_a_paypal_secret_is_the_rest_apps_credentials_and_the_webhook_id():
    secret = f"{PAYPAL_CLIENT_ID}:{PAYPAL_CLIENT_SECRET}:8PT597110X687430LKGECATA"
    result = create(
        "--name", "Shop", "--owner-email", "o@example.com", "--secret", f"paypal={secret}"
    )
    stored = ProviderSecret.objects.for_storefront(Storefront.objects.get()).get()
    assert (stored.provider, stored.secret, stored.hint) == ("paypal", secret, "CATA")
    assert PAYPAL_CLIENT_SECRET not in json.dumps(result)


@pytest.mark.django_db
def test_a_password_is_made_up_when_none_is_given():
    result = create("--name", "Shop", "--owner-email", "owner@example.com")
    assert User.objects.get().check_password(result["owner_password"])


@pytest.mark.django_db
def test_an_existing_user_becomes_owner_of_a_second_storefront():
    create("--name", "First", "--owner-email", "owner@example.com")
    create("--name", "Second", "--owner-email", "owner@example.com")
    assert User.objects.count() == 1
    assert Storefront.objects.filter(memberships__user__email="owner@example.com").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--secret", "paypal=whatever1234"],
            "the paypal secret is malformed: expected <client id>:<client secret>:<webhook id>",
        ),
        # The REST app's credentials without the webhook's id: nothing could be verified.
        (
            ["--secret", f"paypal={PAYPAL_CLIENT_ID}:{PAYPAL_CLIENT_SECRET}"],
            "paypal secret is malformed",
        ),
        # No Mollie endpoint exists yet: no secret for it either.
        (["--secret", "mollie=live_abcdefghijklmnopqrstuvwx"], "unknown provider 'mollie'"),
        (["--secret", "stripe=not-a-stripe-secret"], "the stripe secret is malformed"),
        (["--secret", "stripe"], "--secret takes PROVIDER=SECRET"),
        (["--secret", "stripe="], "--secret takes PROVIDER=SECRET"),
        (["--password", "123"], "too short"),
    ],
)
def test_bad_input_is_refused_and_creates_nothing(args, message):
    with pytest.raises(CommandError) as raised:
        create("--name", "Shop", "--owner-email", "owner@example.com", *args)
    assert message in str(raised.value)
    assert raised.value.returncode == 2
    assert nothing_was_created()


@pytest.mark.django_db
def test_bad_email_and_empty_name_are_refused():
    with pytest.raises(CommandError, match="valid email"):
        create("--name", "Shop", "--owner-email", "not-an-email")
    with pytest.raises(CommandError, match="letter or digit"):
        create("--name", "!!!", "--owner-email", "owner@example.com")
    assert nothing_was_created()


@pytest.mark.django_db
def test_a_duplicate_slug_is_refused_and_creates_nothing_more():
    create("--name", "Maison Lune", "--owner-email", "first@example.com")
    with pytest.raises(CommandError, match="slug 'maison-lune' already exists"):
        create("--name", "Maison  LUNE", "--owner-email", "second@example.com")
    assert Storefront.objects.count() == 1
    assert not User.objects.filter(email="second@example.com").exists()


def run_command(*args):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "create_storefront", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "Shop"], "the following arguments are required: --owner-email"),
        (
            ["--name", "Shop", "--owner-email", "o@example.com", "--secret", "fax=123456789"],
            "unknown provider 'fax'",
        ),
    ],
)
def test_on_the_command_line_bad_input_is_one_line_on_stderr_and_exit_2(args, message):
    # Both inputs fail validation before anything is written.
    result = run_command(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
