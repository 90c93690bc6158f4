"""Offline checks of the deployment manifests in deploy/ (deploy/README.md).

- Every Kubernetes manifest validates against the Kubernetes JSON schemas (strict: no
  unknown fields) of the oldest and the newest Kubernetes version we support, using
  the schemas that PyPI `kubernetes-validate` ships (no network).
- The operator custom resources (deploy/k8s/infra/) validate against our own
  structural schemas (tests/deploy/operator_schemas/, see the README there), whose
  embedded Kubernetes types resolve to the same Kubernetes definitions.
- deploy/docker-compose.yml validates against the Compose Specification JSON schema,
  as vendored in PyPI `check-jsonschema` (builtin_schemas/vendor/compose-spec.json).
- Then the properties that matter for running the system: probes on the right paths
  (and a liveness probe that a dependency outage cannot fail), non-root and read-only
  containers, resources, no secret values committed, two materials replicas in compose,
  health checks everywhere, routes of the Ingress, NetworkPolicies, and that the
  Secrets/ConfigMaps the manifests reference are the ones documented.
- And the negative: deliberately broken copies must fail the same validation.

Pure and offline; runs in about two seconds.
"""
import copy
import importlib.resources
import json
import re
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
SCHEMAS = Path(__file__).resolve().parent / "operator_schemas"

# Oldest Kubernetes minor we support (autoscaling/v2, policy/v1, Ingress v1 are all GA
# well before it) and the newest whose schemas kubernetes-validate ships.
K8S_VERSIONS = ("1.31.0", kubernetes_validate.utils.latest_version())

SERVICES = ("auth", "materials", "review", "notify")
EXAMPLE_SECRETS = K8S / "secret.example.yaml"

OPERATOR_KINDS = {
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): "rabbitmq.json",
    ("rabbitmq.com/v1beta1", "Vhost"): "rabbitmq.json",
    ("rabbitmq.com/v1beta1", "User"): "rabbitmq.json",
    ("rabbitmq.com/v1beta1", "Permission"): "rabbitmq.json",
    ("rabbitmq.com/v1beta1", "TopicPermission"): "rabbitmq.json",
    ("mongodbcommunity.mongodb.com/v1", "MongoDBCommunity"): "mongodbcommunity.json",
    ("minio.min.io/v2", "Tenant"): "minio-tenant.json",
}


