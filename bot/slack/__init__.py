"""Slack: the Bolt app and listeners, request checks, rendering, the replier and delivery."""
