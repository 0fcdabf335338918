"""The deployments, declared once in prefect.yaml. `prefect deploy --all` reads the file for work pools and
workers; `make run` (serve.py), the webhook receiver's trigger and the tests read it through this module."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from prefect import Flow
from prefect.client.schemas.objects import ConcurrencyLimitConfig
from prefect.events import DeploymentTriggerTypes
from prefect.schedules import Cron, Interval, Schedule
from pydantic import TypeAdapter

PREFECT_YAML = Path(__file__).resolve().parents[1] / "prefect.yaml"


@dataclass(frozen=True)
class Declared:
    """One deployment of prefect.yaml."""

    name: str
    entrypoint: str  # flows/route_inbound.py:route_inbound
    description: str
    schedules: list[Schedule]
    concurrency_limit: ConcurrencyLimitConfig | None
    triggers: list[DeploymentTriggerTypes]
    parameters: dict[str, Any]
    tags: list[str]  # its runs carry them: `live` or `simulated`

    def flow(self) -> Flow:
        """The flow, imported as a module of this project (flows.route_inbound), not loaded from its path."""
        path, _, name = self.entrypoint.partition(":")
        return getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), name)


def declared(path: Path = PREFECT_YAML) -> list[Declared]:
    """Every deployment the file declares, in its order."""
    spec = yaml.safe_load(path.read_text())
    return [_declared(entry) for entry in spec["deployments"]]


def declared_as(name: str, path: Path = PREFECT_YAML) -> Declared:
    """The deployment named `name` (route-new-leads, enforce-response-sla, …)."""
    found = [d for d in declared(path) if d.name == name]
    if not found:
        raise KeyError(f"{path} declares no deployment named {name!r}")
    return found[0]


def _declared(entry: dict[str, Any]) -> Declared:
    limit = entry.get("concurrency_limit")
    return Declared(
        name=entry["name"],
        entrypoint=entry["entrypoint"],
        description=entry.get("description", ""),
        schedules=[_schedule(s) for s in entry.get("schedules") or []],
        concurrency_limit=ConcurrencyLimitConfig(**limit) if isinstance(limit, dict) else _limit(limit),
        triggers=TypeAdapter(list[DeploymentTriggerTypes]).validate_python(entry.get("triggers") or []),
        parameters=entry.get("parameters") or {},
        tags=list(entry.get("tags") or []),
    )


def _schedule(entry: dict[str, Any]) -> Schedule:
    """A schedule as prefect.yaml writes it: `interval` (seconds) or `cron`, with the same options as Prefect's."""
    options = {k: v for k, v in entry.items() if k not in {"interval", "cron"}}
    if "interval" in entry:
        return Interval(entry["interval"], **options)
    if "cron" in entry:
        return Cron(entry["cron"], **options)
    raise ValueError(f"prefect.yaml: a schedule needs an interval or a cron, not {entry}")


def _limit(limit: int | None) -> ConcurrencyLimitConfig | None:
    return None if limit is None else ConcurrencyLimitConfig(limit=limit)
