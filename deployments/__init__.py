"""How the flows run: prefect.yaml declares the deployments (read through `spec.py`); `serve.py` serves them for
make run, `worker.py` is the warm worker, `webhooks.py` the receiver that triggers route-inbound."""
