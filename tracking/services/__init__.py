"""The tracking app's verbs, one module per use case: shipments (create, correct), ingest (carrier
news applied), milestones (the buyer's emails), links (the buyer's tracking page), watch (stalled
and late flagged). Callers import the module they need; nothing is re-exported here."""
