"""Mulin's scheduler process: outbox drain, notices, follow-ups, reminders (one instance works at a time)."""
