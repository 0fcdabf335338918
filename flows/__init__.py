"""Prefect flows. Each reads like its pipeline's stage list."""
