"""Webhooks at the gateway: tenants' hooks, events from the backends' bbb-webhooks mapped to
tenants and filtered for privacy, and the persistent, ordered delivery of callbacks."""
