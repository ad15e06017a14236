"""ahi-edge's local AWS emulator: moto server plus the behaviour moto lacks.

See docs/testing.md for what is modelled and how to drive it.
"""
