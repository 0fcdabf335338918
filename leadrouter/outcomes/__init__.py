"""The 90-day outcome loop's logic: each decision joined to the deal it became, the analyst tables, the
feedback that relabels rules and retrains the model, and the HTML report. Reads and writes go through store/."""
