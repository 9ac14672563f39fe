"""Warehouse adapters (DuckDB, Redshift) behind one interface, and the SQL guard."""
