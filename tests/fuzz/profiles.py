"""Hypothesis profiles of the fuzz tests (a pytest plugin, loaded by the root conftest so that
``--hypothesis-profile=long`` is known when the option is read).

The default profile stays Hypothesis' own (100 examples a test); ``long`` runs 5,000 a test (about an hour for
all of ``tests/fuzz`` on a 2-core machine): ``pytest tests/fuzz --hypothesis-profile=long``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
