from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from notifications import events  # noqa: F401 - connects the anymail tracking receiver
