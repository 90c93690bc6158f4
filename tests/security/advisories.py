"""Known security advisories of the packages this system runs on, as minimum safe
versions (tests/security/test_dependencies.py).

Why a list and not a scanner: this machine reaches PyPI's simple index and project
pages only. OSV (api.osv.dev) and GitHub do not resolve, and the per-version JSON
(`/pypi/<name>/<version>/json`, where PyPI publishes vulnerabilities) answers 404, so
`pip-audit -s pypi` skips every package and still exits 0 ("No known vulnerabilities
found"); only `--strict` makes it fail. Where a scanner can run (CI with internet),
run `pip-audit --strict -r <(pip freeze)` as well; this list is the offline floor.

Keeping it current (whoever bumps a pin or reads an advisory):
- add the advisory under its package: the first fixed version and its ids (CVE, GHSA
  or PYSEC), and one line saying what it is;
- a package with no advisory known still gets an entry (an empty tuple): the test
  insists every runtime dependency of pyproject.toml was looked at;
- set REVIEWED to the day of the review. The test warns when the review is older than
  REVIEW_EVERY_DAYS.
"""
from dataclasses import dataclass
from datetime import date

REVIEWED = date(2026, 11, 30)
REVIEW_EVERY_DAYS = 90


@dataclass(frozen=True)
class Advisory:
    fixed_in: str     # first version that is not affected
    ids: tuple        # CVE / GHSA / PYSEC identifiers
    what: str


