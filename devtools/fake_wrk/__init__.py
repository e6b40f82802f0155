"""A local stand-in for the WRK Platform, for the demo and the tests only."""

from .emitter import Emitter, signed_headers
from .server import Call, FakeWrk

__all__ = ["Call", "Emitter", "FakeWrk", "signed_headers"]
