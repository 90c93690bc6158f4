#!/usr/bin/env python3
"""Container health probe for the services image (standard library only).

    probe --ready URL   exit 0 only if URL answers 200: the service *and* the
                        dependencies it needs are usable (readiness; compose healthcheck)
    probe URL           exit 0 if URL answers at all, whatever the status (liveness)

Why two modes: /healthz/<service> answers 503 when MongoDB, RabbitMQ or S3 is down.
That must take the container out of the load balancer (readiness) but must not get it
killed (liveness): restarting every replica during a database failover only adds a
restart storm to the outage. A container whose web server still answers, even with a
503, is alive. One that does not answer within the timeout (crashed, or its eventlet
hub is blocked) is not, and a restart is the right remedy.
"""
import http.client
import os
import sys
import urllib.parse

# Well under the probes' timeoutSeconds (5), so a hung service is reported, not killed
# by the kubelet mid-probe.
TIMEOUT_SECONDS = float(os.environ.get("PROBE_TIMEOUT_SECONDS", "3"))


def main(argv):
    args = [a for a in argv if a != "--ready"]
    ready = len(args) != len(argv)
    if len(args) != 1:
        print("usage: probe [--ready] http://HOST:PORT/PATH", file=sys.stderr)
        return 64
    url = urllib.parse.urlsplit(args[0])
    if url.scheme != "http" or not url.hostname:
        print(f"probe: only http:// URLs are supported, got {args[0]!r}", file=sys.stderr)
        return 64
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=TIMEOUT_SECONDS)
    try:
        conn.request("GET", url.path or "/", headers={"User-Agent": "probe"})
        response = conn.getresponse()
        body = response.read(512)
    except (OSError, http.client.HTTPException) as exc:
        print(f"probe: {args[0]}: no answer ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 1
    finally:
        conn.close()
    if ready and response.status != 200:
        print(f"probe: {args[0]}: HTTP {response.status} {body[:200]!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
