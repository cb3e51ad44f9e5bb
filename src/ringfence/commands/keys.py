"""``ringfence keys create|list|show``: approvers' Ed25519 signing keys."""

from __future__ import annotations

import argparse
from typing import Any

EXIT_USAGE = 3


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "keys",
        help="create and show signing keys (Ed25519): approvers' and agents'",
        description="Every approval is signed with the approver's key. Create yours once, then add the printed "
        "public key under approvers: in the configuration. An agent's key (created by a human, then handed to the "
        "agent or its CI secret) signs its provenance attestations (`ringfence attest`).",
    )
    ksub = p.add_subparsers(title="keys commands", metavar="COMMAND")
    c = ksub.add_parser("create", help="create a key named after your approver id")
    c.add_argument("name", help="your approver id, e.g. alice")
    c.add_argument("--force", action="store_true", help="replace an existing key of that name")
    c.set_defaults(run=run_create)
    ls = ksub.add_parser("list", help="your keys")
    ls.set_defaults(run=run_list)
    s = ksub.add_parser("show", help="a key's public half, as the configuration takes it")
    s.add_argument("name", nargs="?")
    s.set_defaults(run=run_show)

    def usage(ns: argparse.Namespace) -> int:
        p.print_help()
        return EXIT_USAGE

    p.set_defaults(run=usage)


def _snippet(name: str, public: bytes) -> str:
    from ringfence.control.keys import public_text

    return f'approvers:\n  {name}: {{groups: [...], key: "{public_text(public)}"}}'


def run_create(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from ringfence.commands._control import require_human
    from ringfence.control.keys import create_key, key_id

    require_human("create an approver key")
    path, public = create_key(ns.name, force=ns.force)
    c = Console()
    c.print(f"[green]created[/] {escape(str(path))} ({key_id(public)}); keep it private.", highlight=False)
    c.print("Add this to the configuration (~/.config/ringfence/config.yaml or .ringfence/config.yaml):")
    c.print(escape(_snippet(ns.name, public)), highlight=False, soft_wrap=True)
    return 0


def run_list(ns: argparse.Namespace) -> int:
    from rich.console import Console

    from ringfence.control.keys import key_id, keys_dir, list_keys, load_key

    c = Console()
    names = list_keys()
    if not names:
        c.print(f"No keys in {keys_dir()}. Create yours with `ringfence keys create <your-id>`.")
        return 0
    for name in names:
        c.print(f"{name}  {key_id(load_key(name).public)}", highlight=False)
    return 0


def run_show(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from ringfence.control.keys import load_key, public_text

    key = load_key(ns.name)
    Console().print(public_text(key.public), highlight=False, soft_wrap=True)
    Console(stderr=True).print(escape(_snippet(key.name, key.public)), highlight=False, soft_wrap=True)
    return 0
