from django.apps import AppConfig


class StorefrontSettingsConfig(AppConfig):
    name = "storefront_settings"
    verbose_name = "Storefronts"
