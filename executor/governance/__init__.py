"""Governance: the controls a data platform team asks for before a whole company may reach
the bot: spend limits and the ledger they read (`budgets`, `spend`, `report`), whose
database identity a question runs as (`identity`, `credentials`, `per_user`), and a record
of every statement (`audit_record`, `audit_trail`, `audit_stores`, `audited`)."""
