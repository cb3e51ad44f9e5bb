"""ringfence: the deterministic pre-action gate for autonomous agents.

This module stays tiny: it is imported by the hook on every tool call.
"""

__version__ = "0.1.0"
