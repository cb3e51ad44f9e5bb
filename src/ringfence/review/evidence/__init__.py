"""Evidence from tools people already run, turned into findings.

Four readers, each strict about its input and silent about nothing:

* :func:`terraform_plan` reads ``terraform show -json PLANFILE`` output: deletions and
  replacements (critical when the resource holds data), and, given a price table, the
  monthly cost delta;
* :func:`infracost` reads ``infracost breakdown|diff --format json`` output: the cost delta;
* :func:`sarif` reads SARIF 2.1.0 and keeps the results the change introduced;
* :func:`coverage` reads Cobertura XML (``coverage xml``): a coverage drop and changed lines
  the tests do not run.

A missing, oversized or malformed file raises :class:`ReviewInputError` naming the file,
what is wrong and what was expected; no reader returns a partial result.
"""

from __future__ import annotations

from ringfence.review.evidence.cobertura import coverage
from ringfence.review.evidence.cost import infracost
from ringfence.review.evidence.sarif_log import sarif
from ringfence.review.evidence.terraform import HOLDS_DATA, NO_DATA_SUFFIXES, holds_data, terraform_plan

__all__ = [
    "HOLDS_DATA",
    "MAX_INPUT_BYTES",
    "NO_DATA_SUFFIXES",
    "coverage",
    "holds_data",
    "infracost",
    "sarif",
    "terraform_plan",
]

MAX_INPUT_BYTES = 64 * 1024 * 1024
"""Evidence files larger than this are refused rather than parsed."""
