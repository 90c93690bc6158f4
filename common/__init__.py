"""Building blocks every service imports: errors, events and the outbox, reliable
event handlers, token verification, HTTP/RPC entrypoints, config and adapters.

Kept small on purpose: anything domain-specific belongs to a service."""
