"""A local stand-in for the WRK Platform, for the demo and the tests only."""

from .server import Call, FakeWrk

__all__ = ["Call", "FakeWrk"]
