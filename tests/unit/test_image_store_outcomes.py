"""How an S3 write that failed is judged (services/materials/storage.py): certainly not
stored (the upload's pending note can go) or perhaps stored (the note stays for the
orphan sweeper). The client here only raises what urllib3 and minio raise."""
import pytest
from minio.error import S3Error
from urllib3 import exceptions as http_errors

from common.errors import Unavailable
from services.materials.storage import ImageStore, StorageTimeout


class Failing:
    def __init__(self, exc):
        self.exc = exc

    def put_object(self, *args, **kwargs):
        raise self.exc


def outcome(exc):
    with pytest.raises(Unavailable) as raised:
        ImageStore(Failing(exc), "bucket").put("k", b"data", "image/jpeg")
    return type(raised.value)


def test_a_refused_connection_or_an_answer_from_s3_means_nothing_was_stored():
    refused = http_errors.NewConnectionError(None, "Connection refused")
    assert outcome(refused) is Unavailable
    assert outcome(http_errors.MaxRetryError(None, "/k", refused)) is Unavailable
    assert outcome(S3Error("InternalError", "x", "/k", "r", "h", None)) is Unavailable


@pytest.mark.parametrize("exc", [
    http_errors.ProtocolError("Connection aborted.", ConnectionResetError()),
    http_errors.MaxRetryError(None, "/k", http_errors.ProtocolError("reset")),
    ConnectionResetError(),
    http_errors.ReadTimeoutError(None, "/k", "read timed out"),
])
def test_a_connection_cut_after_the_request_went_out_may_have_stored_it(exc):
    assert outcome(exc) is StorageTimeout
