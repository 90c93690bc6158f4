"""What the integration suites share beyond the root conftest. review_helpers' and
outcome_helpers' fixtures (make_exam, outcomes) are registered once, as plugins in
tests/conftest.py, so test modules import helpers and constants, never fixtures; the
outcome feed and webhook suites (marked `outcome_settings`) run notify with fast rounds."""
import pytest

from outcome_helpers import fast_rounds


@pytest.fixture
def config(config, request):
    if request.node.get_closest_marker("outcome_settings"):
        fast_rounds(config)
    return config
