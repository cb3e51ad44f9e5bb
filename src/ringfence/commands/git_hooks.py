"""``ringfence git-hook pre-push <remote> <url>`` and ``ringfence git-hook pre-receive``.

git runs these from the hooks ``ringfence init --git-hooks`` installs (pre-push) and an
operator installs on a git server (``integrations/git/pre-receive``). They read git's
hook input on stdin and exit 0 to let the push through or 1 to stop it, with the reason
on stderr; see :mod:`ringfence.adapters.git_hooks`. A wrong argument is exit 3 — which
git, like any non-zero exit, takes as "refuse the push".
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "git-hook",
        help="the git pre-push / pre-receive hook (git runs it; reads git's hook input on stdin)",
        description="Decide a git push from git's own hook input. Exit 0 lets it through; 1 refuses it.",
    )
    hooks = p.add_subparsers(title="hooks", metavar="HOOK", required=True)
    push = hooks.add_parser("pre-push", help="client side: git push runs it before sending anything")
    push.add_argument("remote", help="the remote's name (or its URL when the push names no remote)")
    push.add_argument("url", help="the remote's URL")
    push.set_defaults(run=_pre_push)
    receive = hooks.add_parser("pre-receive", help="server side: git receive-pack runs it before updating refs")
    receive.set_defaults(run=_pre_receive)


def _pre_push(ns: argparse.Namespace) -> int:
    from ringfence.adapters.git_hooks import run_pre_push

    return run_pre_push([ns.remote, ns.url])


def _pre_receive(ns: argparse.Namespace) -> int:
    from ringfence.adapters.git_hooks import run_pre_receive

    return run_pre_receive()
