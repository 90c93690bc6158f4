#!/bin/sh
# One-shot MinIO setup, run by the minio-init container (docker-compose.yml) and, with
# the same script, by the Kubernetes Job in k8s/infra/minio-init.yaml.
# Idempotent: safe to run on every start.
#
#   - bucket $S3_BUCKET (materials), private, default encryption SSE-S3 (the KMS key is
#     MINIO_KMS_SECRET_KEY in compose, KES/the Tenant's configuration in Kubernetes)
#   - policy materials-rw: read, write and delete objects in the bucket (materials service)
#   - policy review-ro: read objects only (review service, which presigns reviewers' links)
#   - one access key per policy, from the environment
#
# Credentials reach mc through MC_HOST_<alias> (environment), never on a command line.
set -eu

# In Kubernetes the root credentials are the Tenant's configuration file (lines of
# `export MINIO_ROOT_USER=...`), mounted from its Secret: read them from there.
if [ -n "${MINIO_CONFIG_ENV:-}" ]; then
    # shellcheck disable=SC1090
    . "$MINIO_CONFIG_ENV"
fi

: "${MINIO_URL:?}" "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}" "${S3_BUCKET:=materials}"
: "${S3_MATERIALS_ACCESS_KEY:?}" "${S3_MATERIALS_SECRET_KEY:?}"
: "${S3_REVIEW_ACCESS_KEY:?}" "${S3_REVIEW_SECRET_KEY:?}"

# Refuse the placeholders of .env.example / secret.example.yaml.
for value in "$MINIO_ROOT_PASSWORD" "$S3_MATERIALS_SECRET_KEY" "$S3_REVIEW_SECRET_KEY"; do
    case "$value" in
        CHANGE-ME*) echo "minio-init: a secret still has its CHANGE-ME placeholder" >&2; exit 1 ;;
    esac
done

POLICY_DIR="${POLICY_DIR:-/opt/exam/policies}"
scheme="${MINIO_URL%%://*}"
hostport="${MINIO_URL#*://}"
export MC_HOST_exam="${scheme}://${MINIO_ROOT_USER}:${MINIO_ROOT_PASSWORD}@${hostport}"
# mc wants a writable config directory; the container's own /tmp is enough
export MC_CONFIG_DIR="${MC_CONFIG_DIR:-/tmp/.mc}"

attempt=0
until mc ready exam >/dev/null 2>&1; do
    attempt=$((attempt + 1))
    if [ "$attempt" -ge 60 ]; then
        echo "minio-init: MinIO at $MINIO_URL not ready after 2 minutes" >&2
        exit 1
    fi
    sleep 2
done

mc mb --ignore-existing "exam/${S3_BUCKET}"
mc anonymous set none "exam/${S3_BUCKET}"
mc encrypt set sse-s3 "exam/${S3_BUCKET}"

mc admin policy create exam materials-rw "${POLICY_DIR}/materials-rw.json"
mc admin policy create exam review-ro "${POLICY_DIR}/review-ro.json"

# `user add` on an existing user just sets its secret again (key rotation = rerun).
mc admin user add exam "$S3_MATERIALS_ACCESS_KEY" "$S3_MATERIALS_SECRET_KEY"
mc admin user add exam "$S3_REVIEW_ACCESS_KEY" "$S3_REVIEW_SECRET_KEY"

attach() {
    # attaching a policy that is already attached is an error for mc; not for us
    if ! out=$(mc admin policy attach exam "$1" --user "$2" 2>&1); then
        case "$out" in
            *already*) ;;
            *) echo "$out" >&2; exit 1 ;;
        esac
    fi
}
attach materials-rw "$S3_MATERIALS_ACCESS_KEY"
attach review-ro "$S3_REVIEW_ACCESS_KEY"

echo "minio-init done: bucket ${S3_BUCKET} (SSE-S3), users with materials-rw and review-ro"
