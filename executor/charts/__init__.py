"""Charts, split by reason to change: `spec` (what is asked for; standard library only),
`plan` (checks, top-N, the kind drawn; pandas) and `draw` (matplotlib). Import the module
you need: only `draw` loads matplotlib, and bot/ never loads it."""
