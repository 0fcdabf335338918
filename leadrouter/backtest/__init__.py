"""Backtest: replay a CRM export (leads, deals, owners) through a rulebook, writing nothing: the column map,
the import and cleaning of the export, assignment at each lead's arrival, and the replay's tables."""
