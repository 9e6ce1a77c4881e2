from django.apps import AppConfig


class StorefrontSettingsConfig(AppConfig):
    name = "storefront_settings"
    verbose_name = "Storefronts"

    def ready(self):
        # Connects the receivers that empty the webhook edge's cache when a secret changes.
        from storefront_settings import edge_cache  # noqa: F401
