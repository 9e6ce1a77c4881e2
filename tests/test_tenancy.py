"""The tenancy rules of ARCHITECTURE.md, checked on every model and on the query layer."""

import pytest
from django.apps import apps
from django.db import models

from storefront_settings.models import ApiKey, Membership, ProviderSecret, Storefront
from storefront_settings.selectors import (
    active_provider_secrets,
    api_keys,
    storefronts_for_user,
)
from storefront_settings.tenancy import TenantManager, UnscopedQueryError

PROJECT_APPS = {
    "storefront_settings",
    "inbound",
    "notifications",
    "payments",
    "tracking",
    "dashboard",
}
# Models that are not owned by one tenant, each with the reason.
GLOBAL_MODELS = {
    Storefront: "the tenant itself",
}


def project_models():
    return [model for model in apps.get_models() if model._meta.app_label in PROJECT_APPS]


def storefront_field(model):
    for field in model._meta.get_fields():
        if (
            isinstance(field, models.ForeignKey)
            and field.name == "storefront"
            and field.related_model is Storefront
        ):
            return field
    return None


@pytest.mark.parametrize("model", project_models(), ids=lambda m: m._meta.label)
def test_every_model_is_tenant_owned_or_declared_global(model):
    if model in GLOBAL_MODELS:
        return
    field = storefront_field(model)
    assert field is not None, f"{model._meta.label} has no storefront foreign key"
    assert not field.null, f"{model._meta.label}.storefront may be null"
    assert isinstance(model._default_manager, TenantManager), (
        f"{model._meta.label}'s default manager does not fail closed"
    )


@pytest.mark.parametrize(
    "model",
    [model for model in project_models() if model not in GLOBAL_MODELS],
    ids=lambda m: m._meta.label,
)
def test_every_unique_constraint_of_a_tenant_model_includes_the_storefront(model):
    for field in model._meta.concrete_fields:
        # A one-to-one on the storefront (one settings row per tenant) is unique per tenant.
        if field.unique and not field.primary_key and field.name != "storefront":
            pytest.fail(f"{model._meta.label}.{field.name} is unique across tenants")
    for fields in model._meta.unique_together:
        assert "storefront" in fields, f"{model._meta.label} unique_together {fields}"
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            assert "storefront" in constraint.fields, (
                f"{model._meta.label} constraint {constraint.name} leaves out storefront"
            )


def test_the_walk_finds_the_tenant_models():
    # Guard against the parametrised tests above passing on an empty list.
    found = {model for model in project_models() if storefront_field(model)}
    assert {Membership, ApiKey, ProviderSecret} <= found


@pytest.mark.django_db
def test_an_unscoped_query_fails_closed(two_storefronts):
    with pytest.raises(UnscopedQueryError):
        list(ApiKey.objects.all())
    with pytest.raises(UnscopedQueryError):
        ApiKey.objects.filter(name="test").count()
    with pytest.raises(UnscopedQueryError):
        ApiKey.objects.get(pk=two_storefronts[0].api_key.pk)
    with pytest.raises(UnscopedQueryError):
        ApiKey.objects.exclude(storefront=two_storefronts[0].storefront).exists()
    with pytest.raises(UnscopedQueryError):
        ApiKey.objects.update(name="x")


@pytest.mark.django_db
def test_scoped_queries_see_only_their_own_storefront(two_storefronts):
    alpha, bravo = two_storefronts
    assert list(ApiKey.objects.for_storefront(alpha.storefront)) == [alpha.api_key]
    assert ApiKey.objects.for_storefront(alpha.storefront).filter(pk=bravo.api_key.pk).count() == 0
    assert list(alpha.storefront.api_keys.all()) == [alpha.api_key]
    assert ApiKey.unscoped.count() == 2


@pytest.mark.django_db
def test_selectors_keep_users_keys_and_secrets_apart(two_storefronts):
    alpha, bravo = two_storefronts
    assert list(storefronts_for_user(user=alpha.owner)) == [alpha.storefront]
    assert list(storefronts_for_user(user=bravo.owner)) == [bravo.storefront]
    assert list(api_keys(storefront=alpha.storefront)) == [alpha.api_key]
    assert active_provider_secrets(storefront=alpha.storefront, provider="stripe") == [
        "whsec_alphaalphaalphaalpha"
    ]
    assert active_provider_secrets(storefront=bravo.storefront, provider="stripe") == [
        "whsec_bravobravobravobravo"
    ]
