"""Amazon Redshift through redshift-connector: `target` (what WAREHOUSE_URL names and how
to authenticate), `connection` (one shared connection, re-opened when it breaks),
`pool` (a few connections for one user, when questions run as the asker) and `adapter`
(the Warehouse on top of them)."""
