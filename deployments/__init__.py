"""How the flows run: `serve.py` for one process (make run), prefect.yaml for work pools."""
