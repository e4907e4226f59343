"""``python -m depthview``."""

from depthview.cli import entry

entry()
