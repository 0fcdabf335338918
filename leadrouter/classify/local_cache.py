"""Which local model routing uses, and where it is kept: the one retrained from routed history, else the shipped
default, trained on synthetic history the first time it is needed and cached under a digest of the code that
trains it."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import logging
from pathlib import Path

from leadrouter import warm
from leadrouter.classify.local import DEFAULT_LEADS, DEFAULT_SEED, VERSION, LocalModel

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).parents[1]
TRAINING_CODE = ("classify", "sandbox", "validate", "enrich", "fields.py", "schema.py")


def trained_path(cache_dir: Path | str) -> Path:
    """Where `leadrouter model train` keeps a model retrained from routed history."""
    return Path(cache_dir) / f"{VERSION}-trained.joblib"


def default_model(cache_dir: Path | str) -> LocalModel:
    """The model retrained from routed history when there is one; else the shipped default, trained on
    synthetic history once and then loaded from cache_dir."""
    trained = trained_path(cache_dir)
    if trained.exists():
        try:
            return warm.load_file("local-model", trained, LocalModel.load)
        except Exception as exc:  # an unreadable retrained model must not stop routing
            log.warning("ignoring %s: %s", trained, exc)
    recipe = f"{VERSION}:{DEFAULT_SEED}:{DEFAULT_LEADS}:{training_code()}"
    key = hashlib.sha256(recipe.encode()).hexdigest()[:10]
    path = Path(cache_dir) / f"{VERSION}-{key}.joblib"
    if path.exists() and (model := _cached(path)):
        return model
    path.parent.mkdir(parents=True, exist_ok=True)
    # make run trains it in a child while the worker starts: a routing run that needs it meanwhile waits for
    # that child's model instead of training a second one on the same cores
    with path.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists() and (model := _cached(path)):
            return model
        model = LocalModel.synthetic()
        model.save(path)
    for stale in set(path.parent.glob(f"{VERSION}-*.joblib")) - {path, trained}:  # cached by older code
        stale.unlink(missing_ok=True)
        stale.with_suffix(".lock").unlink(missing_ok=True)
    return model


@functools.cache
def training_code() -> str:
    """A digest of the code the shipped default is trained by (the generator, validation, enrichment and the
    model's features) and of scikit-learn's version: an upgrade that changes any of them retrains it, where a
    model cached by older code would route differently and nobody would know."""
    import sklearn

    digest = hashlib.sha256(sklearn.__version__.encode())
    for path in sorted(p for name in TRAINING_CODE for p in _sources(PACKAGE / name)):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _sources(path: Path) -> list[Path]:
    return [path] if path.suffix == ".py" else list(path.rglob("*.py"))


def _cached(path: Path) -> LocalModel | None:
    """The cached default model; None when it cannot be loaded (a corrupt or stale file is then replaced: the
    folder itself must be trusted, since loading a model runs its pickle)."""
    try:
        return warm.load_file("local-model", path, LocalModel.load)
    except Exception as exc:
        log.warning("retraining the local model: %s", exc)
        return None
