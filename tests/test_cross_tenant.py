"""Every dashboard and API URL, walked as Alpha with Bravo's slug and ids: 404 each time.

The URL patterns are read from the resolver, so a new page is walked the day it is added; its
objects must be named in OBJECTS below, or the walk fails and says so."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from notifications.models import Message, Suppression
from payments.models import LostSale
from payments.services import ingest
from storefront_settings.models import ApiKey, AuditLog, Invitation, Membership, ProviderSecret
from storefront_settings.services import members
from tests.factories import SuppressionFactory
from tests.payments_helpers import signal
from tracking.models import Shipment
from tracking.services import shipments

# The model behind each URL name's <pk>, by the name's longest matching prefix.
OBJECTS = {
    "lost-sale": LostSale,
    "stop-sequence": LostSale,
    "message": Message,
    "shipment": Shipment,
    "suppression": Suppression,
    "settings-api-keys": ApiKey,
    "settings-providers": ProviderSecret,
    "settings-members": Membership,
    "settings-invitation": Invitation,
    "settings-audit": AuditLog,
}
# Other path parameters and the value each is walked with.
PARAMETERS = {"provider": "stripe"}
# Dashboard names a viewer may POST to: their own preferences and their own second factor,
# nothing of the storefront's.
VIEWER_MAY_POST = {
    "settings-alerts",
    "settings-two-factor-start",
    "settings-two-factor-confirm",
    "settings-two-factor-verify",
    "settings-two-factor-codes",
    "settings-two-factor-off",
}


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, route, inner)
        elif isinstance(entry, URLPattern):
            yield route, namespace + (entry.name or "")


def routes(start: str):
    """(route, name) for every URL under `start`, in the resolver's own syntax."""
    return [(r, n) for r, n in _walk(get_resolver().url_patterns) if r.startswith(start)]


def _model_for(name: str):
    short = name.split(":")[-1]
    matches = [prefix for prefix in OBJECTS if short.startswith(prefix)]
    if not matches:
        pytest.fail(f"{name} takes an id: name its model in OBJECTS")
    return OBJECTS[max(matches, key=len)]


def fill(route: str, name: str, slug: str, objects) -> str:
    """A concrete path for a route: <slug> and ids from `objects` (model -> instance)."""

    def value(parameter: str) -> str:
        if parameter == "slug":
            return slug
        if parameter == "pk":
            return str(objects[_model_for(name)].pk)
        if parameter in PARAMETERS:
            return PARAMETERS[parameter]
        pytest.fail(f"{name}: no value to walk <{parameter}> with; add it to PARAMETERS")

    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: value(m.group(1)), route)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: value(m.group(1)), path)
    return "/" + path.replace("^", "").replace("$", "")


def every_object(tenant):
    """One row of every model a URL can name, owned by this tenant."""
    storefront = tenant.storefront
    ingest.apply_signal(
        storefront=storefront, signal=signal(order_reference=f"{tenant.storefront.slug}-1")
    )
    shipment = shipments.create_shipment(
        storefront,
        shipments.NewShipment(
            order_reference=f"{storefront.slug}-2",
            buyer_email=f"buyer@{storefront.slug}.example",
            tracking_number="6A12345678901",
        ),
    )
    SuppressionFactory(storefront=storefront, email=f"gone@{storefront.slug}.example")
    invited = members.invite_member(
        storefront=storefront, email=f"invited@{storefront.slug}.example", role="staff"
    )
    return {
        LostSale: LostSale.objects.for_storefront(storefront).get(),
        Message: Message.objects.for_storefront(storefront).first(),
        Shipment: shipment,
        Suppression: Suppression.objects.for_storefront(storefront).get(),
        ApiKey: tenant.api_key,
        ProviderSecret: tenant.stripe_secret,
        Membership: tenant.membership,
        Invitation: invited.invitation,
        AuditLog: AuditLog.objects.for_storefront(storefront).first(),
    }


