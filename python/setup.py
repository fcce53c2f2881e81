# The metadata is in setup.cfg; this file is what lets pip build without
# build isolation, offline (see setup.cfg).
from setuptools import setup

setup()
