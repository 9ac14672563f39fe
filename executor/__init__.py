"""The databot worker: queue loop, agent, tools, warehouses, SQL guard, sandbox, artifacts."""
