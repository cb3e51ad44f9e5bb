"""The control-plane server: HTTP API v1, the approval dashboard, metrics.

``ringfence serve`` runs it on embedded SQLite by default, or on PostgreSQL with
``--database``; replicas on one database share approvals, halts and budgets because
every decision reads control state from the database (nothing is cached per replica).
"""
