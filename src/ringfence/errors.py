"""The explicit error types of ringfence. Each says what is wrong and what to do."""

from __future__ import annotations


class RingfenceError(Exception):
    """Base class for every error ringfence raises on purpose."""


class ConfigError(RingfenceError):
    """The configuration file is missing, unreadable or invalid."""


class PolicyError(RingfenceError):
    """A policy pack or rule is invalid. The gate denies until it is fixed."""


class AnalysisLimit(RingfenceError):
    """An action exceeds a bound of the analyzer (size, nesting, unwrap depth)."""


class PayloadError(RingfenceError):
    """A runtime sent a payload that does not follow its hook contract."""


class LedgerError(RingfenceError):
    """The decision could not be recorded; the gate denies."""


class ControlError(RingfenceError):
    """Control state (approvals, halts, budgets, windows) is invalid or unavailable."""


class ApprovalError(ControlError):
    """An approval request, approval or grant cannot be used as asked."""


class ProvenanceError(RingfenceError):
    """An attestation cannot be built, read, signed or verified as asked."""


class ReviewError(RingfenceError):
    """A change cannot be reviewed as asked (bad input file, unreadable repository)."""


class GuardError(RingfenceError):
    """A guard spec or runbook that cannot be used as written, or a guard that cannot run."""
