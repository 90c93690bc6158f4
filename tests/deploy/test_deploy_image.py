"""The container image definition and the small programs deploy/ ships (deploy/README.md).

Docker does not run here, so the image is checked as text (stages, pinned bases,
non-root user, what it copies and what the build context lets through), and the
programs that run inside the containers are run here directly:
- deploy/probe.py, the health probe (any-answer liveness vs 200-only readiness, and a
  service that accepts connections but never answers);
- deploy/docker-entrypoint.sh, which maps a service name to its `nameko run` command;
- deploy/minio/init.sh against a stand-in `mc` that records its calls;
- shell and JavaScript syntax of the init scripts.
"""
import fnmatch
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from support import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"


# --------------------------------------------------------------------- Dockerfile -----
def dockerfile_instructions():
    """(INSTRUCTION, arguments) with comments dropped and continuations joined (in that
    order, as Docker does)."""
    lines = DOCKERFILE.read_text(encoding="utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    text = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def stages():
    """[(base image with ARGs resolved, stage name, [instructions])]."""
    args, result = {}, []
    for keyword, rest in dockerfile_instructions():
        if keyword == "ARG" and not result:
            name, _, default = rest.partition("=")
            args[name] = default
        elif keyword == "FROM":
            parts = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], parts[0])
            name = parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else None
            result.append((base, name, []))
        elif result:
            result[-1][2].append((keyword, rest))
    return result


def stage(name):
    return next(s for s in stages() if s[1] == name)


def test_dockerfile_is_multi_stage_with_pinned_bases():
    all_stages = stages()
    names = [name for _, name, _ in all_stages if name]
    assert {"build", "app", "web"} <= set(names)
    for base, _, _ in all_stages:
        if base in names:
            continue  # built on an earlier stage
        assert ":" in base and not base.endswith(":latest"), base
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", stage("build")[0])
    assert stage("app")[0] == stage("build")[0]
    assert stage("web")[0].startswith("nginxinc/nginx-unprivileged:1.")
    # the default target (the last stage) is the services image
    assert all_stages[-1][0] == "app"


def test_build_stage_installs_the_project_with_the_pinned_constraints():
    runs = " ".join(rest for keyword, rest in stage("build")[2] if keyword == "RUN")
    assert "pip install -c constraints.txt ." in runs
    assert "pip check" in runs


def test_app_stage_runs_as_a_fixed_non_root_user():
    instructions = stage("app")[2]
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert int(users[-1].split(":")[0]) >= 10000
    copies = [rest for keyword, rest in instructions if keyword == "COPY"]
    assert "config.yaml /app/config.yaml" in copies
    assert any(c.endswith("deploy/probe.py /usr/local/bin/probe") for c in copies)
    assert any("--from=build /opt/venv" in c for c in copies), "only the venv leaves the build stage"
    env = " ".join(rest for keyword, rest in instructions if keyword == "ENV")
    assert "WEB_SERVER_ADDRESS=0.0.0.0:8000" in env


def test_web_stage_serves_web_with_our_config_and_no_root():
    instructions = stage("web")[2]
    copies = [rest for keyword, rest in instructions if keyword == "COPY"]
    assert any(re.search(r"\bweb/ /usr/share/nginx/html/", c) for c in copies)
    assert any("deploy/nginx/ /etc/nginx/exam/" in c for c in copies)
    assert not [rest for keyword, rest in instructions if keyword == "USER" and rest.startswith(("0", "root"))]
    (cmd,) = [rest for keyword, rest in instructions if keyword == "CMD"]
    assert "/etc/nginx/exam/web.conf" in cmd


def dockerignore_patterns():
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip().lstrip("/") for line in lines if line.strip() and not line.startswith("#")]


def ignored(path):
    result = False
    for pattern in dockerignore_patterns():
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern.replace("**/", "")) \
                or path.startswith(pattern.rstrip("/") + "/"):
            result = not negate
    return result


@pytest.mark.parametrize("path", ["config.yaml", "pyproject.toml", "constraints.txt",
                                  "deploy/probe.py", "deploy/docker-entrypoint.sh",
                                  "deploy/nginx/edge.conf", "web/index.html",
                                  "common/config.py", "services/auth/service.py"])
