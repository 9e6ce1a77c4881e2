# Transitional: the module is split by use case in the next commit.
from notifications.services.sending import *  # noqa: F403
