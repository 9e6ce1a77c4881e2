"""API key authentication for the REST API: `Authorization: Bearer <key>`."""

from dataclasses import dataclass

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from storefront_settings.models import ApiKey, Storefront
from storefront_settings.services.credentials import authenticate_api_key


@dataclass(frozen=True)
class StorefrontPrincipal:
    """Who an API request acts for: a storefront, through one of its keys."""

    storefront: Storefront
    api_key: ApiKey
    is_authenticated = True
    is_anonymous = False


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, raw_key = header.partition(" ")
        if scheme != self.keyword:
            return None
        api_key = authenticate_api_key(raw_key.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return StorefrontPrincipal(api_key.storefront, api_key), api_key

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes the API key to the OpenAPI schema (registered by being defined)."""

    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A storefront's API key: `Authorization: Bearer as_…`.",
        }
