"""The chat side of databot: Slack listeners, jobs, rendering and replies.

Imported by the ingress Lambda on a cold start, so nothing here may import pandas,
matplotlib, duckdb, redshift_connector or anything else slow.
"""
