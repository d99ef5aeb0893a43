"""Payouts: methods, versioned structures, assignments, accruals, payments, idempotency keys and balances."""