# ---------------------------------------------------------------------------- loading --
def load_docs(path):
    with open(path, encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


def kustomize_files(directory):
    """The YAML files a kustomization lists, following sub-directories (as kustomize)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    files = []
    for entry in kustomization["resources"]:
        target = directory / entry
        files.extend(kustomize_files(target) if target.is_dir() else [target])
    return files


APPLIED_FILES = kustomize_files(K8S)
APPLIED = [(path, doc) for path in APPLIED_FILES for doc in load_docs(path)]


def docs_of(kind):
    return [doc for _, doc in APPLIED if doc["kind"] == kind]


def by_name(kind):
    return {doc["metadata"]["name"]: doc for doc in docs_of(kind)}


def ident(path_doc):
    path, doc = path_doc
    return f"{path.relative_to(K8S)}:{doc['kind']}/{doc['metadata']['name']}"


def containers(pod_spec):
    return pod_spec.get("initContainers", []) + pod_spec["containers"]


def config_yaml_variables():
    """The environment variables config.yaml reads (${VAR:default})."""
    return set(re.findall(r"\$\{([A-Z0-9_]+):", (ROOT / "config.yaml").read_text(encoding="utf-8")))


# -------------------------------------------------------------------------- validators --
def validate_k8s(doc, version):
    """Raise kubernetes_validate.ValidationError unless `doc` is valid (strict)."""
    kubernetes_validate.validate(doc, version, strict=True)


def _k8s_definitions_resource():
    version = kubernetes_validate.utils.latest_version()
    ref = (importlib.resources.files("kubernetes_validate")
           / "kubernetes-json-schema" / f"v{version}-local-strict" / "_definitions.json")
    return Resource.from_contents(json.loads(ref.read_text(encoding="utf-8")))


_K8S_DEFINITIONS = _k8s_definitions_resource()


def operator_validator(doc):
    """A validator for one operator resource: the branch of our schema for its kind."""
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key not in OPERATOR_KINDS:
        raise LookupError(f"no schema for {key}")
    schema = json.loads((SCHEMAS / OPERATOR_KINDS[key]).read_text(encoding="utf-8"))
    registry = Registry().with_resources([
        ("https://kubernetes.io/api/_definitions.json", _K8S_DEFINITIONS),
        (schema["$id"], Resource.from_contents(schema)),
    ])
    for index, branch in enumerate(schema["oneOf"]):
        if branch["properties"]["kind"]["const"] == doc["kind"]:
            return jsonschema.Draft202012Validator(
                {"$ref": f"{schema['$id']}#/oneOf/{index}"}, registry=registry)
    raise LookupError(f"schema {OPERATOR_KINDS[key]} has no branch for {doc['kind']}")


def operator_errors(doc):
    return sorted(operator_validator(doc).iter_errors(doc), key=lambda e: list(e.path))


def compose_schema_validator():
    ref = (importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
           / "compose-spec.json")
    schema = json.loads(ref.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


# ================================================================ Kubernetes: schemas ==
@pytest.mark.parametrize("path_doc", APPLIED, ids=ident)
def test_every_manifest_validates_against_kubernetes_or_operator_schema(path_doc):
    _, doc = path_doc
    if (doc["apiVersion"], doc["kind"]) in OPERATOR_KINDS:
        errors = operator_errors(doc)
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
        return
    for version in K8S_VERSIONS:
        # SchemaNotFoundError (an unknown kind or API version) fails the test too
        validate_k8s(doc, version)


def test_example_secrets_validate_but_are_not_applied():
    for doc in load_docs(EXAMPLE_SECRETS):
        validate_k8s(doc, K8S_VERSIONS[0])
    assert EXAMPLE_SECRETS not in APPLIED_FILES


def test_kustomizations_list_every_manifest_once_and_nothing_missing():
    listed = [path.resolve() for path in APPLIED_FILES]
    assert len(listed) == len(set(listed)), "a file is listed twice"
    assert all(path.exists() for path in listed)
    on_disk = {path.resolve() for path in K8S.rglob("*.yaml")
               if path.name != "kustomization.yaml" and path != EXAMPLE_SECRETS}
    assert on_disk == set(listed), f"not in a kustomization: {on_disk - set(listed)}"


# A deliberately broken manifest must fail: otherwise the checks above prove nothing.
def _materials_deployment():
    return copy.deepcopy(by_name("Deployment")["materials"])


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_broken_deployment_replicas_as_text_is_rejected(version):
    broken = _materials_deployment()
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError) as caught:
        validate_k8s(broken, version)
    assert list(caught.value.path) == ["spec", "replicas"]


def test_broken_deployment_misspelled_field_is_rejected():
    broken = _materials_deployment()
    container = broken["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        validate_k8s(broken, K8S_VERSIONS[0])


def test_broken_ingress_and_networkpolicy_are_rejected():
    ingress = copy.deepcopy(by_name("Ingress")["exam"])
    ingress["spec"]["rules"][0]["http"]["paths"][0]["pathType"] = 7
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_k8s(ingress, K8S_VERSIONS[0])
    policy = copy.deepcopy(by_name("NetworkPolicy")["default-deny-all"])
    policy["spec"]["podSelectors"] = policy["spec"].pop("podSelector")
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_k8s(policy, K8S_VERSIONS[0])


@pytest.mark.parametrize("kind, mutate", [
    ("RabbitmqCluster", lambda d: d["spec"].update(replica=3)),
    ("RabbitmqCluster", lambda d: d["spec"].update(replicas="three")),
    ("RabbitmqCluster", lambda d: d["spec"]["resources"]["limits"].update(gpu_count=[1])),
    ("MongoDBCommunity", lambda d: d["spec"].pop("version")),
    ("MongoDBCommunity", lambda d: d["spec"]["users"][0].pop("scramCredentialsSecretName")),
    ("Tenant", lambda d: d["spec"]["pools"][0].update(volumesPerSever=4)),
    ("Tenant", lambda d: d["spec"]["pools"][0]["containerSecurityContext"].update(runAsNonRot=True)),
    ("Permission", lambda d: d["spec"].pop("userReference")),
], ids=["rabbit-typo", "rabbit-type", "rabbit-k8s-type", "mongo-required", "mongo-user",
        "tenant-typo", "tenant-k8s-typo", "permission-user"])
def test_broken_operator_resources_are_rejected(kind, mutate):
    broken = copy.deepcopy(docs_of(kind)[0])
    assert not operator_errors(broken)
    mutate(broken)
    assert operator_errors(broken)


# ============================================================== Kubernetes: workloads ==
def api_deployments():
    deployments = by_name("Deployment")
    return [deployments[name] for name in SERVICES]


def test_one_deployment_per_service_and_the_page():
    assert set(by_name("Deployment")) == set(SERVICES) | {"web"}


@pytest.mark.parametrize("name", SERVICES)
def test_service_deployment_runs_its_service_from_the_one_image(name):
    (container,) = by_name("Deployment")[name]["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["nameko", "run", "--config", "/app/config.yaml",
                                    f"services.{name}.service"]
    image = container["image"]
    assert image.rsplit(":", 1)[0].endswith("/exam-materials")
    assert ":" in image and not image.endswith(":latest")
    assert {"name": "http", "containerPort": 8000, "protocol": "TCP"} in container["ports"]


@pytest.mark.parametrize("name", SERVICES)
def test_service_probes(name):
    (container,) = by_name("Deployment")[name]["spec"]["template"]["spec"]["containers"]
    health_url = f"http://127.0.0.1:8000/healthz/{name}"

    # readiness: healthz must say 200 (the service and its dependencies are usable)
    readiness = container["readinessProbe"]
    assert readiness["httpGet"]["path"] == f"/healthz/{name}"
    assert readiness["httpGet"]["port"] in ("http", 8000)

    # liveness: the same path, but passing on ANY HTTP answer, so that a dependency
    # outage (healthz 503) cannot restart the pods; an httpGet liveness on healthz
    # would fail on 503 and is therefore not allowed here
    liveness = container["livenessProbe"]
    assert "httpGet" not in liveness
    assert liveness["exec"]["command"] == ["probe", health_url]
    assert "--ready" not in liveness["exec"]["command"]
    assert liveness["periodSeconds"] * liveness["failureThreshold"] >= 60

    startup = container["startupProbe"]
    assert startup["exec"]["command"] == ["probe", health_url]


def test_web_probes():
    (container,) = by_name("Deployment")["web"]["spec"]["template"]["spec"]["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz/web"


def pod_specs():
    """Every pod template of the applied manifests (Deployments and Jobs)."""
    specs = []
    for _, doc in APPLIED:
        if doc["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
            specs.append((doc["metadata"]["name"], doc["spec"]["template"]["spec"]))
    return specs


@pytest.mark.parametrize("name, spec", pod_specs(), ids=[n for n, _ in pod_specs()])
def test_pods_are_non_root_read_only_and_drop_all_capabilities(name, spec):
    # the Pod Security Standard "restricted", and a read-only root filesystem besides
    pod_context = spec["securityContext"]
    assert pod_context["runAsNonRoot"] is True
    assert pod_context.get("runAsUser", 1) != 0
    assert pod_context["seccompProfile"]["type"] == "RuntimeDefault"
    assert spec.get("automountServiceAccountToken") is False
    assert not spec.get("hostNetwork") and not spec.get("hostPID")
    for container in containers(spec):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"]["drop"] == ["ALL"]
        assert not context.get("capabilities", {}).get("add")
        assert not context.get("privileged")


@pytest.mark.parametrize("name, spec", pod_specs(), ids=[n for n, _ in pod_specs()])
def test_every_container_has_requests_and_limits(name, spec):
    for container in containers(spec):
        resources = container["resources"]
        for part in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources[part]), (container["name"], part)


@pytest.mark.parametrize("name, spec", pod_specs(), ids=[n for n, _ in pod_specs()])
def test_no_secret_values_in_pod_environment(name, spec):
    secretish = re.compile(r"PASSWORD|SECRET|_KEY$|TOKEN|URI$")
    for container in containers(spec):
        for var in container.get("env", []):
            if secretish.search(var["name"]) and "value" in var:
                # only composed from other variables, e.g. AMQP_URI from $(AMQP_PASSWORD)
                assert "$(" in var["value"] and not re.search(r"://[^$:]+:[^$@]+@", var["value"]), var


def test_every_deployment_has_an_hpa_a_pdb_and_a_matching_service():
    hpas = {d["spec"]["scaleTargetRef"]["name"]: d for d in docs_of("HorizontalPodAutoscaler")}
    pdbs = docs_of("PodDisruptionBudget")
    services = by_name("Service")
    for name, deployment in by_name("Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert "replicas" not in deployment["spec"], "the HPA owns the replica count"

        hpa = hpas[name]
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]

        assert any(pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
                   for pdb in pdbs), f"no PodDisruptionBudget for {name}"
        assert services[name]["spec"]["selector"].items() <= labels.items()
    assert hpas["materials"]["spec"]["minReplicas"] >= 4


def test_configmap_sets_only_variables_config_yaml_reads():
    known = config_yaml_variables()
    config = by_name("ConfigMap")["exam-config"]["data"]
    assert set(config) <= known, set(config) - known
    assert config["WEB_SERVER_ADDRESS"] == "0.0.0.0:8000"


def test_pod_environment_sets_only_variables_config_yaml_reads():
    # typos (S3_ENDPIONT) would silently fall back to the local-development defaults
    known = config_yaml_variables() | {"AMQP_USERNAME", "AMQP_PASSWORD"}
    for name in SERVICES:
        (container,) = by_name("Deployment")[name]["spec"]["template"]["spec"]["containers"]
        names = {var["name"] for var in container["env"]}
        assert names <= known, names - known
        assert {"AMQP_URI", "MONGO_URI", "PII_ENCRYPTION_KEY", "PII_HASH_KEY"} <= names


# ======================================================== Kubernetes: secrets & refs ==
def test_no_secret_objects_are_applied():
    assert not docs_of("Secret"), "Secrets are created out of band, never from git"


def test_example_secrets_hold_placeholders_only():
    assert "EXAMPLE ONLY" in EXAMPLE_SECRETS.read_text(encoding="utf-8")
    identifiers = {"username", "accessKey"}  # names, not secrets
    for doc in load_docs(EXAMPLE_SECRETS):
        assert "data" not in doc, "use stringData with visible placeholders"
        for key, value in doc["stringData"].items():
            if key in identifiers:
                continue
            assert "CHANGE-ME" in value, (doc["metadata"]["name"], key)


def referenced_secrets():
    """(secret name, key or None) pairs the applied manifests reference."""
    refs = set()

    def walk(node):
        if isinstance(node, dict):
            if "secretKeyRef" in node:
                refs.add((node["secretKeyRef"]["name"], node["secretKeyRef"]["key"]))
            if "secretName" in node and isinstance(node["secretName"], str):
                refs.add((node["secretName"], None))
            for key in ("passwordSecretRef", "importCredentialsSecret", "configuration"):
                if isinstance(node.get(key), dict) and "name" in node[key]:
                    refs.add((node[key]["name"], node[key].get("key", "password")
                              if key == "passwordSecretRef" else None))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for _, doc in APPLIED:
        walk(doc)
    return refs


def operator_written_secrets():
    """Secrets the MongoDB operator writes itself (the connection strings)."""
    written = set()
    for doc in docs_of("MongoDBCommunity"):
        for user in doc["spec"]["users"]:
            if "connectionStringSecretName" in user:
                written.add(user["connectionStringSecretName"])
    return written


def test_every_referenced_secret_is_documented_in_the_example():
    documented = {doc["metadata"]["name"]: set(doc["stringData"]) for doc in load_docs(EXAMPLE_SECRETS)}
    written = operator_written_secrets()
    for name, key in sorted(referenced_secrets(), key=str):
        if name in written:
            assert key in (None, "connectionString.standard")
            continue
        assert name in documented, f"Secret {name} is referenced but not in secret.example.yaml"
        if key is not None:
            assert key in documented[name], f"Secret {name} has no key {key} in the example"


def test_mongo_uri_comes_from_each_services_own_operator_user():
    mongo = docs_of("MongoDBCommunity")[0]
    users = {user["name"]: user for user in mongo["spec"]["users"]}
    for name in SERVICES:
        user = users[name]
        assert user["roles"] == [{"name": "readWrite", "db": name}], "own database only"
        (container,) = by_name("Deployment")[name]["spec"]["template"]["spec"]["containers"]
        (mongo_uri,) = [var for var in container["env"] if var["name"] == "MONGO_URI"]
        assert mongo_uri["valueFrom"]["secretKeyRef"]["name"] == user["connectionStringSecretName"]


def test_only_auth_mounts_the_signing_keys_and_s3_keys_follow_least_privilege():
    deployments = by_name("Deployment")
    for name in SERVICES:
        spec = deployments[name]["spec"]["template"]["spec"]
        secrets = {v["secret"]["secretName"] for v in spec.get("volumes", []) if "secret" in v}
        env = {var["name"]: var.get("valueFrom", {}).get("secretKeyRef", {}).get("name")
               for var in spec["containers"][0]["env"]}
        assert ("exam-jwt-keys" in secrets) == (name == "auth")
        write_key = env.get("S3_ACCESS_KEY")
        assert write_key == {"materials": "exam-s3-materials", "review": "exam-s3-review"}.get(name)


def test_only_auth_holds_the_registration_systems_client_secrets_and_knows_its_issuer():
    deployments = by_name("Deployment")
    for name in SERVICES:
        env = {var["name"]: var.get("valueFrom", {}).get("secretKeyRef", {})
               for var in deployments[name]["spec"]["template"]["spec"]["containers"][0]["env"]}
        for var in ("FEDERATION_CLIENT_SECRET", "REGISTRATION_SYSTEM_SECRET"):
            if name == "auth":
                assert env[var] == {"name": "exam-auth-clients", "key": var}
            else:
                assert var not in env, f"{name} must not hold {var}"
    config = by_name("ConfigMap")["exam-config"]["data"]
    assert config["FEDERATION_ISSUER"].startswith("https://")
    assert config["FEDERATION_REDIRECT_URI"].startswith("https://") and config[
        "FEDERATION_REDIRECT_URI"].endswith("/auth/federation/callback")
    assert config["FEDERATION_CLIENT_ID"]


def test_only_auth_reaches_the_registration_system_and_only_public_https():
    policy = policies()["allow-auth-to-registration-system"]["spec"]
    assert policy["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "auth"}}
    (rule,) = policy["egress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 443}]
    (peer,) = rule["to"]
    assert peer["ipBlock"]["cidr"] == "0.0.0.0/0"
    assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"} <= set(peer["ipBlock"]["except"])


def test_amqp_uri_points_at_the_rabbitmq_cluster_and_vhost_with_each_services_own_user():
    cluster = docs_of("RabbitmqCluster")[0]["metadata"]["name"]
    vhost = docs_of("Vhost")[0]["spec"]["name"]
    users = {user["metadata"]["name"]: user for user in docs_of("User")}
    for name in SERVICES:
        (container,) = by_name("Deployment")[name]["spec"]["template"]["spec"]["containers"]
        env = {var["name"]: var for var in container["env"]}
        uri = env["AMQP_URI"]["value"]
        assert f"@{cluster}.exam.svc.cluster.local:5672/{vhost}" in uri
        for var in ("AMQP_USERNAME", "AMQP_PASSWORD"):
            assert env[var]["valueFrom"]["secretKeyRef"]["name"] == \
                users[f"exam-{name}"]["spec"]["importCredentialsSecret"]["name"] == f"exam-amqp-{name}"


def test_the_broker_accounts_are_what_dev_broker_generates():
    """Production's accounts are the ones the local stack and its tests use (DESIGN §6)."""
    from dev import broker
    assert (ROOT / "deploy/k8s/infra/rabbitmq-accounts.yaml").read_text() == broker.k8s_manifest(), \
        "run: .venv/bin/python -m dev.broker > deploy/k8s/infra/rabbitmq-accounts.yaml"
    permissions = {d["spec"]["userReference"]["name"]: d["spec"]["permissions"] for d in docs_of("Permission")}
    assert set(permissions) == {f"exam-{name}" for name in SERVICES}
    assert all(".*" not in p["write"] and ".*" not in p["read"] for p in permissions.values())


def test_minio_init_configmap_is_a_faithful_copy_of_the_compose_scripts():
    (configmap,) = [d for d in docs_of("ConfigMap") if d["metadata"]["name"] == "exam-minio-init"]
    data = configmap["data"]
    assert data["init.sh"] == (DEPLOY / "minio" / "init.sh").read_text(encoding="utf-8")
    for policy in ("materials-rw.json", "review-ro.json"):
        assert data[policy] == (DEPLOY / "minio" / "policies" / policy).read_text(encoding="utf-8")
        json.loads(data[policy])


def test_minio_policies_are_least_privilege():
    def actions(policy):
        document = json.loads((DEPLOY / "minio" / "policies" / policy).read_text(encoding="utf-8"))
        return {action for statement in document["Statement"] for action in statement["Action"]}
    assert "s3:PutObject" in actions("materials-rw.json")
    review = actions("review-ro.json")
    assert "s3:GetObject" in review
    assert not {"s3:PutObject", "s3:DeleteObject", "s3:*"} & review


# ============================================================ Kubernetes: the edge ====
def ingress_routes():
    """{(host, path, pathType): (service, ingress name)} over all Ingresses."""
    routes = {}
    for ingress in docs_of("Ingress"):
        assert ingress["spec"]["ingressClassName"] == "nginx"
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                key = (rule["host"], path["path"], path["pathType"])
                assert key not in routes, f"duplicate route {key}"
                routes[key] = (path["backend"]["service"]["name"], ingress["metadata"]["name"])
    return routes


def route(host, request_path):
    """Which Ingress path serves `request_path`: Exact first, then the longest Prefix
    matching whole path elements (the Ingress v1 rules)."""
    candidates = []
    for (rule_host, path, path_type), target in ingress_routes().items():
        if rule_host != host:
            continue
        if path_type == "Exact" and request_path == path:
            return target
        if path_type == "Prefix":
            prefix = path.rstrip("/")
            if request_path == prefix or request_path.startswith(prefix + "/") or path == "/":
                candidates.append((len(prefix), target))
    return max(candidates)[1] if candidates else None


@pytest.mark.parametrize("request_path, service", [
    ("/auth/authorize", "auth"),
    ("/auth/token", "auth"),
    ("/auth/jwks.json", "auth"),
    ("/api/v1/messages", "notify"),
    ("/api/v1/messages/m-1/read", "notify"),
    ("/integration/v1/outcomes", "notify"),
    ("/api/v1/package", "materials"),
    ("/api/v1/package/submit", "materials"),
    ("/api/v1/catalogue", "materials"),
    ("/api/v1/package/items/id_card/images", "materials"),
    ("/healthz/auth", "auth"),
    ("/healthz/materials", "materials"),
    ("/healthz/review", "review"),
    ("/healthz/notify", "notify"),
    ("/", "web"),
    ("/callback", "web"),
    ("/staff/", "web"),
    ("/staff/callback", "web"),
])
def test_ingress_routes(request_path, service):
    assert route("exam.example.cn", request_path)[0] == service


def test_ingress_body_limits_and_metrics_not_public():
    ingresses = by_name("Ingress")
    limit = "nginx.ingress.kubernetes.io/proxy-body-size"
    assert route("exam.example.cn", "/api/v1/package/items/id_card/images")[1] == "exam-uploads"
    assert ingresses["exam-uploads"]["metadata"]["annotations"][limit] == "1m"
    assert ingresses["exam"]["metadata"]["annotations"][limit] == "64k"
    assert route("exam.example.cn", "/api/v1/package/submit")[1] == "exam"
    for (host, path, _), _target in ingress_routes().items():
        assert not path.startswith("/metrics"), "metrics are scraped in-cluster, not routed"
    for ingress in ingresses.values():
        assert ingress["spec"]["tls"], "TLS on every public host"
    # every backend Service exists (minio is created by the MinIO operator)
    services = set(by_name("Service")) | {"minio"}
    assert {target[0] for target in ingress_routes().values()} <= services


def test_the_live_stream_route_is_unbuffered_with_long_timeouts_over_http_1_1():
    assert route("exam.example.cn", "/api/v1/package/events") == ("materials", "exam-live")
    assert route("exam.example.cn", "/api/v1/package/events/ticket")[1] == "exam"
    annotations = by_name("Ingress")["exam-live"]["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert annotations[prefix + "proxy-buffering"] == "off"
    assert annotations[prefix + "proxy-http-version"] == "1.1"
    assert int(annotations[prefix + "proxy-read-timeout"]) >= 3600
    assert int(annotations[prefix + "proxy-send-timeout"]) >= 3600


def test_security_headers_configmap():
    headers = by_name("ConfigMap")["exam-security-headers"]["data"]
    directives = {d.split()[0]: d.split()[1:] for d in headers["Content-Security-Policy"].split(";")}
    assert directives["default-src"] == ["'self'"] and directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"] and directives["form-action"] == ["'self'"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    for ingress in by_name("Ingress").values():
        if ingress["metadata"]["name"] not in ("exam-s3", "exam-staff"):
            assert ingress["metadata"]["annotations"][
                "nginx.ingress.kubernetes.io/custom-headers"] == "exam/exam-security-headers"


def csp_directives(headers):
    return {d.split()[0]: d.split()[1:] for d in headers["Content-Security-Policy"].split(";")}


def s3_public_origin():
    return by_name("ConfigMap")["exam-config"]["data"]["S3_PUBLIC_ENDPOINT"].rstrip("/")


def test_only_the_staff_workspace_admits_images_from_the_s3_public_host():
    configmaps = by_name("ConfigMap")
    page = configmaps["exam-security-headers"]["data"]
    staff = configmaps["exam-staff-security-headers"]["data"]
    assert route("exam.example.cn", "/staff/case/p-1") == ("web", "exam-staff")
    assert route("exam.example.cn", "/staffing") == ("web", "exam")
    assert by_name("Ingress")["exam-staff"]["metadata"]["annotations"][
        "nginx.ingress.kubernetes.io/custom-headers"] == "exam/exam-staff-security-headers"
    assert csp_directives(staff)["img-src"] == ["'self'", "data:", "blob:", s3_public_origin()]
    assert csp_directives(page)["img-src"] == ["'self'", "data:", "blob:"]
    # everything else the same as the page's
    assert {k: v for k, v in csp_directives(staff).items() if k != "img-src"} == {
        k: v for k, v in csp_directives(page).items() if k != "img-src"}
    assert {k: v for k, v in staff.items() if k != "Content-Security-Policy"} == {
        k: v for k, v in page.items() if k != "Content-Security-Policy"}


def test_the_web_pods_admit_the_same_s3_public_origin():
    snippet = by_name("ConfigMap")["exam-web-nginx"]["data"]["s3-public-origin.conf"]
    assert re.findall(r'default\s+"([^"]+)"', snippet) == [s3_public_origin()]
    pod = by_name("Deployment")["web"]["spec"]["template"]["spec"]
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "nginx-s3-origin"]
    assert mount["mountPath"] == "/etc/nginx/exam/snippets/s3-public-origin.conf"
    assert (DEPLOY / "nginx" / "snippets" / "s3-public-origin.conf").exists()
    (volume,) = [v for v in pod["volumes"] if v["name"] == "nginx-s3-origin"]
    assert volume["configMap"]["name"] == "exam-web-nginx"


# ===================================================== Kubernetes: NetworkPolicies ====
def policies():
    return by_name("NetworkPolicy")


def test_default_deny_in_both_directions():
    deny = policies()["default-deny-all"]["spec"]
    assert deny["podSelector"] == {}
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny


def peers_allowed(policy, port):
    """The `from` peers of `policy` that may reach `port`."""
    peers = []
    for rule in policy["spec"].get("ingress", []):
        ports = [p["port"] for p in rule.get("ports", [])]
        if not ports or port in ports:
            peers.extend(rule.get("from", [{"everyone": True}]))
    return peers


API_PODS = {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "api"}}}


