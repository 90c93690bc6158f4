"""A stand-in for the national registration system (DESIGN §4 Auth, §1), a separate
process with a database of its own (it never reads ours), on 127.0.0.1:9030 locally.

- OpenID Provider (Authlib's authorization server: authorization code + PKCE S256, OpenID
  Connect code flow with a required nonce; RS256 ID tokens whose `sub` is the 报名号),
  discovery at /.well-known/openid-configuration, keys at /jwks.json; our `auth` is its
  confidential client.
- Its own sign-in (报名号 or ID number + password), consent (授权) and 报名信息 pages; the
  "上传相关材料" button shows as our region settings say (upload_enabled and window, read
  with its `registration-system` client credentials), and 材料审核结果 lists the outcomes
  kept with `record_outcome(record)` (DESIGN §4a records).
- POST /_standin/candidates: import_candidates record(s) plus `password`; keeps the
  accounts and feeds the records (without passwords) to us through import_candidates over
  HTTPS, answering 201 with the import's result. Tests and scripts create candidates here.
- POST /_standin/mode {"id_token": "forged"|"expired"|"wrong_audience"|"alg_none"|
  "stale_nonce", "times": N}: the next N ID tokens get that wrong (tests of our checks).

Run: python -m dev.registration_standin --port 9030 --api-url http://127.0.0.1:8000 ...
"""
from dev.registration_standin.app import Standin  # noqa: F401
