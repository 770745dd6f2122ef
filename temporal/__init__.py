"""Temporal server-side setup: the embedded dev server, search attributes, namespace and dynamic config."""
