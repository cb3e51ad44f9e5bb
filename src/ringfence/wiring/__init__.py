"""Wiring ringfence into agent runtimes' settings files (``init``, ``uninstall``, ``doctor``).

:mod:`ringfence.wiring.jsonfile` edits JSON settings files safely (plan, diff, backup,
atomic write); :mod:`ringfence.wiring.claude_code` knows Claude Code's hook settings;
:mod:`ringfence.wiring.command` builds the hook command line.
"""
