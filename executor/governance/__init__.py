"""Governance: the controls a data platform team asks for before a company-wide assistant
goes live (spend limits and the spend ledger they read)."""
