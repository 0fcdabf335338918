"""Validation: the Great Expectations suite, the checked copy it runs on, the per-value checks and the
vocabularies. Bad rows are quarantined with reasons, never dropped."""