@pytest.fixture
def worlds(two_storefronts):
    alpha, bravo = two_storefronts
    return alpha, every_object(alpha), bravo, every_object(bravo)


@pytest.mark.django_db
def test_every_dashboard_url_is_404_with_another_storefronts_slug_or_ids(client, worlds):
    alpha, mine, bravo, theirs = worlds
    client.force_login(alpha.owner)
    pages = routes("app/<slug:slug>/")
    assert len(pages) > 20, "the walk found too few dashboard pages"
    for route, name in pages:
        for slug, objects in [("bravo", theirs), ("alpha", theirs), ("no-such-shop", mine)]:
            if slug == "alpha" and "<int:pk>" not in route:
                continue  # nothing of Bravo's in the path
            path = fill(route, name, slug, objects)
            for method in (client.get, client.post):
                status = method(path).status_code
                # A POST-only page answers GET with 405 before looking anything up.
                assert status in (404, 405), f"{method.__name__.upper()} {path} ({name}): {status}"
                if method is client.post:
                    assert status == 404, f"POST {path} ({name}): {status}"


@pytest.mark.django_db
def test_every_api_url_is_404_with_another_storefronts_ids(client, worlds):
    alpha, mine, bravo, theirs = worlds
    auth = {"HTTP_AUTHORIZATION": f"Bearer {alpha.raw_api_key}"}
    endpoints = [(r, n) for r, n in routes("api/v1/") if "(?P<pk>" in r]
    assert len(endpoints) >= 4, "the walk found too few API endpoints with an id"
    for route, name in endpoints:
        path = fill(route, name, "", theirs)
        statuses = {
            method: getattr(client, method)(path, content_type="application/json", **auth)
            for method in ("get", "post", "patch", "put", "delete")
        }
        codes = {method: response.status_code for method, response in statuses.items()}
        assert set(codes.values()) <= {404, 405} and 404 in codes.values(), f"{path}: {codes}"
        # Alpha's own object answers: the 404s above are Bravo's object, not a broken route.
        own = fill(route, name, "", mine)
        method = "get" if codes["get"] == 404 else "post"
        assert getattr(client, method)(own, **auth).status_code != 404, f"{method} {own}"


@pytest.mark.django_db
def test_the_api_lists_never_show_another_storefronts_rows(client, worlds):
    alpha, mine, bravo, theirs = worlds
    auth = {"HTTP_AUTHORIZATION": f"Bearer {alpha.raw_api_key}"}
    lists = [(r, n) for r, n in routes("api/v1/") if "(?P<" not in r and "<" not in r]
    for route, name in lists:
        body = client.get(fill(route, name, "", mine), **auth).content.decode()
        assert "Bravo" not in body and "bravo-1" not in body, name


@pytest.mark.django_db
def test_a_viewer_gets_403_on_every_post(client, worlds):
    alpha, mine, _, _ = worlds
    alpha.membership.role = Membership.Role.VIEWER
    alpha.membership.save()
    client.force_login(alpha.owner)
    before = AuditLog.objects.for_storefront(alpha.storefront).count()
    pages = routes("app/<slug:slug>/")
    for route, name in pages:
        if name.split(":")[-1] in VIEWER_MAY_POST:
            continue
        path = fill(route, name, "alpha", mine)
        assert client.post(path).status_code == 403, f"POST {path} ({name})"
    assert AuditLog.objects.for_storefront(alpha.storefront).count() == before


@pytest.mark.django_db
def test_every_dashboard_post_needs_the_csrf_token(worlds):
    from django.test import Client

    alpha, mine, _, _ = worlds
    client = Client(enforce_csrf_checks=True)
    client.force_login(alpha.owner)
    before = AuditLog.objects.for_storefront(alpha.storefront).count()
    for route, name in routes("app/<slug:slug>/"):
        path = fill(route, name, "alpha", mine)
        assert client.post(path).status_code == 403, f"POST {path} ({name}) without a token"
    assert client.post("/logout/").status_code == 403
    assert AuditLog.objects.for_storefront(alpha.storefront).count() == before
