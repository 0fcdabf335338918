"""Prefect blocks: credentials and settings that build core objects. Register with `prefect block register -m blocks`."""

from blocks.router_settings import RouterSettings

__all__ = ["RouterSettings"]
