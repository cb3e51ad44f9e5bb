"""Everything one server process holds: configuration, the gate, the stores, its key."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from ringfence.config import Settings, load_settings, state_dir
from ringfence.control.engine import Controller
from ringfence.control.keys import SigningKey
from ringfence.control.store import ControlStore, open_store
from ringfence.gate import Gate, builtin_policy
from ringfence.ledger.store import MerkleLedger, open_ledger
from ringfence.policy.layers import effective_policy, rego_files, sources_stamp
from ringfence.server.batching import BatchingLedger
from ringfence.server.identity import server_key


@dataclass
class ServerState:
    settings: Settings
    gate: Gate
    store: ControlStore
    ledger: MerkleLedger
    key: SigningKey

    def close(self) -> None:
        if isinstance(self.gate.ledger, BatchingLedger):
            self.gate.ledger.close()
        else:
            self.ledger.close()
        self.store.close()


def open_state(*, cwd: str | None = None, database: str | None = None, state: Path | None = None) -> ServerState:
    """Load configuration for ``cwd`` and open the stores. ``database`` (a PostgreSQL URL)
    holds both the ledger and the control state, so replicas share everything."""
    base = load_settings(cwd or os.getcwd())
    control = base.control
    if database:
        control = replace(control, state=database)
        base = replace(base, ledger_url=database, ledger_path=None, control=control)
    folder = state or (base.ledger_path.parent if base.ledger_path else state_dir())
    key = server_key(folder)
    if key.public not in control.service_keys:  # answers given through the server are signed with its key
        control = replace(control, service_keys=(*control.service_keys, key.public))
        base = replace(base, control=control)
    location = base.ledger_location or str(state_dir() / "ledger.db")
    ledger = open_ledger(location)
    store = open_store(base.state_location)
    where = cwd or os.getcwd()
    policy = effective_policy(base, where, base=builtin_policy())
    rego = None
    modules = rego_files(base, where)
    if modules:  # the same layers as a local gate, Rego included
        from ringfence.policy.rego import RegoModules

        rego = RegoModules.load(modules)
    gate = Gate(
        base,
        policy,
        BatchingLedger(ledger),
        rego=rego,
        sources=sources_stamp(base, where),
        control=Controller(control, store, policy.gate_type),
        owner_from_env=False,  # the server's own login is nobody's agent owner
    )
    return ServerState(base, gate, store, ledger, key)
