"""Delivery: the recipients protocol, the per-recipient ledger, the sender and its transports."""
