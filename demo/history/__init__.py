"""Six weeks of Maison Lune's history, for `make demo`, one module per part of it.

seed: the entry points (has_history, wipe, configure, seed_history) and the replay in time
order; timeline: the history being built and its planned steps; sales: failed payments and what
became of them; shipments: parcels and their carriers' updates; outbox: the emails sent when
they fell due, the ESP's news about them, and the addresses never written to; stamps: what
each event inserted, moved back to the event's time. Callers import the module they need;
nothing is re-exported here."""
