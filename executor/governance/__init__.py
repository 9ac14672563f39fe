"""The controls a data platform team asks for before the whole company may ask: spend
limits, each person's own warehouse identity, a record of every statement, a cost guard."""
