import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# After the settings module is named: config.webhook_stack reads settings when it builds.
from config.webhook_stack import wsgi_application  # noqa: E402

# /webhooks/ is served with a shorter middleware stack (config/webhook_stack.py).
application = wsgi_application()
