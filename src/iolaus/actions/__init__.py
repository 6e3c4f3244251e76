"""Actions: what a decision sets in motion. ``kinds`` registers what a decision can order (each
kind's targets, local effects and DSA wording); ``enqueue`` writes a recorded decision's actions
to the ``outbox`` in its transaction; the ``dispatcher`` delivers them afterwards through a
registered ``transports`` entry (signed, retried ``webhooks`` today)."""
