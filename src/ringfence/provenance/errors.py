"""The explicit error types of provenance: each names what is wrong and what to do."""

from __future__ import annotations

from ringfence.errors import ProvenanceError


class EnvelopeError(ProvenanceError):
    """Bytes that are not a DSSE v1 envelope, or a payload that is not what it claims."""


class StatementError(ProvenanceError):
    """A payload that is not a valid in-toto Statement v1, or a predicate missing a field."""


class GitError(ProvenanceError):
    """A git operation on the repository (reading commits, notes) failed."""


class VerifyPolicyError(ProvenanceError):
    """The verify policy file is missing, unreadable or invalid."""
