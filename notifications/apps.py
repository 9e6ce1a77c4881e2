from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        # Connects the anymail tracking receiver, and registers the start-up checks.
        from notifications import checks, events  # noqa: F401
