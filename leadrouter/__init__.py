"""leadrouter: a self-hosted inbound lead router. The core package; it never imports Prefect."""

__version__ = "0.1.0"
