"""Microsoft Teams: the front door (token validation, activities, the ingress) and the
worker's delivery (the Bot Connector client, Adaptive Cards, the outbox)."""
