from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        # Registers the start-up checks.
        from payments import checks  # noqa: F401
