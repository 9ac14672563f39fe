"""The plain HTTP API for clients other than chat."""
