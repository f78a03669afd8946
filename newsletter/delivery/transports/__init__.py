"""Transports: what the sender hands over (`Outgoing`), the outbox folder and SMTP."""