def test_build_context_keeps_what_the_image_needs(path):
    assert not ignored(path)


@pytest.mark.parametrize("path", ["deploy/.env", "deploy/secrets/tls.key", "deploy/secrets/jwt/prod-1.pem",
                                  ".git/config", "var/keys/dev-1.pem", "tests/unit/test_x.py"])
def test_build_context_keeps_out_secrets_and_local_state(path):
    assert ignored(path)


def test_files_the_dockerfile_copies_from_deploy_exist():
    for keyword, rest in dockerfile_instructions():
        if keyword == "COPY" and "--from=" not in rest:
            sources = [word for word in rest.split()[:-1] if not word.startswith("--")]
            for source in sources:
                if source.startswith("deploy/"):
                    assert (ROOT / source).exists(), source


# ---------------------------------------------------------------------- probe.py ------
class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        status = 200 if self.path.endswith("/ok") else 503
        body = b'{"ok": false, "failing": ["mongodb"]}' if status == 503 else b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def health_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def probe(*args):
    env = {**os.environ, "PROBE_TIMEOUT_SECONDS": "0.5"}
    return subprocess.run([sys.executable, str(DEPLOY / "probe.py"), *args],
                          capture_output=True, text=True, env=env, timeout=10).returncode


def test_probe_readiness_needs_200(health_server):
    assert probe("--ready", f"{health_server}/healthz/ok") == 0
    assert probe("--ready", f"{health_server}/healthz/materials") == 1


def test_probe_liveness_accepts_any_answer(health_server):
    # a dependency outage (503) must not fail liveness
    assert probe(f"{health_server}/healthz/materials") == 0


def test_probe_fails_when_nothing_answers():
    port = free_port()  # nobody listens there
    assert probe(f"http://127.0.0.1:{port}/healthz/auth") == 1  # refused
    # accepts the connection (the kernel does) but never answers: a blocked hub
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        assert probe(f"http://127.0.0.1:{hung.getsockname()[1]}/healthz/auth") == 1


def test_probe_usage_errors():
    assert probe() == 64
    assert probe("https://127.0.0.1/healthz/auth") == 64


# ------------------------------------------------------------ docker-entrypoint.sh ----
@pytest.fixture
def fake_bin(tmp_path):
    """A folder with stand-ins for the programs the scripts call, first on PATH."""
    folder = tmp_path / "bin"
    folder.mkdir()
    return folder


def write_program(folder, name, body):
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def run_entrypoint(fake_bin, *args):
    write_program(fake_bin, "nameko", 'echo "nameko $*"\n')
    env = {"PATH": f"{fake_bin}:/usr/bin:/bin"}
    return subprocess.run(["sh", str(DEPLOY / "docker-entrypoint.sh"), *args],
                          capture_output=True, text=True, env=env, timeout=10)


@pytest.mark.parametrize("service", ["auth", "materials", "review", "notify"])
def test_entrypoint_runs_the_named_service(fake_bin, service):
    result = run_entrypoint(fake_bin, service)
    assert result.returncode == 0
    assert result.stdout.strip() == f"nameko run --config /app/config.yaml services.{service}.service"


def test_entrypoint_passes_other_commands_through_and_explains_itself(fake_bin):
    result = run_entrypoint(fake_bin, "echo", "hello")
    assert result.stdout.strip() == "hello"
    result = run_entrypoint(fake_bin)
    assert result.returncode == 64 and "usage" in result.stderr


# ----------------------------------------------------------------- minio/init.sh ------
MINIO_ENV = {
    "MINIO_URL": "http://minio:9000", "MINIO_ROOT_USER": "root", "MINIO_ROOT_PASSWORD": "r00t-secret",
    "S3_BUCKET": "materials", "S3_MATERIALS_ACCESS_KEY": "materials-svc",
    "S3_MATERIALS_SECRET_KEY": "m-secret", "S3_REVIEW_ACCESS_KEY": "review-svc",
    "S3_REVIEW_SECRET_KEY": "r-secret", "POLICY_DIR": str(DEPLOY / "minio" / "policies"),
}


