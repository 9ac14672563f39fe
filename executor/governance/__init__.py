"""Governance: the controls a data platform team asks for before a whole company may reach
the bot: spend limits and the ledger they read (`budgets`, `spend`, `report`), and whose
database identity a question runs as (`identity`, `credentials`, `per_user`)."""