ADVISORIES = {
    # -- images: every upload is decoded by Pillow ----------------------------------------
    "pillow": (
        Advisory("10.0.0", ("CVE-2023-44271", "GHSA-8ghj-p4vj-mr35"), "ImageFont: unbounded text length DoS"),
        Advisory("10.0.1", ("CVE-2023-4863",), "bundled libwebp heap overflow"),
        Advisory("10.2.0", ("CVE-2023-50447", "GHSA-3f63-hfp8-52jq"), "ImageMath.eval arbitrary code execution"),
        Advisory("10.3.0", ("CVE-2024-28219", "GHSA-44wm-f244-xhp3"), "_imagingcms buffer overflow"),
        Advisory("11.3.0", ("CVE-2025-48379", "GHSA-xg8h-j46f-w952"), "DDS encoder heap buffer overflow"),
    ),
    # -- tokens and crypto -----------------------------------------------------------------
    "pyjwt": (
        Advisory("2.4.0", ("CVE-2022-29217", "GHSA-ffqj-6fqr-9h24"), "algorithm confusion with EC/OKP keys"),
        Advisory("2.10.1", ("CVE-2024-53861", "GHSA-75c5-xw7c-p5pm"), "issuer checked by partial match"),
    ),
    "cryptography": (
        Advisory("39.0.1", ("CVE-2023-0286", "GHSA-x4qr-2fvf-3mr5"), "bundled OpenSSL X.400 type confusion"),
        Advisory("41.0.6", ("CVE-2023-49083", "GHSA-jfhm-5ghh-2f97"), "NULL dereference loading PKCS7"),
        Advisory("42.0.0", ("CVE-2023-50782", "GHSA-3ww4-gg4f-jr7f"), "RSA decryption timing oracle"),
        Advisory("42.0.4", ("CVE-2024-26130", "GHSA-6vqw-3v5j-54x4"), "NULL dereference in PKCS12 serialisation"),
        Advisory("43.0.1", ("GHSA-h4gh-qq45-vh27",), "bundled OpenSSL vulnerabilities"),
        Advisory("44.0.1", ("CVE-2024-12797", "GHSA-79v4-65xg-pq4g"), "bundled OpenSSL RPK authentication"),
    ),
    "pycryptodome": (  # minio's dependency
        Advisory("3.19.1", ("CVE-2023-52323", "GHSA-j225-cvw7-qrw8"), "OAEP decryption side channel"),
    ),
    "argon2-cffi": (),
    "argon2-cffi-bindings": (),
    # -- HTTP: clients, server, parsing ---------------------------------------------------
    "urllib3": (
        Advisory("2.0.6", ("CVE-2023-43804", "GHSA-v845-jxx5-vc9f"), "Cookie header kept on cross-origin redirect"),
        Advisory("2.0.7", ("CVE-2023-45803", "GHSA-g4mx-q9vg-27p4"), "request body kept on 303 redirect"),
        Advisory("2.2.2", ("CVE-2024-37891", "GHSA-34jh-p97f-mpxf"), "Proxy-Authorization kept on cross-origin redirect"),
        Advisory("2.5.0", ("CVE-2025-50181", "GHSA-pq67-6m6q-mj2v"), "redirects not disabled by PoolManager retries"),
        Advisory("2.5.0", ("CVE-2025-50182", "GHSA-48p4-8xcf-vxj5"), "redirect control ignored in Pyodide"),
        Advisory("2.6.0", ("CVE-2025-66418", "GHSA-gm62-xv2j-4w53"), "unbounded chain of content decoders"),
        Advisory("2.6.0", ("CVE-2025-66471", "GHSA-2xpw-w6gg-jr37"), "decompression bomb in the streaming API"),
        Advisory("2.6.3", ("CVE-2026-21441",), "decompression bomb through redirect responses"),
    ),
    "requests": (
        Advisory("2.31.0", ("CVE-2023-32681", "GHSA-j8r2-6x86-q33q"), "Proxy-Authorization leaked to destination"),
        Advisory("2.32.0", ("CVE-2024-35195", "GHSA-9wx4-h78v-vm56"), "verify=False sticks to the connection pool"),
        Advisory("2.32.4", ("CVE-2024-47081", "GHSA-9hjg-9r4m-mvj7"), ".netrc credentials leaked to other hosts"),
    ),
    "werkzeug": (
        Advisory("2.2.3", ("CVE-2023-25577", "GHSA-xg9f-g7g7-2323"), "multipart parser resource exhaustion"),
        Advisory("3.0.1", ("CVE-2023-46136", "GHSA-hrfv-mqp8-q5rw"), "multipart parser DoS"),
        Advisory("3.0.3", ("CVE-2024-34069", "GHSA-2g68-c3qc-8985"), "debugger remote code execution"),
        Advisory("3.0.6", ("CVE-2024-49766", "GHSA-f9vj-2wh5-fj8j"), "safe_join UNC paths on Windows"),
        Advisory("3.0.6", ("CVE-2024-49767", "GHSA-q34m-jh98-gwm2"), "multipart form resource exhaustion"),
        Advisory("3.1.4", ("CVE-2025-66221", "GHSA-hgf8-39gv-g3f2"), "safe_join Windows device names"),
    ),
    # -- the registration system's stand-in (dev extras: local development and tests) -----
    "authlib": (
        Advisory("1.3.1", ("CVE-2024-37568",), "JWS algorithm confusion with asymmetric public keys"),
        Advisory("1.6.5", ("GHSA-g7f3-828f-7h7m",), "one of two advisories against 1.6.4 and earlier"),
        Advisory("1.6.5", ("GHSA-pq5p-34cr-23v9",), "the other advisory against 1.6.4 and earlier"),
    ),
    "flask": (
        Advisory("2.3.2", ("CVE-2023-30861", "GHSA-m2qf-hxjv-5gpq"), "session cookie cached by proxies"),
        Advisory("3.1.1", ("CVE-2025-47278", "GHSA-4grg-w6v8-c28g"), "fallback secret key used for signing"),
    ),
    "eventlet": (  # eventlet.wsgi is our HTTP server
        Advisory("0.31.0", ("CVE-2021-21419", "GHSA-9p9m-jm8w-94p2"), "websocket frame memory exhaustion"),
        Advisory("0.35.2", ("CVE-2023-29483", "GHSA-3rq5-2g8h-59hc"), "DNS response spoofing (TuDoor)"),
        Advisory("0.40.3", ("CVE-2025-58068", "GHSA-hw6f-rjfj-j7j7"), "HTTP request smuggling via trailers"),
    ),
    "dnspython": (
        Advisory("2.6.1", ("CVE-2023-29483", "GHSA-3rq5-2g8h-59hc"), "DNS response spoofing (TuDoor)"),
    ),
    "idna": (
        Advisory("3.7", ("CVE-2024-3651", "GHSA-jjg7-2v4v-x38h"), "idna.encode quadratic-time DoS"),
    ),
    "certifi": (
        Advisory("2023.7.22", ("CVE-2023-37920", "GHSA-xqr8-7jwr-rhp7"), "e-Tugra root still trusted"),
        Advisory("2024.7.4", ("CVE-2024-39689", "GHSA-248v-346w-9cwc"), "GLOBALTRUST roots still trusted"),
    ),
    # -- messaging, storage ---------------------------------------------------------------------
    "nameko": (),
    "kombu": (),
    "amqp": (),
    "pymongo": (
        Advisory("4.6.3", ("CVE-2024-5629", "GHSA-m87m-mmvp-v9qm"), "bson out-of-bounds read"),
    ),
    "minio": (),
    # -- config, logs, metrics, SMS SDK -------------------------------------------------------------
    "pyyaml": (
        Advisory("5.4", ("CVE-2020-14343", "GHSA-8q59-q68h-6hv4"), "full_load arbitrary code execution"),
    ),
    "python-json-logger": (),
    "prometheus-client": (),
    "tencentcloud-sdk-python-common": (),
    "tencentcloud-sdk-python-sms": (),
    # administrators' second factor (auth): no advisory known for either
    "pyotp": (),
    "segno": (),
    # -- review's ID card reader (issue 21): OCR on photos candidates uploaded -------------------
    "rapidocr-onnxruntime": (),
    "onnxruntime": (),
    "opencv-python": (  # decodes the photo; bundles its own image libraries
        Advisory("4.8.1.78", ("CVE-2023-4863",), "bundled libwebp heap overflow"),
    ),
    "numpy": (
        Advisory("1.21.0", ("CVE-2021-33430",), "PyArray_NewFromDescr_int buffer overflow"),
    ),
    "protobuf": (  # onnxruntime's dependency
        Advisory("6.31.1", ("CVE-2025-4565",), "pure-Python backend recursion DoS"),
    ),
    "tqdm": (
        Advisory("4.66.3", ("CVE-2024-34062",), "CLI arguments evaluated"),
    ),
    "shapely": (),
    "pyclipper": (),
    # -- administrators' workbooks (exports; imports of the registration system's lists) -----
    "openpyxl": (),  # no advisory known; untrusted XML is parsed through defusedxml (below)
    "defusedxml": (),
    # -- outcomes to the registration system (issue 27): Standard Webhooks signing --------------
    # none known (2026-12-07: its repository's issues and PyPI page); note that its verify()
    # raises ValueError, not WebhookVerificationError, on a signature header without a comma
    "standardwebhooks": (),
    # -- packaging (nameko's CLI imports pkg_resources at run time) --------------------------------
    "setuptools": (
        Advisory("65.5.1", ("CVE-2022-40897", "GHSA-r9hx-vwmv-q579"), "package_index ReDoS"),
        Advisory("70.0.0", ("CVE-2024-6345", "GHSA-cx63-2mw6-8hw5"), "package_index code injection"),
        Advisory("78.1.1", ("CVE-2025-47273", "GHSA-5rjg-fvgr-3xxf"), "PackageIndex path traversal"),
    ),
    "pip": (  # in every venv this project builds (`make` and the container image)
        Advisory("23.3", ("CVE-2023-5752", "GHSA-mq26-g339-26xf"), "Mercurial option injection"),
        Advisory("25.3", ("CVE-2025-8869", "GHSA-4xh5-x5gv-qwph"), "tar fallback extracts symlinks outside the target"),
    ),
}


def minimum_safe(package):
    """The lowest version free of every listed advisory, or None if none is listed."""
    from packaging.version import Version
    versions = [Version(a.fixed_in) for a in ADVISORIES[package]]
    return str(max(versions)) if versions else None