def run_minio_init(fake_bin, tmp_path, **overrides):
    log = tmp_path / "mc.log"
    # records each call; refuses a second attachment like the real mc does
    write_program(fake_bin, "mc", f"""
echo "$* | host=${{MC_HOST_exam:+set}}" >> "{log}"
case "$1 $2 $3" in
  "admin policy attach") echo "mc: <ERROR> policy is already attached" >&2; exit 1 ;;
esac
exit 0
""")
    env = {"PATH": f"{fake_bin}:/usr/bin:/bin", "MC_CONFIG_DIR": str(tmp_path / "mc"),
           **MINIO_ENV, **overrides}
    result = subprocess.run(["sh", str(DEPLOY / "minio" / "init.sh")], capture_output=True,
                            text=True, env=env, timeout=20)
    calls = log.read_text().splitlines() if log.exists() else []
    return result, calls


def test_minio_init_sets_up_bucket_encryption_policies_and_keys(fake_bin, tmp_path):
    result, calls = run_minio_init(fake_bin, tmp_path)
    assert result.returncode == 0, result.stderr
    commands = [call.split(" | ")[0] for call in calls]
    assert "mb --ignore-existing exam/materials" in commands
    assert "anonymous set none exam/materials" in commands
    assert "encrypt set sse-s3 exam/materials" in commands
    assert any(c.startswith("admin policy create exam materials-rw ") for c in commands)
    assert any(c.startswith("admin policy create exam review-ro ") for c in commands)
    assert "admin policy attach exam materials-rw --user materials-svc" in commands
    assert "admin policy attach exam review-ro --user review-svc" in commands
    # credentials travel in MC_HOST_exam, never on a command line
    assert all(call.endswith("host=set") for call in calls)
    assert not any(secret in " ".join(commands) for secret in ("r00t-secret",))


def test_minio_init_refuses_placeholders(fake_bin, tmp_path):
    result, _ = run_minio_init(fake_bin, tmp_path, S3_REVIEW_SECRET_KEY="CHANGE-ME-openssl-rand-hex-24")
    assert result.returncode == 1 and "CHANGE-ME" in result.stderr


def test_minio_init_reads_root_credentials_from_the_tenant_configuration(fake_bin, tmp_path):
    config = tmp_path / "config.env"
    config.write_text("export MINIO_ROOT_USER=tenant-root\nexport MINIO_ROOT_PASSWORD=tenant-secret\n")
    environment = {k: v for k, v in MINIO_ENV.items() if not k.startswith("MINIO_ROOT")}
    log = tmp_path / "mc.log"
    write_program(fake_bin, "mc", f'echo "$MC_HOST_exam" >> "{log}"\n')
    result = subprocess.run(["sh", str(DEPLOY / "minio" / "init.sh")], capture_output=True, text=True,
                            timeout=20, env={"PATH": f"{fake_bin}:/usr/bin:/bin",
                                             "MINIO_CONFIG_ENV": str(config), **environment})
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines()[0] == "http://tenant-root:tenant-secret@minio:9000"


# ------------------------------------------------------------------------ syntax ------
@pytest.mark.parametrize("shell, script", [("sh", "docker-entrypoint.sh"), ("sh", "minio/init.sh"),
                                           ("bash", "mongo/entrypoint.sh")])
def test_shell_scripts_parse(shell, script):
    if not shutil.which(shell):
        pytest.skip(f"{shell} not installed")
    result = subprocess.run([shell, "-n", str(DEPLOY / script)], capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr


def test_mongo_init_script_parses_and_is_idempotent_by_construction():
    script = (DEPLOY / "mongo" / "init-replica-set.js").read_text(encoding="utf-8")
    # initiates only when unconfigured, creates users only when missing
    assert "NotYetInitialized" in script and "replSetInitiate" in script
    assert "getUser(service)" in script and "updateUser" in script and "createUser" in script
    assert '{ role: "readWrite", db: service }' in script
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed: syntax not checked")
    result = subprocess.run([node, "--check", str(DEPLOY / "mongo" / "init-replica-set.js")],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stderr
