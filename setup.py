"""Builds the C real-time core with cffi; everything else is in pyproject.toml."""

from setuptools import setup

setup(
    cffi_modules=[
        "engine/_rtcore_build.py:ffibuilder",
        "dsp/_dspcore_build.py:ffibuilder",
        "control/_udp_build.py:ffibuilder",
    ]
)
