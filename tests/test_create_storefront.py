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
        "payplug",
        "lyra",
        "mollie",
        "paypal",
        "easypost",
        "aftership",
        "generic",
    }
    assert result["webhook_urls"]["mollie"] == f"/webhooks/mollie/{storefront.public_id}/"
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
@pytest.mark.parametrize(
    "key",
    ["sk_live_43b7e007298f57f7aedee32800a52301", "sk_test_7c5cb3b54abcf5062f056639e809368c"],
)
def test_a_payplug_secret_key_live_or_test_is_accepted(key):
    result = create(
        "--name", "Boutique", "--owner-email", "o@example.com", "--secret", f"payplug={key}"
    )
    storefront = Storefront.objects.get()
    assert result["webhook_urls"]["payplug"] == f"/webhooks/payplug/{storefront.public_id}/"
    secret = ProviderSecret.objects.for_storefront(storefront).get(provider="payplug")
    assert secret.secret == key
    assert key not in json.dumps(result)


@pytest.mark.django_db
def test_lyra_takes_its_rest_password_and_its_form_key():
    result = create(
        "--name",
        "Boutique Lyra",
        "--owner-email",
        "owner@example.com",
        "--secret",
        "lyra=testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M",
        "--secret",
        "lyra=Zx8Qw3Lp5Rt7Yu9K",
    )
    storefront = Storefront.objects.get()
    assert result["webhook_urls"]["lyra"] == f"/webhooks/lyra/{storefront.public_id}/"
    secrets = ProviderSecret.objects.for_storefront(storefront).filter(provider="lyra")
    assert sorted(secrets.values_list("secret", flat=True)) == [
        "Zx8Qw3Lp5Rt7Yu9K",
        "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M",
    ]


@pytest.mark.django_db
def test_mollie_takes_its_live_and_test_api_keys():
    live, test = "live_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM", "test_4BBB6H4s2jGi3ajsx4E2KqY5sxSXaRV"
    create(
        "--name",
        "Shop",
        "--owner-email",
        "owner@example.com",
        "--secret",
        f"mollie={live}",
        "--secret",
        f"mollie={test}",
    )
    secrets = ProviderSecret.objects.for_storefront(Storefront.objects.get())
    assert sorted(secrets.filter(provider="mollie").values_list("secret", flat=True)) == [
        live,
        test,
    ]


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
        # A Mollie API key is "live_" or "test_" and 30 or more letters and digits.
        (["--secret", "mollie=live_abcdefghijklmnopqrstuvwx"], "the mollie secret is malformed"),
        (["--secret", "mollie=access_abcdefghijklmnopqrstuvwxyz0123"], "expected a Mollie API key"),
        (["--secret", "mollie=sk_live_abcdefghijklmnopqrstuvwxyz0123"], "'live_' or 'test_'"),
        (["--secret", "stripe=not-a-stripe-secret"], "the stripe secret is malformed"),
        # PayPlug's secret key, not its public key, nor a key of another provider.
        (
            ["--secret", "payplug=pk_live_43b7e007298f57f7aedee32800a52301"],
            "the payplug secret is malformed: expected a PayPlug secret key: 'sk_live_' or "
            "'sk_test_' followed by the key",
        ),
        (["--secret", "payplug=sk_live_short"], "the payplug secret is malformed"),
        (["--secret", "payplug=live_abcdefghijklmnopqrstuvwx"], "the payplug secret is malformed"),
        # Lyra's browser-return HMAC key signs no IPN: a password or a form key is asked for.
        (
            ["--secret", "lyra=38453613e7f44dc58732bad3dca2bca3"],
            "the lyra secret is malformed: expected the REST API password (testpassword_… or "
            "prodpassword_…) or the form's 16-character test or production key",
        ),
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
