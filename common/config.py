"""Config helpers: the same YAML file `nameko run --config` reads, with ${VAR:default}
substitution, for command-line tools and tests that run outside `nameko run`."""
import os

import yaml

_parser_ready = False


def load_config(path=None):
    """Load the nameko config file with environment overrides applied."""
    global _parser_ready
    if not _parser_ready:
        from nameko.cli.main import setup_yaml_parser
        setup_yaml_parser()
        _parser_ready = True
    path = path or os.environ.get("EXAM_CONFIG", "config.yaml")
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def section(config, name):
    """One top-level section (`MONGO`, `S3`, ...), failing loudly when absent."""
    try:
        return config[name]
    except KeyError:
        raise KeyError(f"config section {name!r} is missing") from None


def db_name(config, service):
    """Each service owns database `<prefix><service>`; tests isolate by prefix."""
    prefix = section(config, "MONGO").get("DB_PREFIX") or ""
    if prefix == "none":
        prefix = ""
    return f"{prefix}{service}"


def as_bool(value):
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")
