"""The services' broker accounts (DESIGN §6): one RabbitMQ user per service and vhost,
allowed exactly what that service does, through the management API.

Resource names are nameko's: the RPC exchange `nameko-rpc` (topic) with queues `rpc-S`
(binding key `S.*`) and reply queues `rpc.reply-S-<uuid>` / `rpc.reply-standalone_rpc_proxy-<uuid>`
(binding key the uuid), events on the topic exchange `S.events`, a handler's queue
`evt-SOURCE-EVENT--S.method` (binding key EVENT) with our retry and dead-letter queues
after it. So a service may

- publish only to `nameko-rpc` (with topic permissions: the RPC methods it calls, and
  replies), to its own `S.events`, and to the default exchange (its retry queues);
- consume and bind only its own queues, and bind only with the keys it serves: its own
  `S.*` on `nameko-rpc` and the event types it handles on their sources' exchanges.

The default exchange routes by queue name, which topic permissions cannot restrict, so a
service could still drop a message into another's queue that way: consumers therefore
also check the validated `user_id` of every event (common/messaging.py), which RabbitMQ
refuses to let a publisher set to anyone but itself.

The event types a service handles are read from its code (its event handlers), so the
permissions cannot drift from what it subscribes to.
"""
import importlib
import inspect

import requests

SERVICES = ("auth", "materials", "review", "notify")
# RPC methods a service calls on another (besides every service's calls to auth for its
# token verifier: token_state and service_token).
CALLS = {"auth": (), "materials": ("review.site_review_times",),
         "review": ("auth.get_profile", "auth.compare_identity", "auth.candidate_by_id_number",
                    "materials.get_region"),
         "notify": ("auth.get_contact",)}
VERIFIER_CALLS = ("auth.token_state", "auth.service_token")
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
NAME = "[A-Za-z]+"


def handled_events(service):
    """{source service: [event types]} of the service's event handlers."""
    from common.messaging import BroadcastHandler, ReliableEventHandler
    cls = next(obj for obj in vars(importlib.import_module(f"services.{service}.service")).values()
               if inspect.isclass(obj) and getattr(obj, "name", None) == service)
    found = {}
    for _, member in inspect.getmembers(cls, inspect.isfunction):
        for entrypoint in getattr(member, "nameko_entrypoints", ()):
            if isinstance(entrypoint, (ReliableEventHandler, BroadcastHandler)):
                found.setdefault(entrypoint.source_service, []).append(entrypoint.event_type)
    return {source: sorted(set(types)) for source, types in sorted(found.items())}


def rules(service):
    """(permissions, topic permissions) of the service's broker user."""
    events = handled_events(service)
    own_queues = (f"rpc-{service}|rpc\\.reply-({service}|standalone_rpc_proxy)-{UUID}"
                  f"|evt-{NAME}-{NAME}--{service}\\..+")
    sources = "|".join(f"{source}\\.events" for source in events)
    others = "|".join(f"{source}\\.events" for source in events if source != service)
    exchanges_read = "nameko-rpc" + (f"|{sources}" if sources else "")
    permissions = {
        # Declaring an exchange (nameko declares what it uses) takes `configure` on it.
        "configure": f"^({own_queues}|nameko-rpc|{service}\\.events" + (f"|{others}" if others else "") + ")$",
        "write": f"^({own_queues}|nameko-rpc|{service}\\.events|amq\\.default)$",
        "read": f"^({own_queues}|{exchanges_read})$",
    }
    calls = "|".join(m.replace(".", "\\.") for m in (*VERIFIER_CALLS, *CALLS[service]))
    own = {"exchange": f"{service}.events", "write": ".*", "read": "^$"}
    topics = [{"exchange": "nameko-rpc", "write": f"^({calls}|{UUID})$", "read": f"^({service}\\.\\*|{UUID})$"},
              own]
    for source, types in events.items():
        keys = f"^({'|'.join(types)})$"
        if source == service:  # signals to its own instances (broadcast, e.g. materials' live.py)
            own["read"] = keys  # one topic permission per exchange: the same entry
        else:
            topics.append({"exchange": f"{source}.events", "write": "^$", "read": keys})
    return permissions, topics


