"""The email backend of bench/first_email.py: it sends nothing, and records when each email was
handed to it, for the benchmark to read from another process.

    EMAIL_BACKEND=bench.email_backend.RecordingBackend AFTERSALE_BENCH_EMAIL_LOG=/tmp/sent.jsonl

For each email, one JSON line appended to the file AFTERSALE_BENCH_EMAIL_LOG names: the time it
was handed over (time.time(), the clock the benchmark's client reads too: one machine), the
message (its X-Aftersale-Message header), its kind (its tag) and the Celery task that handed it
over (notifications.tasks.send_now, enqueued on commit, or send_due_messages, the beat tick).
The worker's processes append to one file: each line is one write() of a file opened for
appending, so lines do not interleave.
"""

import json
import os
import time

from django.core.mail.backends.base import BaseEmailBackend


class RecordingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        from celery import current_task

        handed_at = time.time()
        task = current_task.name if current_task else ""
        lines = "".join(
            json.dumps(
                {
                    "at": handed_at,
                    "message": int(email.extra_headers["X-Aftersale-Message"]),
                    "kind": (getattr(email, "tags", None) or [""])[0],
                    "task": task,
                }
            )
            + "\n"
            for email in email_messages
        )
        with open(os.environ["AFTERSALE_BENCH_EMAIL_LOG"], "a", encoding="utf-8") as log:
            log.write(lines)
        return len(email_messages)
