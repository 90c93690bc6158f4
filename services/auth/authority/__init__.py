"""auth's use cases, one concern a module, each a class built with what it uses by
services/auth/bootstrap.py: `candidates` (the registration system's feed, and the reads
other services make), `federation` (candidates sign in at the registration system),
`oauth` (the authorization and token endpoints' rules), `sign_in` (staff passwords,
second factor, throttling), `codes` (authorization codes with PKCE), `tokens` (pairs,
refresh, client and service tokens, the verifiers' state), `sessions` (sign-out and
revocation), `staff` (administration). Entrypoints in service.py call these; the rules
themselves live in domain.py, the database behind AuthRepository."""
