"""Which exceptions mean "a dependency is down" rather than "this code is wrong".

One list, so HTTP and RPC answer an outage the same way (503 / Unavailable) and
handlers know to retry rather than dead-letter."""
import socket

import urllib3.exceptions
from kombu.exceptions import OperationalError as KombuOperationalError
from pymongo.errors import (
    AutoReconnect, ConnectionFailure, ExecutionTimeout, PyMongoError, ServerSelectionTimeoutError)

from common.errors import Unavailable

OUTAGE_ERRORS = (
    Unavailable,
    ConnectionFailure, AutoReconnect, ServerSelectionTimeoutError, ExecutionTimeout,
    urllib3.exceptions.HTTPError,
    KombuOperationalError,
    ConnectionError, socket.timeout, TimeoutError,
)


def is_outage(exc):
    # pymongo marks every error of a call that ran out of its deadline (timeoutMS)
    return isinstance(exc, OUTAGE_ERRORS) or (isinstance(exc, PyMongoError) and getattr(exc, "timeout", False))
