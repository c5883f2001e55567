"""Every write in the domain goes through a service here: keyword-only, in a transaction, audited."""
