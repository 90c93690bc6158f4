"""Local-development secrets (DESIGN §5): made at random the first time they are needed
and kept under var/secrets/ (or $SECRETS_DIR), one file each, readable by this user only.
Nothing usable is fixed in the repository (config.yaml leaves them empty); a person or a
script that must type one reads it from its file (`admin.totp`: the demo admin's TOTP
secret, base32). `federation.client_secret` is auth's secret at the registration system
(its stand-in, dev/registration_standin, knows it too).

    python -m dev.secrets COMMAND ...    runs COMMAND with the local secrets in its
                                         environment (e.g. auth's bootstrap-admin)
"""
import base64
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def secrets_dir():
    return Path(os.environ.get("SECRETS_DIR") or ROOT / "var" / "secrets")


def local_secret(name, make):
    """The secret stored as `name`, made with `make()` and stored the first time."""
    folder = secrets_dir()
    path = folder / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = make()
    # Exclusive create: of two first runs at once, one writes and both read its value.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def registration_client_secret():
    return local_secret("registration-system.client_secret", lambda: secrets.token_urlsafe(32))


def federation_client_secret():
    """auth's client secret at the registration system (its stand-in locally)."""
    return local_secret("federation.client_secret", lambda: secrets.token_urlsafe(32))


def standin_env():
    """What the registration system's stand-in reads from the environment."""
    return {"FEDERATION_CLIENT_SECRET": federation_client_secret(),
            "REGISTRATION_SYSTEM_SECRET": registration_client_secret(),
            "STANDIN_SECRET_KEY": local_secret("registration-standin.key", _token)}


def _token():
    return secrets.token_urlsafe(32)


def s3_keys():
    """{identity: (access key, secret key)} of the local S3 server (dev/servers.py)."""
    return {"materials": ("dev-materials", local_secret("s3.materials", _token)),
            "review": ("dev-review", local_secret("s3.review", _token))}


def services_env():
    """The secrets the services read from the environment (config.yaml), for `make run`,
    the test systems and the tests' own config."""
    keys = s3_keys()
    return {
        "SERVICE_CLIENT_SECRET": local_secret("service.client_secret", _token),
        "PII_ENCRYPTION_KEY": local_secret("pii.encryption_key", lambda: base64.b64encode(os.urandom(32)).decode()),
        "PII_HASH_KEY": local_secret("pii.hash_key", _token),
        "S3_ACCESS_KEY": keys["materials"][0], "S3_SECRET_KEY": keys["materials"][1],
        "S3_READ_ACCESS_KEY": keys["review"][0], "S3_READ_SECRET_KEY": keys["review"][1],
        "REGISTRATION_SYSTEM_SECRET": registration_client_secret(),
        "NOTIFY_CURSOR_KEYS": local_secret("notify.cursor_key", _token),
        "FEDERATION_CLIENT_SECRET": federation_client_secret(),
    }


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m dev.secrets COMMAND [ARGS...]")
    os.execvpe(sys.argv[1], sys.argv[1:], dict(os.environ, **services_env()))