def test_only_the_ingress_controller_reaches_http():
    policy = policies()["allow-http-from-ingress"]
    for port in (8000, 8080):
        (peer,) = peers_allowed(policy, port)
        assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "ingress-nginx"}
    # nothing else opens the services' HTTP port (metrics: the monitoring namespace only)
    for name, other in policies().items():
        if name in ("allow-http-from-ingress", "allow-metrics-from-monitoring", "default-deny-all"):
            continue
        target = other["spec"]["podSelector"]
        if target.get("matchLabels", {}).get("app.kubernetes.io/component") in ("api", "web"):
            assert not other["spec"].get("ingress"), name


def test_only_our_services_reach_amqp_mongodb_and_s3():
    rabbit = policies()["rabbitmq"]
    assert peers_allowed(rabbit, 5672) == [
        API_PODS, {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "exam-rabbitmq"}}}]
    mongo = policies()["mongodb"]
    assert peers_allowed(mongo, 27017) == [
        API_PODS, {"podSelector": {"matchLabels": {"app": "exam-mongodb-svc"}}}]
    minio = policies()["minio"]
    s3_peers = peers_allowed(minio, 9000)
    (clients,) = [p for p in s3_peers if "matchExpressions" in p.get("podSelector", {})]
    assert clients["podSelector"]["matchExpressions"][0]["values"] == ["materials", "review", "minio-init"]
    # the rest: MinIO's own pods, the ingress controller (presigned links), monitoring
    # and the MinIO operator's namespace; no rule open to everyone
    assert {"everyone": True} not in s3_peers
    for peer in s3_peers:
        assert "ipBlock" not in peer


