"""The outbox's verbs, one module per use case: the only way other apps use notifications.

outbox: schedule, cancel and change what is not sent yet; sending: hand what is due to the
email backend, and ops' resend and cancel; suppressions: the addresses not to write to.
"""
