"""Who calls in over HTTP: WeChat (the webhook), staff (the console), other systems (the API)."""