def test_network_policy_selectors_match_the_pods_they_mean():
    # the labels the policies select on are those the operators / our manifests set
    assert docs_of("RabbitmqCluster")[0]["metadata"]["name"] == "exam-rabbitmq"
    assert docs_of("MongoDBCommunity")[0]["metadata"]["name"] + "-svc" == "exam-mongodb-svc"
    assert docs_of("Tenant")[0]["metadata"]["name"] == "exam-minio"
    job = by_name("Job")["exam-minio-init"]
    assert job["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == "minio-init"


# ================================================================ docker compose =====
APP_SERVICES = SERVICES


def test_compose_validates_against_the_compose_specification(compose):
    errors = list(compose_schema_validator().iter_errors(compose))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_broken_compose_file_is_rejected(compose):
    validator = compose_schema_validator()
    broken = copy.deepcopy(compose)
    broken["services"]["materials"]["healthchek"] = broken["services"]["materials"].pop("healthcheck")
    assert list(validator.iter_errors(broken))
    broken = copy.deepcopy(compose)
    broken["services"]["materials"]["deploy"]["replicas"] = ["two"]
    assert list(validator.iter_errors(broken))
    # the spec allows a string here (for ${VAR} interpolation); our own check does not
    broken = copy.deepcopy(compose)
    broken["services"]["materials"]["deploy"]["replicas"] = "two"
    with pytest.raises(AssertionError):
        test_compose_runs_at_least_two_materials_replicas(broken)


def test_compose_runs_at_least_two_materials_replicas(compose):
    materials = compose["services"]["materials"]
    replicas = materials["deploy"]["replicas"]
    assert isinstance(replicas, int) and replicas >= 2
    assert "container_name" not in materials and "ports" not in materials


def long_running(compose):
    return {name: service for name, service in compose["services"].items()
            if service.get("restart") != "no"}


def test_every_long_running_compose_service_has_a_healthcheck(compose):
    for name, service in long_running(compose).items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        assert not service["healthcheck"].get("disable")


def test_one_shot_jobs_gate_the_services(compose):
    jobs = {name for name, service in compose["services"].items() if service.get("restart") == "no"}
    assert jobs == {"mongo-init", "minio-init", "rabbitmq-init"}
    for name in APP_SERVICES:
        depends = compose["services"][name]["depends_on"]
        for job in jobs:
            assert depends[job]["condition"] == "service_completed_successfully"
        assert depends["rabbitmq"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_compose_service_shape(compose, name):
    service = compose["services"][name]
    assert service["command"] == ["nameko", "run", "--config", "/app/config.yaml", f"services.{name}.service"]
    assert service["healthcheck"]["test"] == ["CMD", "probe", "--ready", f"http://127.0.0.1:8000/healthz/{name}"]
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert service["read_only"] is True
    assert service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]
    assert "backend" in service["networks"]
    assert "ports" not in service, "reachable only through the proxy"
    environment = service["environment"]
    assert environment["WEB_SERVER_ADDRESS"] == "0.0.0.0:8000"
    assert set(environment) <= config_yaml_variables(), set(environment) - config_yaml_variables()
    assert "replicaSet=rs0" in environment["MONGO_URI"]
    assert environment["MONGO_URI"].startswith(f"mongodb://{name}:${{MONGO_")
    # its own broker account (rabbitmq-init makes it with dev/broker.py's rules)
    assert environment["AMQP_URI"].startswith(f"amqp://exam-{name}:${{RABBITMQ_PASSWORD_{name.upper()}")
    assert environment["BROKER_USER_PREFIX"] == "exam-"


def test_compose_gives_auth_the_registration_systems_issuer_client_and_secrets(compose):
    environment = compose["services"]["auth"]["environment"]
    for var in ("FEDERATION_ISSUER", "FEDERATION_CLIENT_SECRET", "REGISTRATION_SYSTEM_SECRET"):
        assert environment[var].startswith(f"${{{var}:?"), f"{var} must be required from deploy/.env"
    assert environment["FEDERATION_REDIRECT_URI"].endswith("/auth/federation/callback")
    for name in ("materials", "review", "notify"):
        assert not {"FEDERATION_CLIENT_SECRET", "REGISTRATION_SYSTEM_SECRET"} & set(
            compose["services"][name]["environment"])


def test_compose_secrets_come_from_the_environment_or_files(compose):
    secretish = re.compile(r"PASSWORD|SECRET|_KEY$|_URI$|^MINIO_ROOT_USER$")
    for name, service in compose["services"].items():
        environment = service.get("environment", {})
        for var, value in environment.items():
            if secretish.search(var) and value is not None:
                assert "${" in str(value), f"{name}: {var} has a literal value"
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")


def test_every_compose_variable_is_in_env_example(compose):
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    example = dict(line.split("=", 1) for line in
                   (DEPLOY / ".env.example").read_text(encoding="utf-8").splitlines()
                   if line and not line.startswith("#"))
    assert used <= set(example), used - set(example)
    for var, value in example.items():
        if re.search(r"PASSWORD|SECRET_KEY|_SECRET$|KMS|PII_|SECRET_ID|ACTIVE_KID", var):
            assert value.startswith("CHANGE-ME"), f"{var} in .env.example must be a placeholder"


def test_secret_files_and_env_are_git_ignored():
    assert ".env" in (DEPLOY / ".gitignore").read_text(encoding="utf-8").split()
    ignore = (DEPLOY / "secrets" / ".gitignore").read_text(encoding="utf-8").split()
    assert ignore[ignore.index("*"):] == ["*", "!.gitignore", "!README.md"]
    dockerignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    assert {"deploy/.env", "deploy/secrets"} <= set(dockerignore)


def test_compose_edge_and_published_ports(compose):
    services = compose["services"]
    published = {name: service.get("ports", []) for name, service in services.items()}
    proxy_ports = published.pop("proxy")
    assert any(p.endswith(":8443") for p in proxy_ports)
    assert "127.0.0.1:9145:9145" in proxy_ports, "metrics: host loopback only"
    for name, ports in published.items():
        for port in ports:
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    assert compose["networks"]["backend"]["internal"] is True
    for name in ("rabbitmq", "mongo1", "mongo2", "mongo3"):
        assert "edge" not in services[name]["networks"]


def test_compose_edge_admits_images_from_its_s3_public_endpoint(compose):
    (mount,) = compose["services"]["proxy"]["configs"]
    assert mount["target"] == "/etc/nginx/exam/snippets/s3-public-origin.conf"
    content = compose["configs"][mount["source"]]["content"]
    # $$ is compose's escape of nginx's $; the origin is the one the services presign with
    assert "map $$host $$exam_s3_public_origin" in content
    assert re.findall(r'default\s+"([^"]+)"', content) == [compose["x-app-env"]["S3_PUBLIC_ENDPOINT"]]


def test_compose_infrastructure_is_production_shaped(compose):
    services = compose["services"]
    mongo = [name for name in services if re.fullmatch(r"mongo\d", name)]
    assert len(mongo) == 3
    for name in mongo:
        assert services[name]["image"].startswith("mongo:7.")
        assert "--replSet" in services[name]["command"] and "--keyFile" in services[name]["command"]
    minio = [name for name in services if re.fullmatch(r"minio\d", name)]
    assert len(minio) >= 4, "distributed MinIO needs at least 4 drives"
    for name in minio:
        assert services[name]["environment"]["MINIO_KMS_SECRET_KEY"].startswith("${MINIO_KMS_SECRET_KEY")
        assert "{1...4}" in " ".join(services[name]["command"])
    assert "management" in services["rabbitmq"]["image"]
    init = (DEPLOY / "minio" / "init.sh").read_text(encoding="utf-8")
    assert "mc encrypt set sse-s3" in init and "mc mb --ignore-existing" in init
    for mount in ("./rabbitmq/rabbitmq.conf", "./mongo/entrypoint.sh", "./mongo/init-replica-set.js"):
        assert (DEPLOY / mount).is_file(), mount


def test_compose_image_tags_are_pinned(compose):
    for name, service in compose["services"].items():
        image = service["image"]
        if image.startswith(("exam-materials:", "exam-web:")):
            continue  # built here
        assert ":" in image and not image.endswith(":latest"), f"{name}: {image}"


# ======================================================== no secrets anywhere =========
def test_no_private_key_material_is_committed_under_deploy():
    for path in DEPLOY.rglob("*"):
        if path.is_file() and "secrets" not in path.relative_to(DEPLOY).parts[:1]:
            text = path.read_text(encoding="utf-8", errors="replace")
            assert "-----BEGIN" not in text or path.suffix == ".md", path
