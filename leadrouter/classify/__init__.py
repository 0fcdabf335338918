"""Classification: the rulebook first, a model for what no rule resolves, review when unsure."""
