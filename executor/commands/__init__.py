"""Subcommands of the `databot` command line, one module each."""
