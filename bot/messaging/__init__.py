"""How WeChat messages come and go: stored inbound messages, the burst queue, the outbox, the API gateway,
reply texts."""
