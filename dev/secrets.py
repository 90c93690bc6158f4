"""Local-development secrets (DESIGN §5): made at random the first time they are needed
and kept under var/secrets/ (or $SECRETS_DIR), one file each, readable by this user only.
Nothing usable is fixed in the repository; a person or a script that must type one reads
it from its file (`admin.totp`: the demo admin's TOTP secret, base32)."""
import os
import secrets
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


def services_env():
    """The secrets the services read from the environment (config.yaml), for `make run`
    and the test systems."""
    return {"REGISTRATION_SYSTEM_SECRET": registration_client_secret()}
