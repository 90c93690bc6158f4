"""Where a webhook may go, and the request that goes there (SSRF rules, DESIGN §4a).

A subscriber's URL is an administrator's input, and notify sits inside the network,
next to the databases and the cloud's metadata service. So, at registration AND again
at every send (DNS can change between the two, or answer differently each time):

- the URL must be `https://` (plain `http://` only with WEBHOOKS.LOCAL_DEVELOPMENT),
  with a host, without user or password, without a fragment;
- we resolve the host ourselves, and refuse it if ANY address it resolves to is
  loopback, private, link-local, multicast, reserved, unspecified or otherwise not
  global (Python's `ipaddress` predicates; IPv4-mapped IPv6 judged as its IPv4), so
  a name with one public and one internal address is refused too. Local development
  lets loopback and private addresses through (the stand-in and the tests' receivers
  listen on 127.0.0.1);
- the request connects to the address we checked, never to a second resolution of
  the name (urllib3 pool on the IP; `Host`, TLS SNI and certificate check keep the
  name), and follows no redirect: a 3xx is a failed attempt like any other non-2xx.

Each request has its deadlines: connect and read timeouts here, and the caller's hard
limit around the whole call (dispatcher.py), so a slow receiver holds one sender for a
bounded time.
"""
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3

from common import errors

URL_MAX = 2048
ANSWER_BYTES = 512  # of a refusal's body, for the operators' note

# In the order a refusal is named (127.0.0.1 is private too, but "loopback" says more).
_KINDS = (("is_unspecified", "未指定地址"), ("is_loopback", "回环地址"), ("is_link_local", "链路本地地址"),
          ("is_multicast", "组播地址"), ("is_reserved", "保留地址"), ("is_private", "内网地址"))


class TargetRefused(errors.ValidationError):
    """The URL, or what its host resolves to, is not a place webhooks may go."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str        # as it goes in Host and SNI (IDNA-encoded, lower case)
    port: int
    path: str        # path and query, as sent

    @property
    def host_header(self):
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def parse(url, local_development=False):
    """The Target of a subscriber URL, or TargetRefused (nothing resolved yet)."""
    if not isinstance(url, str) or not url.strip() or len(url) > URL_MAX:
        raise TargetRefused(f"url 须为不超过{URL_MAX}个字符的网址")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise TargetRefused("url 不是有效的网址") from None
    allowed = ("https", "http") if local_development else ("https",)
    if parts.scheme not in allowed:
        raise TargetRefused("推送地址须以 https:// 开头")
    if not parts.hostname:
        raise TargetRefused("url 缺少主机名")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("推送地址中不能包含用户名或密码")
    if parts.fragment:
        raise TargetRefused("推送地址中不能包含 # 片段")
    try:
        host = parts.hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise TargetRefused("url 的主机名无效") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def refusal(address):
    """Why webhooks may not go to `address` (an ipaddress object), or None."""
    ip = address.ipv4_mapped if address.version == 6 and address.ipv4_mapped else address
    for predicate, name in _KINDS:
        if getattr(ip, predicate):
            return name
    if not ip.is_global:
        return "非公网地址"
    return None


def resolve(target, resolver=socket.getaddrinfo):
    """Every address the host resolves to now, in the resolver's order (an IP literal
    resolves to itself)."""
    try:
        infos = resolver(target.host, target.port, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TargetRefused(f"无法解析主机名 {target.host}") from None
    found = []
    for info in infos:
        text = info[4][0].split("%", 1)[0]  # an IPv6 scope id is no part of the address
        if text not in found:
            found.append(text)
    if not found:
        raise TargetRefused(f"无法解析主机名 {target.host}")
    return found


def check(url, local_development=False, resolver=socket.getaddrinfo):
    """(Target, addresses) for a URL webhooks may go to now, or TargetRefused."""
    target = parse(url, local_development)
    addresses = resolve(target, resolver)
    if not local_development:
        for text in addresses:
            why = refusal(ipaddress.ip_address(text))
            if why is not None:
                raise TargetRefused(f"推送地址 {target.host} 解析到{why} {text}，不允许推送到内部网络")
    return target, addresses


def post(target, address, headers, payload, connect_timeout_s, read_timeout_s, ca_file=None):
    """POST `payload` to `target` at `address` (checked by the caller); the receiver's
    status and the start of its answer. Raises urllib3's errors for no answer."""
    timeout = urllib3.Timeout(connect=connect_timeout_s, read=read_timeout_s)
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, target.port, timeout=timeout, retries=False, maxsize=1, block=False,
            cert_reqs="CERT_REQUIRED", ca_certs=ca_file, server_hostname=target.host,
            assert_hostname=target.host)
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False,
                                          maxsize=1, block=False)
    try:
        response = pool.urlopen("POST", target.path, body=payload.encode("utf-8"),
                                headers=dict(headers, Host=target.host_header), redirect=False,
                                retries=False, assert_same_host=False, preload_content=False)
        try:
            answer = response.read(ANSWER_BYTES)
        finally:
            response.release_conn()
        return response.status, answer.decode("utf-8", "replace")
    finally:
        pool.close()
