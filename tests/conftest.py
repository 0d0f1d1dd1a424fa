"""Test-suite settings shared by every folder."""

from hypothesis import settings

# Deterministic by default (house style): the same examples on every run and machine, so CI
# cannot turn red by chance. `pytest --hypothesis-profile=explore` searches new examples.
settings.register_profile("default", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, max_examples=500)
settings.load_profile("default")
