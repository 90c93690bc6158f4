"""python -m dev.registration_standin: serve the stand-in in the foreground (`make run`'s
supervisor runs it). Secrets come from the environment (dev/secrets.py locally):
FEDERATION_CLIENT_SECRET (our auth's secret here), REGISTRATION_SYSTEM_SECRET (its own
client credentials at our /auth/token) and STANDIN_SECRET_KEY (its sessions and keyed
hashes)."""
import argparse
import logging
import os

from dev.registration_standin import Standin

PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9030)
    parser.add_argument("--issuer", default=None, help="default http://HOST:PORT")
    parser.add_argument("--mongo-uri", default=os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017/"))
    parser.add_argument("--database", default=os.environ.get("STANDIN_DATABASE", "registration_standin"))
    parser.add_argument("--client-id", default=os.environ.get("FEDERATION_CLIENT_ID", "exam-upload"))
    parser.add_argument("--api-url", default=PUBLIC_URL, help="our system's origin")
    parser.add_argument("--upload-url", default=f"{PUBLIC_URL}/", help="where 上传相关材料 leads")
    parser.add_argument("--redirect-uri", action="append",
                        help=f"our callback (default {PUBLIC_URL}/auth/federation/callback)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    standin = Standin(
        host=args.host, port=args.port, issuer=args.issuer, mongo_uri=args.mongo_uri,
        database=args.database, secret_key=os.environ["STANDIN_SECRET_KEY"],
        client_id=args.client_id, client_secret=os.environ["FEDERATION_CLIENT_SECRET"],
        redirect_uris=args.redirect_uri or [f"{PUBLIC_URL}/auth/federation/callback"],
        api_url=args.api_url, upload_url=args.upload_url,
        registration_secret=os.environ.get("REGISTRATION_SYSTEM_SECRET", ""))
    logging.getLogger("registration_standin").info("listening on %s (issuer %s)", standin.url, standin.issuer)
    standin.serve_forever()


if __name__ == "__main__":
    main()
