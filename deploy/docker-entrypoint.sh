#!/bin/sh
# Container entrypoint of the services image.
#
#   <image> auth|materials|review|notify [extra nameko run options]
#       runs that service: nameko run --config $EXAM_CONFIG services.<name>.service
#   <image> <any other command...>
#       runs the command as given (a shell, a one-off admin script, ...)
set -eu

case "${1:-}" in
    auth|materials|review|notify)
        service="$1"
        shift
        # exec: nameko becomes PID 1 and receives SIGTERM itself, so it stops its
        # entrypoints, lets running workers finish and closes its connections.
        exec nameko run --config "${EXAM_CONFIG:-/app/config.yaml}" "services.${service}.service" "$@"
        ;;
    ""|-h|--help)
        echo "usage: <auth|materials|review|notify> [nameko run options] | <command ...>" >&2
        exit 64
        ;;
    *)
        exec "$@"
        ;;
esac
