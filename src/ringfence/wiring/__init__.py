"""Wiring ringfence into agent runtimes' settings files (``init``, ``uninstall``, ``doctor``).

:mod:`ringfence.wiring.jsonfile` edits JSON settings files safely (plan, diff, backup,
atomic write); :mod:`ringfence.wiring.hookfile` holds what the runtimes' JSON hook files
share; each runtime's module (:mod:`ringfence.wiring.claude_code`, ...) knows its own
settings; :mod:`ringfence.wiring.command` builds the hook command line.
"""