def provision(api_url, admin_auth, vhost, passwords, prefix, keep_admin=False):
    """Create (or update) user `prefix + service` for each service on `vhost` with its
    rules, and (unless `keep_admin`: a test's vhost, where the test itself connects as the
    admin) take `admin_auth`'s own user off the vhost. Returns {service: username}."""
    session = requests.Session()
    session.auth = admin_auth
    quoted = requests.utils.quote(vhost, safe="")
    session.put(f"{api_url}/api/vhosts/{quoted}", timeout=10).raise_for_status()
    users = {}
    for service in SERVICES:
        user = f"{prefix}{service}"
        permissions, topics = rules(service)
        session.put(f"{api_url}/api/users/{user}", json={"password": passwords[service], "tags": ""},
                    timeout=10).raise_for_status()
        session.put(f"{api_url}/api/permissions/{quoted}/{user}", json=permissions, timeout=10).raise_for_status()
        session.delete(f"{api_url}/api/topic-permissions/{quoted}/{user}", timeout=10)
        for topic in topics:
            session.put(f"{api_url}/api/topic-permissions/{quoted}/{user}", json=topic,
                        timeout=10).raise_for_status()
        users[service] = user
    if not keep_admin:
        session.delete(f"{api_url}/api/permissions/{quoted}/{admin_auth[0]}", timeout=10)
    return users


def remove_users(api_url, admin_auth, users):
    for user in users:
        requests.delete(f"{api_url}/api/users/{user}", auth=admin_auth, timeout=10)


# -- the same accounts for production (deploy/k8s/infra/rabbitmq-accounts.yaml) -------------------
K8S_HEADER = """\
# GENERATED by `python -m dev.broker` from dev/broker.py (the services' broker accounts,
# DESIGN §6); tests/deploy checks it is current. RabbitMQ Messaging Topology Operator
# resources: one User per service (credentials: Secret exam-amqp-<service>, keys
# username and password, created out of band: secret.example.yaml), its Permission on
# the vhost, and TopicPermissions for the routing keys it may publish and bind.
"""


def k8s_resources(prefix="exam-", vhost="exam", cluster="exam-rabbitmq"):
    cluster_ref = {"name": cluster}
    labels = {"app.kubernetes.io/part-of": "exam-materials"}
    resources = []
    for service in SERVICES:
        user = f"{prefix}{service}"
        permissions, topics = rules(service)
        resources.append({"apiVersion": "rabbitmq.com/v1beta1", "kind": "User",
                          "metadata": {"name": user, "labels": labels},
                          "spec": {"tags": [], "rabbitmqClusterReference": cluster_ref,
                                   "importCredentialsSecret": {"name": f"exam-amqp-{service}"}}})
        resources.append({"apiVersion": "rabbitmq.com/v1beta1", "kind": "Permission",
                          "metadata": {"name": f"{user}-on-{vhost}", "labels": labels},
                          "spec": {"vhost": vhost, "userReference": {"name": user},
                                   "permissions": permissions, "rabbitmqClusterReference": cluster_ref}})
        for topic in topics:
            resources.append({"apiVersion": "rabbitmq.com/v1beta1", "kind": "TopicPermission",
                              "metadata": {"name": f"{user}-topic-{topic['exchange'].replace('.', '-')}",
                                           "labels": labels},
                              "spec": {"vhost": vhost, "userReference": {"name": user},
                                       "permissions": topic, "rabbitmqClusterReference": cluster_ref}})
    return resources


def k8s_manifest():
    import yaml
    return K8S_HEADER + "".join("---\n" + yaml.safe_dump(doc, sort_keys=False, width=200)
                                for doc in k8s_resources())


def main(argv=None):
    """`python -m dev.broker` prints the k8s resources; `python -m dev.broker provision`
    creates the accounts through the management API (compose's one-shot rabbitmq-init):
    admin credentials from RABBITMQ_USER/RABBITMQ_PASSWORD, each service's password from
    RABBITMQ_PASSWORD_<SERVICE>."""
    import argparse
    import os
    parser = argparse.ArgumentParser(prog="python -m dev.broker", description=main.__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", choices=["k8s", "provision"], default="k8s")
    parser.add_argument("--api", default="http://127.0.0.1:15672")
    parser.add_argument("--vhost", default="exam")
    parser.add_argument("--prefix", default="exam-")
    args = parser.parse_args(argv)
    if args.command == "k8s":
        print(k8s_manifest(), end="")
        return
    passwords = {service: os.environ[f"RABBITMQ_PASSWORD_{service.upper()}"] for service in SERVICES}
    users = provision(args.api, (os.environ["RABBITMQ_USER"], os.environ["RABBITMQ_PASSWORD"]),
                      args.vhost, passwords, args.prefix)
    print(f"broker accounts ready on vhost {args.vhost}: {', '.join(users.values())}")


if __name__ == "__main__":
    main()
