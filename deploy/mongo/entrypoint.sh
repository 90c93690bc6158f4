#!/bin/bash
# Entrypoint wrapper for the MongoDB replica-set members (docker-compose.yml).
#
# mongod refuses a keyfile that is not owned by the user it runs as or that others can
# read. A compose file secret is a bind mount that keeps the host's owner and mode, so
# install a copy with owner mongodb and mode 0400, then hand over to the image's own
# entrypoint (which creates the root user on first start and drops to user mongodb).
set -euo pipefail
install -m 0400 -o mongodb -g mongodb /run/secrets/mongo_keyfile /data/keyfile
exec /usr/local/bin/docker-entrypoint.sh "$@"
