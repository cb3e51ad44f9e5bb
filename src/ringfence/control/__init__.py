"""Control state: approvals and grants, the kill switch, budgets and change windows.

Policy turns effects into a :class:`~ringfence.model.Verdict`; control applies the
state that changes over time (halts, budgets, windows, grants) and turns the verdict
into the final :class:`~ringfence.model.Decision`.
"""
