"""The chat side of databot. At the root, the platform-neutral contracts: jobs and their
reply address, answers, the job store, the delivery protocol (`delivery`); each platform
in its own package (`slack`), shared front-door plumbing in `ingress`, the HTTP API in `api`.

Imported by the ingress Lambda on a cold start, so nothing here may import pandas,
matplotlib, duckdb, redshift_connector or anything else slow.
"""
