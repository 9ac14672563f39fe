"""Monthly values shared by the planning and drawing tests."""

from datetime import date

MONTHS = [(date(2026, m, 1), 100 + m) for m in range(6, 12)]  # Jun..Nov 2026
