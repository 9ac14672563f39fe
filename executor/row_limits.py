"""Every cap on how many rows of a result are held or shown, named in one place.

A query's rows are fetched up to a cap by `executor.warehouse.guarded.run_guarded`, the one
place that counts the rows past it. The answer's table preview, PREVIEW_ROWS, is part of
the Answer contract (bot/answer.py), so the chat renderers read the same number.
"""

from __future__ import annotations

# Rows an agent query keeps for charts, Python and the answer's table; the rest are counted.
KEEP_ROWS = 10_000
# Rows of a query result shown to the model: enough to read the answer, few enough to keep
# the prompt small.
MODEL_ROWS = 50
# Rows a verified query fetches for its chart; every entry aggregates, so this is far above
# any result.
VERIFIED_ROWS = 5_000
# Rows a verified entry's fingerprint covers (executor/verified/fingerprint.py): its
# result is compared whole up to here.
FINGERPRINT_ROWS = 10_000
# Rows `databot sql` shows unless --max-rows says otherwise.
COMMAND_ROWS = 20
