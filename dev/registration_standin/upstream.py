"""The stand-in's calls to our system, as the national registration system makes them:
over HTTPS at the one origin with its own client credentials (`registration-system`,
DESIGN §5): import_candidates, and each region's upload settings for the 报名信息 page."""
import threading
import time

import requests

CLIENT_ID = "registration-system"
REGION_CACHE_S = 30
FEED_BATCH = 100  # records per import_candidates call: about 25 KB of JSON, under the 64 KB RPC cap


class Unreachable(Exception):
    """Our system did not answer (or answered with a server error)."""


class OurSystem:
    def __init__(self, api_url, client_secret, timeout=30):
        self.api_url = (api_url or "").rstrip("/")
        self.secret = client_secret
        self.timeout = timeout
        self._lock = threading.Lock()
        self._token, self._token_until = None, 0.0
        self._regions = {}

    def access_token(self):
        with self._lock:
            if self._token and time.time() < self._token_until:
                return self._token
        try:
            response = requests.post(f"{self.api_url}/auth/token", auth=(CLIENT_ID, self.secret),
                                     data={"grant_type": "client_credentials"}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise Unreachable(str(exc)) from None
        if response.status_code != 200:
            raise Unreachable(f"token: HTTP {response.status_code} {response.text[:200]}")
        body = response.json()
        with self._lock:
            self._token = body["access_token"]
            self._token_until = time.time() + int(body.get("expires_in", 300)) - 60
        return self._token

    def call(self, service, method, **kwargs):
        """(HTTP status, body) of one RPC over HTTPS; Unreachable when there is no answer."""
        try:
            response = requests.post(f"{self.api_url}/rpc/{service}/{method}", json=kwargs,
                                     headers={"Authorization": f"Bearer {self.access_token()}"},
                                     timeout=self.timeout)
        except requests.RequestException as exc:
            raise Unreachable(str(exc)) from None
        if response.status_code == 401:  # our token expired or was revoked early: once more
            with self._lock:
                self._token = None
        if response.status_code >= 500:
            raise Unreachable(f"{service}.{method}: HTTP {response.status_code}")
        try:
            return response.status_code, response.json()
        except ValueError:
            raise Unreachable(f"{service}.{method}: not JSON") from None

    def import_candidates(self, records):
        """(HTTP status, body) of feeding `records`, in batches of FEED_BATCH: an RPC body
        over HTTPS is capped at 64 KB (dev/nginx.conf, deploy/nginx/edge.conf), about 250
        records. The batches' results add up as one import's would (error indexes counted
        from the first record); the first refused batch's answer is returned as it came."""
        total = {"created": 0, "updated": 0, "unchanged": 0, "errors": []}
        for start in range(0, len(records), FEED_BATCH):
            status, body = self.call("auth", "import_candidates", records=records[start:start + FEED_BATCH])
            if status != 200:
                return status, body
            result = body["result"]
            for key in ("created", "updated", "unchanged"):
                total[key] += result.get(key, 0)
            total["errors"] += [dict(e, index=e["index"] + start) if "index" in e else e
                                for e in result.get("errors", [])]
        return 200, {"result": total}

    def region(self, region):
        """Region settings (get_region's result), kept REGION_CACHE_S; Unreachable if none."""
        cached = self._regions.get(region)
        if cached and cached[0] > time.time():
            return cached[1]
        status, body = self.call("materials", "get_region", region=region)
        if status != 200:
            raise Unreachable(f"get_region: HTTP {status}")
        self._regions[region] = (time.time() + REGION_CACHE_S, body["result"])
        return body["result"]
