"""Reading the outcome feed as the registration system does (DESIGN §4a), for the
stand-in registration system and the tests.

    token = client_token("http://127.0.0.1:8000", secret)      # client credentials
    items, cursor = read_page(url, token)                       # from the start
    items, cursor = read_page(url, token, after=cursor)         # and on; keep `cursor`

`follow()` reads page after page until the feed has nothing newer and returns every
item with the cursor to poll with next time. Keep the cursor you were last given
(also after an empty page) and never build one: a cursor we did not issue is 400.
"""
import requests

PATH = "/integration/v1/outcomes"
CLIENT_ID = "registration-system"


def client_token(base_url, secret, timeout=10):
    """An access token of the registration system's client (client credentials)."""
    response = requests.post(f"{base_url}/auth/token", auth=(CLIENT_ID, secret), timeout=timeout,
                             data={"grant_type": "client_credentials"})
    response.raise_for_status()
    return response.json()["access_token"]


def read_page(base_url, token, after=None, limit=100, session=None, timeout=10):
    """(items, next) of one page; raises requests' HTTPError for a refusal (its JSON
    body is the §4 envelope: `error.code`, `error.message`)."""
    params = {"limit": limit}
    if after is not None:
        params["after"] = after
    response = (session or requests).get(f"{base_url}{PATH}", params=params, timeout=timeout,
                                         headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    body = response.json()
    return body["items"], body["next"]


def follow(base_url, token, after=None, limit=500, session=None, timeout=10):
    """(every item after `after` up to now, in sequence order; the cursor to go on from)."""
    found = []
    while True:
        items, after_next = read_page(base_url, token, after, limit, session, timeout)
        found.extend(items)
        after = after_next
        if len(items) < limit:
            return found, after
