"""The conversion model: P(an opportunity within 90 days) learnt from the company's own outcomes, proven out of
time (features, model, reasons, leakage, proof, baselines, learn, tiers)."""
