"""The plain HTTP API for clients other than chat, and the record channel its jobs are
answered through."""
