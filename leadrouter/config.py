"""Settings, and loading of the YAML files a user edits (rulebook, roster) with errors that name file and line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import AwareDatetime, BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

M = TypeVar("M", bound=BaseModel)

# the example config shipped with the project, used when the working directory has none
PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Where things live. Every field can be set by a LEADROUTER_* environment variable."""

    model_config = SettingsConfigDict(env_prefix="LEADROUTER_")

    store_url: str = "sqlite:///var/leadrouter.db"
    crm: Literal["sandbox", "salesforce", "hubspot"] = "sandbox"
    crm_block: str | None = None  # the SalesforceConnection / HubSpotConnection block holding the credentials
    sandbox_path: Path = Path("var/sandbox.db")
    sandbox_latency_s: float = 0.0  # a delay per sandbox call, to imitate a remote CRM API (benchmarks)
    rulebook_path: Path = PROJECT_ROOT / "config" / "rulebook.yaml"
    roster_path: Path = PROJECT_ROOT / "config" / "roster.yaml"
    territories_path: Path = PROJECT_ROOT / "config" / "territories.yaml"
    fields_path: Path = PROJECT_ROOT / "config" / "fields.yaml"  # custom fields and the required ones
    enrichment_url: str | None = None  # an HTTP firmographics provider; the sandbox's own data when unset
    enrichment_api_key: SecretStr | None = None
    model: Literal["local", "claude", "none"] = "local"  # claude falls back to the local model
    claude_block: str | None = None  # the ClaudeConnection block holding the API key and model settings
    model_dir: Path = PROJECT_ROOT / "var" / "models"  # where the trained local model is cached
    # where the tier of a lead no rule decides comes from: the conversion model's score (cut-offs below) or the
    # model chain's answer; auto: the score when a conversion model is saved in model_dir
    tiers_from: Literal["auto", "scores", "rules+model"] = "auto"
    vip_share: float = Field(0.10, ge=0, le=1)  # scores: at most this share of leads is VIP ...
    standard_share: float = Field(0.30, ge=0, le=1)  # ... and this share Standard (the rest Nurture)
    # what the VIP pools can answer a day within their SLA (default: their reps' max_per_day, when all have
    # one), against leads_per_day arriving: caps vip_share when both are known
    vip_capacity: float | None = Field(None, ge=0)
    leads_per_day: float | None = Field(None, gt=0)
    # VIP in hindsight (leadrouter.outcomes.hindsight, docs/outcome-tables.md): an opportunity within 90 days in
    # the top hindsight_vip_share of won deals by amount, or, when set, worth at least hindsight_vip_amount
    hindsight_vip_share: float = 0.2
    hindsight_vip_amount: float | None = None
    # fields a person confirmed as known at arrival though one alone predicts conversion suspiciously well (ROC
    # AUC 0.90 to 0.95): the conversion model may use them (leadrouter.classify.conversion.leakage)
    allow_fields: list[str] = []
    # the rule report suggests re-tiering a rule only when its conversion is at least this many times its tier's
    # average (or at most its inverse), besides being significant
    retier_min_ratio: float = 1.5
    model_deadline_s: float = 30.0  # the batch never waits on a remote model longer than this
    # leads per batch: each batch pays fixed costs (a GX run, a ledger transaction, a CRM page walk), so a
    # backlog goes fastest in big ones (bench/backlog.py: 100k leads in 76 s, against 117 s in 5,000s)
    batch_size: int = Field(20_000, gt=0)
    lookback_s: float = 120.0  # each run re-reads this much before the watermark, for late-committed saves
    notify_slack_block: str | None = None  # a SlackIncomingWebhook block: owner notifications to a channel
    notify_email_block: str | None = None  # an SmtpEmail block: owner notifications by email
    ack_block: str | None = (
        None  # an SmtpEmail block: off-hours acknowledgements to the lead (off when unset)
    )
    crm_link_template: str | None = (
        None  # e.g. https://acme.lightning.force.com/lightning/r/Lead/{lead_id}/view
    )
    # deal stage names meaning won, lost and still open (the CRM's defaults when unset: leadrouter.outcomes.deals)
    won_stages: list[str] | None = None
    lost_stages: list[str] | None = None
    open_stages: list[str] | None = None
    # assign as if it were this moment (reps' hours, time off, daily caps): for simulations and tests only
    routing_clock: AwareDatetime | None = None

    @field_validator("hindsight_vip_share")
    @classmethod
    def _vip_share(cls, value: float) -> float:
        if not 0 < value <= 1:
            raise ValueError(
                f"LEADROUTER_HINDSIGHT_VIP_SHARE is {value!r}: set a share above 0 and at most 1 (0.2: the top 20% "
                "of won deals by amount make a VIP)"
            )
        return value

    @field_validator("hindsight_vip_amount")
    @classmethod
    def _vip_amount(cls, value: float | None) -> float | None:
        if value is not None and value < 0:
            raise ValueError(
                f"LEADROUTER_HINDSIGHT_VIP_AMOUNT is {value!r}: set an amount of 0 or more (a deal at least this "
                "big makes a VIP), or unset it to use the share"
            )
        return value

    @field_validator("retier_min_ratio")
    @classmethod
    def _min_ratio(cls, value: float) -> float:
        if not value >= 1:
            raise ValueError(
                f"LEADROUTER_RETIER_MIN_RATIO is {value!r}: set a ratio of 1 or more (1.5: a rule converting at "
                "least 1.5 times its tier's average, or at most 1/1.5 of it, can be suggested to move; 1: any "
                "significant difference)"
            )
        return value

    @field_validator("routing_clock")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.astimezone(UTC) if value else value


