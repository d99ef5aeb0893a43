"""The REST API at /api/v1: one module per resource over the domain, plus envelope, errors, idempotency."""
