"""Settings declared once: each key with its place in the config, its type, its default
and its bounds, in one frozen dataclass per service (`services/<name>/settings.py`), the
only reader of the config dict (Warehouse's config.py does this for PyPI).

    @dataclass(frozen=True)
    class ReviewSettings:
        lease_s: float = setting("REVIEW.LEASE_S", float, 900.0, minimum=1.0)

    settings = load(ReviewSettings, self.container.config)

config.yaml (nameko's file, `${VAR:default}` from the environment) says which variable
sets a key; a key it leaves out or empty takes the default declared here. A value of the
wrong type stops the service at start with the key's name, rather than failing a request
later; a value outside the bounds is brought inside them (a lease of 0 s is 1 s)."""
from dataclasses import MISSING, field, fields

from common.config import as_bool


class SettingError(ValueError):
    """A configured value that cannot be read as its key's type."""


def setting(path, kind, default, *, minimum=None, maximum=None):
    """A dataclass field read from the config at `path` ("SECTION.KEY", dots for nesting)."""
    return field(default=default, metadata={"path": path, "kind": kind, "minimum": minimum,
                                            "maximum": maximum})


def load(cls, config):
    """An instance of the settings dataclass `cls` from the (nameko) config dict."""
    values = {}
    for spec in fields(cls):
        meta = spec.metadata
        if "path" not in meta:
            continue
        raw = lookup(config, meta["path"])
        if raw is None or raw == "":
            continue
        values[spec.name] = _bounded(_convert(raw, meta["kind"], meta["path"]), meta)
    return cls(**values)


def lookup(config, path):
    value = config
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def declared(cls):
    """{path: default} of every key `cls` reads (for documentation and tests)."""
    return {spec.metadata["path"]: (spec.default if spec.default is not MISSING else None)
            for spec in fields(cls) if "path" in spec.metadata}


def _convert(raw, kind, path):
    try:
        if kind is bool:
            return as_bool(raw)
        if kind is tuple:
            items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
            return tuple(str(item).strip() for item in items if str(item).strip())
        return kind(raw)
    except (TypeError, ValueError):
        raise SettingError(f"{path} must be {kind.__name__}, not {raw!r}") from None


def _bounded(value, meta):
    if meta["minimum"] is not None:
        value = max(value, meta["minimum"])
    if meta["maximum"] is not None:
        value = min(value, meta["maximum"])
    return value