class ConfigError(ValueError):
    """A config file is wrong; the message names the file, the line and the field."""

    def __init__(self, path: Path | str, line: int | None, field: str, message: str) -> None:
        self.path, self.line, self.field = str(path), line, field
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


class ConfigErrors(ConfigError):
    """Several problems in one config file, each a ConfigError with its line, one per line of the message;
    located at the first."""

    def __init__(self, errors: list[ConfigError]) -> None:
        first = errors[0]
        self.errors = errors
        ValueError.__init__(self, "\n".join(str(e) for e in errors))
        self.path, self.line, self.field = first.path, first.line, first.field


def raise_all(errors: list[ConfigError]) -> None:
    """Raise the one error, or all of them at once (ConfigErrors); nothing if there are none."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)


def load_yaml_model(path: Path | str, model: type[M], context: dict[str, Any] | None = None) -> M:
    """Parse a YAML file into `model`, turning every problem into a ConfigError at its line; `context` goes to
    the model's validators (the custom fields a rulebook may name)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, None, "", f"cannot read the file ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(text) or {}
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(path, mark.line + 1 if mark else None, "", f"invalid YAML: {exc}") from exc
    try:
        loaded = model.model_validate(data, context=context)
    except ValidationError as exc:
        found = [(tuple(e["loc"]), e["msg"].removeprefix("Value error, ")) for e in exc.errors()]
        # checks that need only the file's text (a key naming nothing) are listed with the rest, not after
        found += getattr(model, "raw_problems", lambda _data, _context: [])(data, context)
        raise_all([ConfigError(path, line_of(root, loc), dotted(loc), message) for loc, message in found])
    # checks across fields (a pool naming an unknown rep) report their own location
    problems = getattr(loaded, "problems", lambda: [])()
    raise_all([ConfigError(path, line_of(root, loc), dotted(loc), message) for loc, message in problems])
    return loaded


def line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc` (a pydantic error location), or of its nearest parent."""
    node, line = root, (root.start_mark.line + 1 if root else None)
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def dotted(loc: tuple[Any, ...]) -> str:
    """('rules', 3, 'tier') -> 'rules[3].tier'."""
    out = ""
    for key in loc:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out
