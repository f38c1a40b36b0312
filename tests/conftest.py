"""Settings shared by the whole suite."""

from __future__ import annotations

from hypothesis import settings

# No per-example deadline: on a loaded 2-core CI machine a slow example is not a failure (speed is measured by
# bench/, never by a test). Examples stay random, which is the point of the property tests.
settings.register_profile("tlsmon", deadline=None)
settings.load_profile("tlsmon")
