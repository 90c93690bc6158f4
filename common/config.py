"""Config helpers: the same YAML file `nameko run --config` reads, with ${VAR:default}
substitution, for command-line tools and tests that run outside `nameko run`."""
import os
from functools import partial

import yaml
from nameko.cli.main import IMPLICIT_ENV_VAR_MATCHER, env_var_constructor


class ConfigLoader(yaml.SafeLoader):
    """yaml's SafeLoader with nameko's ${VAR:default} substitution, on a class of its own.
    nameko's setup_yaml_parser() registers the substitution on yaml.SafeLoader itself, and
    then every later yaml.safe_load in the process substituted too: the deploy checks,
    reading docker-compose.yml after a test had loaded config.yaml, saw `${VAR:?...}`
    replaced by whatever this machine's environment held."""


ConfigLoader.add_constructor("!env_var", env_var_constructor)
ConfigLoader.add_constructor("!raw_env_var", partial(env_var_constructor, raw=True))
ConfigLoader.add_implicit_resolver("!env_var", IMPLICIT_ENV_VAR_MATCHER, None)


def load_config(path=None):
    """Load the nameko config file with environment overrides applied."""
    path = path or os.environ.get("EXAM_CONFIG", "config.yaml")
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=ConfigLoader)  # noqa: S506 - a SafeLoader subclass


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
