"""The agent's tools: one module per tool, each with its Bedrock `SPEC` beside its code."""
