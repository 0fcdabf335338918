"""Prefect tasks: thin wrappers over leadrouter calls that add retries, tags, logging and artifacts."""
