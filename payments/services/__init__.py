# Transitional: the module is split by use case in the next commit.
from payments.services.ingest import *  # noqa: F403
