"""The connections this installation speaks with: payment providers and tracking sources (and,
with the shop platforms, the platforms).

Each connection is one package (payments/providers/stripe/, tracking/providers/easypost/, …)
that exports CONNECTION, and one line in settings.CONNECTIONS naming that package. Everything
shared reads this registry and names no connection: the webhook edge and its URL, the worker
that processes a stored event, the secrets a storefront may hold and their formats, the
connections page and its test event, create_storefront's list of webhook URLs.

This module sits at the bottom of the layers because the storefront's secrets (here) must know
which connections exist; the packages themselves live in the apps that understand them, and are
imported by their dotted path, as Django imports INSTALLED_APPS.
"""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver


@dataclass(frozen=True)
class SecretFormat:
    """What the connection's signing secret looks like, from the provider's documentation, and
    how to say so. A value that does not match is refused at entry rather than failing every
    webhook later."""

    pattern: re.Pattern[str]
    expected: str  # e.g. "expected 'whsec_' followed by the signing key"

    def accepts(self, value: str) -> bool:
        return self.pattern.fullmatch(value) is not None


@dataclass(frozen=True)
class Guide:
    """What a merchant does in the provider's own dashboard to connect it to us (the
    connections page's words)."""

    where: str  # where the webhook URL goes
    events: tuple[str, ...]  # which events to select there
    secret: str  # where the signing secret comes from
    # How to test the whole path, for a connection whose test event can prove only that the
    # URL answers (one that fetches each payment with an API key: the fetch needs a payment
    # made in the provider's test mode). Empty: the test event proves it all.
    test: str = ""


@dataclass(frozen=True)
class Connection:
    """One connection, as its package declares it."""

    key: str  # the URL segment (/webhooks/<key>/…), and the provider stored with its rows
    label: str
    secret_format: SecretFormat
    guide: Guide
    # An inbound.edge.WebhookAdapter (a layer above this one, so not named here): it verifies
    # and splits a delivery at the edge, and processes a stored event in the worker.
    adapter: Any
    # (storefront, secret, now) -> inbound.edge.SignedRequest: the "send test event" button's
    # sample, signed as the provider signs, which the adapter verifies and then sets aside.
    test_event: Callable[..., Any]


@functools.cache
def _registry() -> dict[str, Connection]:
    found: dict[str, Connection] = {}
    for path in settings.CONNECTIONS:
        connection = getattr(import_module(path), "CONNECTION", None)
        if not isinstance(connection, Connection):
            raise ImproperlyConfigured(f"{path} has no CONNECTION (settings.CONNECTIONS)")
        if connection.key in found:
            raise ImproperlyConfigured(f"two connections are called {connection.key!r}")
        found[connection.key] = connection
    return found


@receiver(setting_changed)
def _forget(*, setting, **kwargs):
    if setting == "CONNECTIONS":
        _registry.cache_clear()


def all_connections() -> list[Connection]:
    """Every connection, in settings order (the connections page's order)."""
    return list(_registry().values())


def known_keys() -> list[str]:
    return list(_registry())


def find(key: str) -> Connection | None:
    return _registry().get(key)


def get(key: str) -> Connection:
    """The connection called `key`; LookupError when there is none (a removed connection's
    stored event, say: the worker records the error for ops)."""
    connection = _registry().get(key)
    if connection is None:
        raise LookupError(f"no connection called {key!r} (settings.CONNECTIONS)")
    return connection


def choices() -> list[tuple[str, str]]:
    """The `provider` fields' choices: a callable, so that a new connection needs no migration."""
    return [(connection.key, connection.label) for connection in _registry().values()]
