"""Kubernetes and containers → ``infra.apply`` / ``infra.destroy``.

Understands:

- kubectl, oc, kubecolor: ``delete`` (resource types and names, ``-f``, ``--all``,
  ``-A``), ``apply`` (``--prune`` also yields ``infra.destroy``), ``create``, ``replace``,
  ``patch``, ``edit``, ``set``, ``label``, ``annotate``, ``run``, ``expose``, ``autoscale``,
  ``rollout restart|undo|pause|resume``, ``scale`` (``--replicas=0`` is ``infra.destroy``
  with ``scale_to_zero``), ``drain``, ``cordon``, ``uncordon``, ``taint``; oc ``new-app``,
  ``new-project``, ``delete project``. The environment is the context (``--context``,
  ``--kubeconfig``, ``KUBECONFIG``) or else the namespace. Secrets, RBAC and service
  accounts belong to :mod:`ringfence.analyze.credentials`. ``--dry-run`` (other than
  ``none``) is ordinary, as are reads (``get``, ``describe``, ``logs``, ``diff``, ...).
- helm: ``uninstall``/``delete`` (``infra.destroy``), ``install``/``upgrade``/``rollback``
  (``infra.apply``); environment from ``--kube-context``/``HELM_KUBECONTEXT`` or the namespace.
- skaffold: ``run``/``deploy``/``apply`` and ``delete``.
- docker, podman, nerdctl, docker-compose: ``system prune``, ``system reset``, ``volume
  rm|prune``, ``compose down -v``, ``stack rm``, ``service rm`` (``infra.destroy`` with the
  container tool, which the k8s pack sends for a lighter approval). Removing containers or
  images (``rm -f``, ``rmi``, ``image prune``) is ordinary. ``docker push`` is in
  :mod:`ringfence.analyze.deploy`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ringfence.analyze import _cli
from ringfence.analyze.command import Command
from ringfence.analyze.context import Context
from ringfence.analyze.registry import effect
from ringfence.model import AttrValue, Effect

COMMANDS: frozenset[str] | None = _cli.words(
    "kubectl oc kubecolor helm skaffold docker podman nerdctl docker-compose podman-compose"
)

_APPLY_VERBS = _cli.words(
    """
    apply create replace patch edit set label annotate run expose autoscale rollout scale drain cordon
    uncordon taint new-app new-project
    """
)
_CREDENTIAL_EDITS = frozenset({"patch", "edit", "label", "annotate", "replace"})
_ROLLOUT_WRITES = _cli.words(
    """
    restart undo pause resume retry latest cancel
    """
)
_NAMESPACE_TYPES = frozenset({"ns", "namespace", "namespaces", "project", "projects"})


def _kube_common(cmd: Command, ctx: Context, p: _cli.Args) -> dict[str, AttrValue]:
    env = _production_paths(ctx, _cli.kube_environment(cmd, ctx, p), p.values("-f", "--filename", "-k", "--kustomize"))
    return {
        "tool": cmd.name,
        "namespace": p.value("-n", "--namespace"),
        "context": p.value("--context"),
        "environment": env,
    }


def _production_paths(ctx: Context, env: str | None, paths: tuple[str, ...]) -> str | None:
    """Upgrade an unknown environment to production when a manifest path names it (``overlays/prod``).

    Paths never downgrade: a manifest under ``dev/`` says nothing about the cluster it is sent to.
    """
    if env is not None and env != ctx.environment:
        return env
    for path in paths:
        for part in _cli.path_parts(path):
            if ctx.environment_for("kube_namespace", _cli.stem(part)) == "production" != ctx.environment:
                return "production"
    return env


def _kubectl(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.kube_parse(cmd.args)
    if not p.positionals or _cli.kube_dry_run(p):
        return
    verb, rest = p.positionals[0], p.positionals[1:]
    common = _kube_common(cmd, ctx, p)
    files = p.values("-f", "--filename", "-k", "--kustomize")
    if _cli.is_dynamic(cmd, p, 0):
        yield effect("infra.apply", cmd, operation=None, dynamic=True, targets=rest, **common)
    elif verb == "delete":
        yield from _kube_delete(cmd, ctx, p, rest, files, common)
    elif verb == "scale":
        yield from _kube_scale(cmd, p, rest, common)
    elif verb in _APPLY_VERBS:
        yield from _kube_apply(cmd, p, verb, rest, files, common)


def _kube_delete(
    cmd: Command,
    ctx: Context,
    p: _cli.Args,
    rest: tuple[str, ...],
    files: tuple[str, ...],
    common: dict[str, AttrValue],
) -> Iterator[Effect]:
    types, names = _cli.kube_resources(rest)
    kinds = tuple(t for t in types if not _cli.kube_credential_type(t))
    if types and not kinds and not files:
        return  # only secrets / RBAC: a credential change
    if not types and not files:
        return  # incomplete: kubectl refuses to run
    if any(k in _NAMESPACE_TYPES for k in kinds) and common["environment"] == ctx.environment:
        named = _cli.environment(ctx, [("kube_namespace", n) for n in names])
        common = {**common, "environment": named}
    yield effect(
        "infra.destroy",
        cmd,
        operation="delete",
        resource=",".join(kinds) or None,
        names=names,
        targets=names or files,
        files=files,
        selector=p.value("-l", "--selector"),
        all=p.flag("--all", "-A", "--all-namespaces"),
        namespace_delete=any(k in _NAMESPACE_TYPES for k in kinds),
        force=p.flag("--force") or p.value("--grace-period") == "0",
        **common,
    )


def _kube_scale(cmd: Command, p: _cli.Args, rest: tuple[str, ...], common: dict[str, AttrValue]) -> Iterator[Effect]:
    types, names = _cli.kube_resources(rest)
    replicas = p.value("--replicas")
    targets = names or p.values("-f", "--filename")
    attrs: dict[str, AttrValue] = {
        "operation": "scale",
        "resource": ",".join(types) or None,
        "targets": targets,
    }
    if replicas is not None and replicas.strip() == "0":
        yield effect("infra.destroy", cmd, scale_to_zero=True, replicas=0, **attrs, **common)
    else:
        count = int(replicas) if replicas is not None and replicas.isdigit() else None
        yield effect("infra.apply", cmd, scale_to_zero=False, replicas=count, **attrs, **common)


def _kube_apply(
    cmd: Command,
    p: _cli.Args,
    verb: str,
    rest: tuple[str, ...],
    files: tuple[str, ...],
    common: dict[str, AttrValue],
) -> Iterator[Effect]:
    operation = verb
    types: tuple[str, ...] = ()
    names: tuple[str, ...] = rest
    if verb == "rollout":
        if not rest or rest[0] not in _ROLLOUT_WRITES:
            return
        operation = f"rollout {rest[0]}"
        types, names = _cli.kube_resources(rest[1:])
    elif verb == "set":
        if not rest or rest[0] in ("serviceaccount", "sa", "subject"):
            return
        operation = f"set {rest[0]}"
        types, names = _cli.kube_resources(rest[1:])
    elif verb == "apply" and rest:
        if rest[0] == "view-last-applied":
            return
        operation = f"apply {rest[0]}"
    elif verb == "create" and rest:
        if _cli.kube_credential_type(rest[0]) or rest[0] == "token":
            return
        types, names = (rest[0],), rest[1:]
    elif verb in _CREDENTIAL_EDITS and rest:
        types, names = _cli.kube_resources(rest)
        if types and all(_cli.kube_credential_type(t) for t in types):
            return
    elif verb in ("drain", "cordon", "uncordon", "taint"):
        types, names = ("node",), tuple(r for r in rest if r not in ("node", "nodes"))
    yield effect(
        "infra.apply",
        cmd,
        operation=operation,
        resource=",".join(types) or None,
        targets=names or files,
        files=files,
        force=p.flag("--force"),
        rollback=operation == "rollout undo",
        prune=p.flag("--prune"),
        **common,
    )
    if verb == "apply" and p.flag("--prune"):
        yield effect(
            "infra.destroy",
            cmd,
            operation="apply --prune",
            targets=files,
            selector=p.value("-l", "--selector"),
            all=p.flag("--all"),
            **common,
        )


def _oc(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.kube_parse(cmd.args)
    if p.pos(0) == "delete" and p.pos(1) in ("project", "projects"):
        yield effect(
            "infra.destroy",
            cmd,
            operation="delete project",
            resource="project",
            targets=tuple(p.positionals[2:]),
            names=tuple(p.positionals[2:]),
            all=False,
            namespace_delete=True,
            force=p.flag("--force"),
            **_kube_common(cmd, ctx, p),
        )
        return
    if p.pos(0) == "adm" and p.pos(1) == "drain":
        yield effect(
            "infra.apply",
            cmd,
            operation="drain",
            resource="node",
            targets=tuple(p.positionals[2:]),
            **_kube_common(cmd, ctx, p),
        )
        return
    yield from _kubectl(cmd, ctx)


# -- helm -----------------------------------------------------------------------------------------

_HELM_VALUE = _cli.words(
    """
    --kube-context -n --namespace --kubeconfig --registry-config --repository-cache --repository-config
    --burst-limit --kube-apiserver --kube-as-user --kube-as-group --kube-ca-file --kube-token
    --kube-tls-server-name -f --values --set --set-string --set-file --set-json --set-literal --version
    --timeout --repo --post-renderer --post-renderer-args --description -o --output --history-max --ca-file
    --cert-file --key-file --username --password -l --labels --cascade --max --revision --selector
    --name-template --wait-for --qps
    """
)


def _helm(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _HELM_VALUE)
    verb = p.pos(0)
    if verb is None or _cli.kube_dry_run(p):
        return
    cands: list[tuple[str, str | None]] = [("kube_context", p.value("--kube-context"))]
    cands += [("kube_context", cmd.env.get("HELM_KUBECONTEXT"))]
    cands += [("kube_context", _cli.stem(v)) for v in p.values("--kubeconfig")]
    cands += [
        ("kube_namespace", p.value("-n", "--namespace")),
        ("kube_namespace", cmd.env.get("HELM_NAMESPACE")),
    ]
    common: dict[str, AttrValue] = {
        "tool": "helm",
        "namespace": p.value("-n", "--namespace") or cmd.env.get("HELM_NAMESPACE"),
        "context": p.value("--kube-context") or cmd.env.get("HELM_KUBECONTEXT"),
        "environment": _production_paths(ctx, _cli.environment(ctx, cands), p.values("-f", "--values")),
    }
    releases = tuple(p.positionals[1:])
    if verb in ("uninstall", "delete", "del", "un"):
        yield effect("infra.destroy", cmd, operation="uninstall", targets=releases, names=releases, **common)
    elif verb in ("install", "upgrade", "i"):
        release, chart = (None, p.pos(1)) if p.flag("--generate-name", "-g") else (p.pos(1), p.pos(2))
        yield effect(
            "infra.apply",
            cmd,
            operation="install" if verb == "i" else verb,
            release=release,
            chart=chart,
            targets=(release,) if release else (),
            install=verb != "upgrade" or p.flag("--install", "-i"),
            force=p.flag("--force"),
            rollback=False,
            **common,
        )
    elif verb == "rollback":
        yield effect(
            "infra.apply",
            cmd,
            operation="rollback",
            release=p.pos(1),
            revision=p.pos(2),
            targets=releases[:1],
            rollback=True,
            force=p.flag("--force"),
            **common,
        )


def _skaffold(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(
        cmd.args,
        _cli.words(
            "--kube-context -n --namespace -p --profile -f --filename -t --tag -d"
            " --default-repo -m --module --kubeconfig"
        ),
    )
    verb = p.pos(0)
    cands: list[tuple[str, str | None]] = [("kube_context", p.value("--kube-context"))]
    cands += [("kube_namespace", p.value("-n", "--namespace"))]
    cands += [("app", v) for v in p.values("-p", "--profile")]
    common: dict[str, AttrValue] = {
        "tool": "skaffold",
        "namespace": p.value("-n", "--namespace"),
        "context": p.value("--kube-context"),
        "environment": _cli.environment(ctx, cands),
        "targets": p.values("-m", "--module"),
    }
    if verb in ("run", "deploy", "apply"):
        yield effect("infra.apply", cmd, operation=verb, **common)
    elif verb == "delete":
        yield effect("infra.destroy", cmd, operation=verb, **common)


# -- docker / podman / nerdctl / compose --------------------------------------------------------------

_DOCKER_GLOBAL = _cli.words("-H --host -c --context --config -l --log-level --tlscacert --tlscert --tlskey --url")
_COMPOSE_VALUE = _cli.words("-f --file -p --project-name --profile --project-directory --env-file --rmi -t --timeout")


def _docker(cmd: Command, ctx: Context) -> Iterator[Effect]:
    g = _cli.parse(cmd.args, _DOCKER_GLOBAL)
    if cmd.name in ("docker-compose", "podman-compose"):
        yield from _compose(cmd, ctx, g, cmd.args)
        return
    if not g.positionals:
        return
    verb = g.positionals[0]
    args = cmd.args[g.indexes[0] + 1 :]
    if verb == "compose":
        yield from _compose(cmd, ctx, g, args)
        return
    sub = _cli.parse(args, frozenset({"--filter"}))
    op = sub.pos(0)
    found: tuple[str, tuple[str, ...]] | None = None
    if verb == "system" and op in ("prune", "reset"):
        found = (f"system {op}", ())
    elif verb == "volume" and op in ("rm", "remove", "prune"):
        found = (f"volume {op}", tuple(sub.positionals[1:]))
    elif verb in ("stack", "service") and op in ("rm", "remove"):
        found = (f"{verb} {op}", tuple(sub.positionals[1:]))
    elif verb in ("machine",) and op in ("rm", "reset"):
        found = (f"machine {op}", tuple(sub.positionals[1:]))
    if found is None:
        return
    yield effect(
        "infra.destroy",
        cmd,
        tool=cmd.name,
        operation=found[0],
        targets=found[1],
        all=sub.flag("-a", "--all"),
        volumes=verb == "volume" or sub.flag("--volumes"),
        force=sub.flag("-f", "--force"),
        environment=_docker_env(cmd, ctx, g),
    )


def _compose(cmd: Command, ctx: Context, g: _cli.Args, args: tuple[str, ...]) -> Iterator[Effect]:
    c = _cli.parse(args, _COMPOSE_VALUE)
    if c.pos(0) != "down" or not c.flag("-v", "--volumes"):
        return
    yield effect(
        "infra.destroy",
        cmd,
        tool=cmd.name,
        operation="compose down -v",
        targets=tuple(c.positionals[1:]),
        all=c.value("--rmi") == "all",
        volumes=True,
        force=False,
        project=c.value("-p", "--project-name"),
        environment=_docker_env(cmd, ctx, g),
    )


def _docker_env(cmd: Command, ctx: Context, g: _cli.Args) -> str | None:
    cands: list[tuple[str, str | None]] = [("docker_context", g.value("-c", "--context", "-H", "--host"))]
    cands += [
        ("docker_context", cmd.env.get("DOCKER_CONTEXT")),
        ("docker_context", cmd.env.get("DOCKER_HOST")),
    ]
    return _cli.environment(ctx, cands)


_HANDLERS: dict[str, Callable[[Command, Context], Iterator[Effect]]] = {
    "kubectl": _kubectl,
    "kubecolor": _kubectl,
    "oc": _oc,
    "helm": _helm,
    "skaffold": _skaffold,
    "docker": _docker,
    "podman": _docker,
    "nerdctl": _docker,
    "docker-compose": _docker,
    "podman-compose": _docker,
}


def classify(cmd: Command, ctx: Context) -> Iterator[Effect]:
    """Cluster and container effects of one command (nothing for reads and ordinary container work)."""
    handler = _HANDLERS.get(cmd.name)
    if handler is not None:
        yield from handler(cmd, ctx)
