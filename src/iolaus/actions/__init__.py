"""Actions: what a decision sets in motion, written to an outbox in the decision's transaction
and delivered afterwards as signed, retried webhooks (see ``outbox``, ``handlers``, ``webhooks``
and ``dispatcher``)."""
