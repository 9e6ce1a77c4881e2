"""GET /healthz: is this process able to reach its database and its broker?

The answer's keys and status codes are what load balancers and docs/architecture.md expect;
`?detail=1` adds the count of inbound events failed for ops (one count on a partial index).
An outage is logged once when this process first sees it and once when it ends (inbound.outage),
not on every probe."""

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app
from inbound import outage
from inbound.selectors import failed_event_count

BROKER_TIMEOUT_SECONDS = 2
DATABASE = outage.Outage("database")


def database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        DATABASE.failed(error)
        return "down"
    DATABASE.succeeded()
    return "up"


def broker_state() -> str:
    # Probed on every request, outage or not: the answer is about now, and a refused connection
    # costs a millisecond. Only the logging is once per outage.
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as error:  # noqa: BLE001 - any failure to reach the broker means down
        outage.BROKER.failed(error)
        return "down"
    outage.BROKER.succeeded()
    return "up"


@never_cache
@require_GET
def healthz(request):
    checks = {"database": database_state(), "broker": broker_state()}
    healthy = all(state == "up" for state in checks.values())
    answer = {"status": "ok" if healthy else "unavailable", **checks}
    if request.GET.get("detail"):
        answer["failed_events"] = failed_event_count() if checks["database"] == "up" else None
    response = JsonResponse(answer, status=200 if healthy else 503)
    # Django logs every 5xx answer as an error (django.utils.log.log_response), unless marked as
    # logged: this one is the expected answer while a dependency is down, and the outage itself
    # is logged once by inbound.outage, not on every probe.
    response._has_been_logged = True
    return response
