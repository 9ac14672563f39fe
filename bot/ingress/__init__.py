"""Plumbing every front door shares: HTTP events, exactly-once handling, the jobs queue,
and the doors a developer runs locally."""
