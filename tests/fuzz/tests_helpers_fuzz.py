"""The hypothesis settings every fuzz test runs under."""

import os

from hypothesis import HealthCheck, settings


def fuzz_settings(default_examples, *suppress):
    """Derandomized, no deadline, ``MINNET_FUZZ_EXAMPLES`` examples per test
    (``default_examples`` when unset), the too_slow health check and those in ``suppress``
    off."""
    return settings(
        max_examples=int(os.environ.get("MINNET_FUZZ_EXAMPLES", str(default_examples))),
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, *suppress],
    )
