"""Infrastructure and cloud CLIs → ``infra.apply`` / ``infra.destroy`` / ``infra.state``.

Understands:

- terraform, tofu, terragrunt (incl. ``run-all``/``run --all``, ``*-all``): ``apply``
  (``-destroy`` also yields ``infra.destroy``), ``destroy``, ``state rm|mv|push|replace-provider``,
  ``import``, ``taint``, ``untaint``, ``force-unlock``, ``refresh``, ``workspace delete``;
  the environment comes from ``TF_WORKSPACE``, ``-var-file`` stems, ``-var env=…``,
  ``-chdir`` / working-dir components and the cwd below the workspace root.
- pulumi (``up``, ``destroy``, ``stack rm``, ``state …``, ``import``, ``refresh``),
  cdk / cdktf (``deploy``, ``watch``, ``bootstrap``, ``destroy``), sam (``deploy``,
  ``sync``, ``delete``), eksctl.
- aws: deletions and terminations of any service (``delete-*``, ``terminate-*``,
  ``remove-*``, ``deregister-*``, ``purge-*``), ``s3 rm``/``rb``/``sync --delete``,
  control-plane changes (``create-*``, ``update-*``, ``modify-*``, ``run-instances``,
  CloudFormation ``deploy``/``create-stack``/``update-stack`` ...). IAM, secrets and key
  management belong to :mod:`ringfence.analyze.credentials`.
- gcloud / gsutil / az / doctl / hcloud / s3cmd: deletions (and gcloud/az creations and
  updates); gcloud/az deploys belong to :mod:`ringfence.analyze.deploy`.
- rsync (``--delete*``, ``--del``, ``--remove-source-files``) and rclone (``sync``,
  ``purge``, ``delete``, ``deletefile``): ``fs.delete`` for local destinations,
  ``infra.destroy`` for remote ones.

Dry runs (``--dry-run``, ``--dryrun``, ``-n`` for rsync/rclone, ``--preview-only``) are
ordinary. Reads (``plan``, ``describe-*``, ``list``, ``s3 ls``, ...) produce nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ringfence.analyze import _cli, credentials, deploy
from ringfence.analyze.command import Command
from ringfence.analyze.context import Context
from ringfence.analyze.registry import effect
from ringfence.model import AttrValue, Effect

COMMANDS: frozenset[str] | None = _cli.words(
    """
    terraform tofu terragrunt pulumi cdk cdktf sam eksctl aws gcloud gsutil az doctl hcloud s3cmd rsync
    rclone
    """
)

Candidates = list[tuple[str, str | None]]

# -- terraform / tofu / terragrunt ------------------------------------------------------

_TF_VALUE_NAMES = _cli.word_tuple(
    """
    chdir var var-file target replace state state-out backup lock-timeout parallelism out from-module
    backend-config plugin-dir generate-config-out test-directory filter terragrunt-working-dir working-dir
    terragrunt-config config terragrunt-iam-role iam-assume-role terragrunt-include-dir
    terragrunt-exclude-dir queue-include-dir queue-exclude-dir terragrunt-parallelism terragrunt-log-level
    log-level
    """
)
_TF_VALUE = frozenset([f"-{n}" for n in _TF_VALUE_NAMES] + [f"--{n}" for n in _TF_VALUE_NAMES])
_TF_VERBS = _cli.words(
    """
    apply destroy plan init validate fmt show output state workspace import taint untaint force-unlock
    refresh console graph providers login logout get test version metadata modules query apply-all
    destroy-all plan-all output-all validate-all hclfmt render-json graph-dependencies info find list
    """
)
_TF_STATE_WRITES = frozenset({"rm", "mv", "push", "replace-provider", "delete"})
_TF_STATE_VERBS = frozenset({"import", "taint", "untaint", "force-unlock", "refresh"})
_ENV_VAR_KEYS = frozenset({"env", "environment", "stage", "workspace", "tier"})


def _tf_opts(parsed: _cli.Args) -> dict[str, list[str | None]]:
    """Option names with one leading dash (terraform accepts ``-x`` and ``--x`` alike)."""
    out: dict[str, list[str | None]] = {}
    for name, vals in parsed.options.items():
        out.setdefault("-" + name.lstrip("-"), []).extend(vals)
    return out


def _terraform(cmd: Command, ctx: Context) -> Iterator[Effect]:
    parsed = _cli.parse(cmd.args, _TF_VALUE, clusters=False)
    words = list(parsed.positionals)
    opts = _tf_opts(parsed)
    run_all = any(w in ("run-all", "apply-all", "destroy-all") for w in words) or "-all" in opts
    verb_at = next((k for k, w in enumerate(words) if w in _TF_VERBS), None)
    if verb_at is None and parsed.rest:  # terragrunt run [--all] -- destroy
        inner = _cli.parse(parsed.rest, _TF_VALUE, clusters=False)
        for name, vals in _tf_opts(inner).items():
            opts.setdefault(name, []).extend(vals)
        words = list(inner.positionals)
        verb_at = next((k for k, w in enumerate(words) if w in _TF_VERBS), None)
    if verb_at is None:
        if words and _cli.is_dynamic(cmd, parsed, 0):
            yield effect(
                "infra.apply",
                cmd,
                tool=cmd.name,
                operation=None,
                dynamic=True,
                environment=_tf_environment(cmd, ctx, opts),
            )
        return
    verb = words[verb_at].removesuffix("-all")
    after = words[verb_at + 1 :]
    common: dict[str, AttrValue] = {"tool": cmd.name, "environment": _tf_environment(cmd, ctx, opts)}
    if run_all:
        common["all"] = True
    targets = tuple(v for v in (opts.get("-target", []) + opts.get("-replace", [])) if v)
    auto = _flag(opts, "-auto-approve") or "--terragrunt-non-interactive" in parsed.options
    if verb == "apply":
        destroy = _flag(opts, "-destroy")
        yield effect(
            "infra.apply",
            cmd,
            operation="apply",
            auto_approve=auto,
            destroy=destroy,
            targets=targets,
            plan_file=after[0] if after else None,
            **common,
        )
        if destroy:
            yield effect("infra.destroy", cmd, operation="apply -destroy", auto_approve=auto, targets=targets, **common)
    elif verb == "destroy":
        yield effect("infra.destroy", cmd, operation="destroy", auto_approve=auto, targets=targets, **common)
    elif verb == "state" and after and after[0] in _TF_STATE_WRITES:
        yield effect("infra.state", cmd, operation=f"state {after[0]}", targets=tuple(after[1:]), **common)
    elif verb in _TF_STATE_VERBS:
        yield effect("infra.state", cmd, operation=verb, targets=tuple(after), **common)
    elif verb == "workspace" and after and after[0] == "delete":
        yield effect("infra.state", cmd, operation="workspace delete", targets=tuple(after[1:]), **common)


def _flag(opts: dict[str, list[str | None]], name: str) -> bool:
    vals = opts.get(name)
    if not vals:
        return False
    last = vals[-1]
    return last is None or last.lower() not in ("false", "0")


def _tf_environment(cmd: Command, ctx: Context, opts: dict[str, list[str | None]]) -> str | None:
    domain = "terraform_workspace"
    cands: Candidates = [(domain, cmd.env.get("TF_WORKSPACE"))]
    cands += [(domain, _cli.stem(v)) for v in opts.get("-var-file", []) if v]
    cands += [(domain, _var_value(v)) for v in opts.get("-var", []) if v]
    for key in ("-chdir", "-terragrunt-working-dir", "-working-dir"):
        for v in opts.get(key, []):
            cands += [(domain, p) for p in _cli.path_parts(v or "")]
    cands += [(domain, p) for p in _cli.cwd_parts(cmd, ctx)]
    return _cli.environment(ctx, cands)


def _var_value(assignment: str) -> str | None:
    key, eq, value = assignment.partition("=")
    return value if eq and key.strip().lower() in _ENV_VAR_KEYS else None


# -- pulumi -------------------------------------------------------------------------------

_PULUMI_VALUE = _cli.words(
    """
    -s --stack -C --cwd -t --target -c --config --config-file -m --message -p --parallel --replace
    --target-replace --exclude --color --plan --secrets-provider --policy-pack --policy-pack-config -v
    --verbose --client --tracing --profiling --memprofilerate --exec-kind --exec-agent
    """
)
_PULUMI_STATE = _cli.words(
    """
    delete edit move rename unprotect repair upgrade taint untaint
    """
)


def _pulumi(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _PULUMI_VALUE)
    verb, sub = p.pos(0), p.pos(1)
    stacks = p.values("-s", "--stack")
    cands: Candidates = [("stack", s) for s in stacks]
    if verb == "stack" and sub == "rm":
        cands += [("stack", s) for s in p.positionals[2:]]
    for d in p.values("-C", "--cwd"):
        cands += [("stack", part) for part in _cli.path_parts(d)]
    cands += [("stack", part) for part in _cli.cwd_parts(cmd, ctx)]
    common: dict[str, AttrValue] = {
        "tool": "pulumi",
        "environment": _cli.environment(ctx, cands),
        "stack": stacks[-1] if stacks else None,
        "targets": p.values("-t", "--target", "--target-replace", "--replace"),
    }
    auto = p.flag("-y", "--yes", "-f", "--skip-preview")
    if p.flag("--preview-only") or p.flag("--dry-run"):
        return
    if verb in ("up", "update"):
        yield effect("infra.apply", cmd, operation="up", auto_approve=auto, **common)
    elif verb in ("destroy", "down", "dn"):
        yield effect("infra.destroy", cmd, operation="destroy", auto_approve=auto, **common)
    elif verb == "stack" and sub == "rm":
        common["targets"] = tuple(p.positionals[2:]) or common["targets"]
        yield effect("infra.state", cmd, operation="stack rm", force=p.flag("-f", "--force"), **common)
    elif verb == "state" and sub in _PULUMI_STATE:
        yield effect("infra.state", cmd, operation=f"state {sub}", **common)
    elif verb in ("import", "refresh", "cancel"):
        yield effect("infra.state", cmd, operation=verb, auto_approve=auto, **common)
    elif verb is not None and _cli.is_dynamic(cmd, p, 0):
        yield effect("infra.apply", cmd, operation=None, dynamic=True, **common)


# -- cdk / cdktf / sam / eksctl --------------------------------------------------------------

_CDK_VALUE = _cli.words(
    """
    --profile -c --context -a --app --require-approval -o --output -r --role-arn --toolkit-stack-name
    --parameters -O --outputs-file -m --method --concurrency -E --build-exclude --change-set-name --progress
    --notification-arns -t --tags -p --plugin --ca-bundle-path --proxy --var --var-file --parallelism
    --region --qualifier --bootstrap-bucket-name --trust --cloudformation-execution-policies
    """
)


def _cdk(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _CDK_VALUE)
    verb = p.pos(0)
    stacks = tuple(p.positionals[1:])
    cands: Candidates = [("stack", s) for s in stacks]
    cands += [("stack", _var_value(v)) for v in p.values("-c", "--context", "--var")]
    cands += [("aws_profile", p.value("--profile")), ("aws_profile", cmd.env.get("AWS_PROFILE"))]
    common: dict[str, AttrValue] = {
        "tool": cmd.name,
        "environment": _cli.environment(ctx, cands),
        "targets": stacks,
        "all": p.flag("--all"),
    }
    if verb in ("deploy", "watch", "bootstrap", "rollback"):
        auto = p.value("--require-approval") == "never" or p.flag("--auto-approve")
        yield effect("infra.apply", cmd, operation=verb, auto_approve=auto, **common)
    elif verb == "destroy":
        yield effect(
            "infra.destroy",
            cmd,
            operation="destroy",
            auto_approve=p.flag("-f", "--force", "--auto-approve"),
            **common,
        )


_SAM_VALUE = _cli.words(
    """
    --stack-name --config-env --config-file --profile --region -t --template --template-file --s3-bucket
    --s3-prefix --capabilities --parameter-overrides --image-repository --image-repositories --role-arn
    --kms-key-id --tags --signing-profiles --resource-id --code --base-dir
    """
)


def _sam(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _SAM_VALUE)
    verb = p.pos(0)
    stacks = p.values("--stack-name")
    cands: Candidates = [("stack", s) for s in stacks] + [("stack", p.value("--config-env"))]
    cands += [("aws_profile", p.value("--profile")), ("aws_profile", cmd.env.get("AWS_PROFILE"))]
    common: dict[str, AttrValue] = {
        "tool": "sam",
        "environment": _cli.environment(ctx, cands),
        "targets": stacks,
    }
    if verb in ("deploy", "sync") and not p.flag("--no-execute-changeset"):
        yield effect("infra.apply", cmd, operation=verb, auto_approve=p.flag("--no-confirm-changeset"), **common)
    elif verb == "delete":
        yield effect("infra.destroy", cmd, operation="delete", auto_approve=p.flag("--no-prompts"), **common)


_EKSCTL_VALUE = _cli.words(
    """
    -n --name -f --config-file --profile -r --region --cluster
    """
)


def _eksctl(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _EKSCTL_VALUE)
    verb, what = p.pos(0), p.pos(1)
    names = p.values("-n", "--name", "--cluster") + tuple(p.positionals[2:])
    cands: Candidates = [("resource", n) for n in names]
    cands += [("aws_profile", p.value("--profile")), ("aws_profile", cmd.env.get("AWS_PROFILE"))]
    common: dict[str, AttrValue] = {
        "tool": "eksctl",
        "operation": f"{verb} {what}" if what else verb,
        "targets": names,
        "environment": _cli.environment(ctx, cands),
    }
    if verb == "delete":
        yield effect("infra.destroy", cmd, **common)
    elif verb in ("create", "upgrade", "scale", "update", "drain"):
        yield effect("infra.apply", cmd, **common)


# -- aws ------------------------------------------------------------------------------------

_AWS_DESTROY_PREFIXES = _cli.word_tuple(
    """
    delete- terminate- remove- deregister- purge- batch-delete- release-
    """
)
_AWS_APPLY_PREFIXES = _cli.word_tuple(
    """
    create- update- modify- stop- reboot- restore- replace- reset- attach- detach- associate- disassociate-
    authorize- revoke- enable- disable- register- import- execute- put- set- apply- cancel-update-
    continue-update- failover- promote- change- add- allocate- copy- upgrade- resize- increase- decrease-
    accept- reject- rebuild- rotate- move- swap- cancel- reboot- start-db- start-instances
    """
)
_AWS_APPLY_OPS = frozenset({"run-instances", "deploy", "scale", "rollback-stack"})
# Data-plane operations: reading or writing records, not changing infrastructure.
_AWS_DATA_SUFFIXES = _cli.word_tuple(
    """
    -item -items -record -records -events -metric-data -log-events -message -message-batch -messages -object
    -objects -object-tagging -attributes -log-stream -query -query-execution -execution -job-run -build
    """
)
_AWS_DATA_DESTROY = frozenset({"delete-message", "delete-message-batch", "delete-log-stream"})
_AWS_ORDINARY = _cli.words(
    """
    create-invalidation create-multipart-upload put-object put-item update-item put-record put-records
    put-events put-metric-data put-log-events create-log-stream put-object-tagging put-attributes
    create-presigned-url create-token
    """
)


def _aws(cmd: Command, ctx: Context) -> Iterator[Effect]:
    service, op, opts, rest = _cli.aws_split(cmd.args)
    if service is None or op is None:
        return
    if "--dry-run" in opts or "--dryrun" in opts:
        return
    if service == "s3":
        yield from _aws_s3(cmd, ctx, op, opts, rest)
        return
    if credentials.aws_credential_op(service, op, opts):
        return
    if service == "cloudformation" and op in ("create-stack", "update-stack", "deploy", "create-change-set"):
        if op == "create-change-set":
            return
        kind = "infra.apply"
    elif op.startswith(_AWS_DESTROY_PREFIXES) and op not in _AWS_DATA_DESTROY:
        kind = "infra.destroy"
    elif (op.startswith(_AWS_APPLY_PREFIXES) or op in _AWS_APPLY_OPS) and not _aws_data_op(op):
        kind = "infra.apply"
    else:
        return
    targets = _cli.aws_targets(opts)
    attrs: dict[str, AttrValue] = {
        "tool": "aws",
        "service": service,
        "operation": op,
        "targets": targets,
        "environment": _cli.aws_environment(cmd, ctx, opts, targets),
    }
    if kind == "infra.destroy" and op.endswith(_AWS_DATA_SUFFIXES):
        attrs["recursive"] = False
    yield effect(kind, cmd, **attrs)


def _aws_data_op(op: str) -> bool:
    return op in _AWS_ORDINARY or op.endswith(_AWS_DATA_SUFFIXES)


def _aws_s3(cmd: Command, ctx: Context, op: str, opts: dict[str, list[str]], paths: list[str]) -> Iterator[Effect]:
    remote = tuple(p for p in paths if p.startswith("s3://"))
    base: dict[str, AttrValue] = {"tool": "aws", "service": "s3", "operation": op}
    if op == "rm" and remote:
        yield effect(
            "infra.destroy",
            cmd,
            **base,
            targets=remote,
            recursive="--recursive" in opts,
            environment=_cli.aws_environment(cmd, ctx, opts, remote),
        )
    elif op == "rb" and remote:
        yield effect(
            "infra.destroy",
            cmd,
            **base,
            targets=remote,
            recursive=True,
            force="--force" in opts,
            environment=_cli.aws_environment(cmd, ctx, opts, remote),
        )
    elif op == "sync" and "--delete" in opts and len(paths) >= 2:
        dest = paths[-1]
        if dest.startswith("s3://"):
            yield effect(
                "infra.destroy",
                cmd,
                **base,
                targets=(dest,),
                recursive=True,
                environment=_cli.aws_environment(cmd, ctx, opts, (dest,)),
            )
        else:
            yield local_delete(cmd, ctx, "aws", dest)


def local_delete(cmd: Command, ctx: Context, tool: str, path: str) -> Effect:
    """``fs.delete`` of a local directory a sync tool would prune."""
    target = ctx.resolve(path, cwd=cmd.cwd or None)
    return effect(
        "fs.delete",
        cmd,
        tool=tool,
        operation="sync --delete",
        targets=(target,),
        recursive=True,
        critical=ctx.is_critical(target),
        outside_workspace=not ctx.inside_workspace(target),
    )


# -- gcloud / gsutil --------------------------------------------------------------------------

_GCLOUD_DESTROY = frozenset({"delete", "rm", "bulk-delete", "purge", "delete-instances", "abandon-instances"})
_GCLOUD_APPLY = _cli.words(
    """
    create update patch resize stop reset restore import failover promote-replica set-machine-type
    attach-disk detach-disk rolling-action upgrade set-scheduling recreate-instances set-instance-template
    set-autoscaling update-traffic rollback restore-backup clone
    """
)
_GCLOUD_LOCAL = _cli.words(
    """
    config auth components topic info init help survey feedback emulators version cheat-sheet interactive
    docker meta
    """
)


def _gcloud(cmd: Command, ctx: Context) -> Iterator[Effect]:
    words, opts = _cli.gcloud_split(cmd.args)
    if not words or words[0] in _GCLOUD_LOCAL or deploy.gcloud_is_deploy(words):
        return
    if credentials.gcloud_credential_op(words) is not None:
        return
    if words[0] == "storage" and len(words) > 1:
        yield from _gcloud_storage(cmd, ctx, words, opts)
        return
    at = next((k for k, w in enumerate(words) if w in _GCLOUD_DESTROY or w in _GCLOUD_APPLY), None)
    if at is None or at == 0:
        return
    verb = words[at]
    kind = "infra.destroy" if verb in _GCLOUD_DESTROY else "infra.apply"
    names = tuple(words[at + 1 :])
    yield effect(
        kind,
        cmd,
        tool="gcloud",
        service=" ".join(words[:at]),
        operation=verb,
        targets=names,
        environment=_cli.gcloud_environment(cmd, ctx, opts, names),
    )


def _gcloud_storage(
    cmd: Command, ctx: Context, words: list[str], opts: dict[str, list[str | None]]
) -> Iterator[Effect]:
    verb, paths = words[1], tuple(words[2:])
    remote = tuple(p for p in paths if p.startswith("gs://"))
    base: dict[str, AttrValue] = {"tool": "gcloud", "service": "storage", "operation": verb}
    if verb == "rm" and remote:
        rec = any(k in opts for k in ("-r", "-R", "--recursive"))
        yield effect(
            "infra.destroy",
            cmd,
            **base,
            targets=remote,
            recursive=rec,
            environment=_cli.gcloud_environment(cmd, ctx, opts, remote),
        )
    elif verb == "buckets" and len(words) > 2 and words[2] == "delete":
        buckets = tuple(words[3:])
        yield effect(
            "infra.destroy",
            cmd,
            **base,
            targets=buckets,
            recursive=True,
            environment=_cli.gcloud_environment(cmd, ctx, opts, buckets),
        )
    elif verb == "rsync" and "--delete-unmatched-destination-objects" in opts and len(paths) >= 2:
        yield from _sync_dest(
            cmd, ctx, "gcloud", paths[-1], "gs://", _cli.gcloud_environment(cmd, ctx, opts, paths[-1:])
        )


def _sync_dest(cmd: Command, ctx: Context, tool: str, dest: str, scheme: str, env: str | None) -> Iterator[Effect]:
    if dest.startswith(scheme):
        yield effect(
            "infra.destroy",
            cmd,
            tool=tool,
            operation="sync --delete",
            targets=(dest,),
            recursive=True,
            environment=env,
        )
    else:
        yield local_delete(cmd, ctx, tool, dest)


_GSUTIL_VALUE = _cli.words(
    """
    -o -h -u -i -p -x -j -z -c
    """
)


def _gsutil(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _GSUTIL_VALUE)
    verb = p.pos(0)
    paths = tuple(p.positionals[1:])
    remote = tuple(x for x in paths if x.startswith("gs://"))
    gopts: dict[str, list[str | None]] = {"--project": list[str | None](p.values("-u"))}
    env = _cli.gcloud_environment(cmd, ctx, gopts, remote)
    base: dict[str, AttrValue] = {"tool": "gsutil", "operation": verb, "environment": env}
    if verb in ("rm", "del", "delete", "remove") and remote:
        yield effect("infra.destroy", cmd, **base, targets=remote, recursive=p.has("-r", "-R", "-a"))
    elif verb == "rb" and remote:
        yield effect("infra.destroy", cmd, **base, targets=remote, recursive=True, force=p.has("-f"))
    elif verb == "rsync" and p.has("-d") and not p.has("-n") and len(paths) >= 2:
        yield from _sync_dest(cmd, ctx, "gsutil", paths[-1], "gs://", env)


# -- az --------------------------------------------------------------------------------------

_AZ_LOCAL = _cli.words(
    """
    account config login logout extension cloud bicep configure version upgrade interactive find feedback
    init self-test rest devops boards repos pipelines
    """
)
_AZ_APPLY = _cli.words(
    """
    create update scale restart stop deallocate resize upgrade set start failover restore import redeploy
    reimage swap
    """
)


def _az(cmd: Command, ctx: Context) -> Iterator[Effect]:
    path, opts = _cli.az_split(cmd.args)
    if len(path) < 2 or path[0] in _AZ_LOCAL or deploy.az_is_deploy(path):
        return
    if credentials.az_credential_op(path) is not None:
        return
    verb = path[-1]
    if verb == "delete" or verb.startswith("delete-") or verb == "purge":
        kind = "infra.destroy"
    elif verb in _AZ_APPLY:
        kind = "infra.apply"
    else:
        return
    names = tuple(v for k in ("--name", "-n", "--resource-group", "-g") for v in opts.get(k, []) if v)
    yield effect(
        kind,
        cmd,
        tool="az",
        service=" ".join(path[:-1]),
        operation=verb,
        targets=names,
        environment=_cli.az_environment(cmd, ctx, opts),
    )


# -- doctl / hcloud / s3cmd --------------------------------------------------------------------

_DESTROY_WORDS = frozenset({"delete", "rm", "d", "destroy", "del"})


def _generic_cloud(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(
        cmd.args,
        _cli.words(
            """
            --context -t --access-token --config -c -o --output
            """
        ),
    )
    at = next((k for k, w in enumerate(p.positionals) if w in _DESTROY_WORDS), None)
    if at is None or at == 0:
        return
    names = tuple(p.positionals[at + 1 :])
    cands: Candidates = [("resource", n) for n in names] + [("resource", p.value("--context"))]
    yield effect(
        "infra.destroy",
        cmd,
        tool=cmd.name,
        service=" ".join(p.positionals[:at]),
        operation=p.positionals[at],
        targets=names,
        environment=_cli.environment(ctx, cands),
    )


def _s3cmd(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, frozenset({"-c", "--config", "--exclude", "--include", "--rexclude", "--rinclude"}))
    verb = p.pos(0)
    remote = tuple(x for x in p.positionals[1:] if x.startswith("s3://"))
    if not remote or p.has("-n", "--dry-run"):
        return
    env = _cli.aws_environment(cmd, ctx, {}, remote)
    if verb in ("del", "rm"):
        yield effect(
            "infra.destroy",
            cmd,
            tool="s3cmd",
            operation=verb,
            targets=remote,
            recursive=p.has("-r", "--recursive"),
            environment=env,
        )
    elif verb == "rb":
        yield effect(
            "infra.destroy",
            cmd,
            tool="s3cmd",
            operation=verb,
            targets=remote,
            recursive=True,
            environment=env,
        )
    elif verb == "sync" and p.has("--delete-removed") and p.positionals[-1].startswith("s3://"):
        yield effect(
            "infra.destroy",
            cmd,
            tool="s3cmd",
            operation="sync --delete-removed",
            targets=(p.positionals[-1],),
            recursive=True,
            environment=env,
        )


# -- rsync / rclone -----------------------------------------------------------------------------

_RSYNC_VALUE = _cli.words(
    """
    -e --rsh -f --filter --exclude --include --exclude-from --include-from --files-from --chmod --chown
    --port --password-file --log-file --backup-dir --partial-dir --temp-dir -T --bwlimit --timeout
    --link-dest --compare-dest --copy-dest -B --block-size --max-delete --max-size --min-size --suffix
    --rsync-path --out-format -M --remote-option --usermap --groupmap --info --debug --iconv
    --checksum-choice --compress-choice --skip-compress --sockopts --address --contimeout --modify-window -@
    --log-file-format --write-batch --read-batch --only-write-batch --protocol --outbuf --stop-after
    --stop-at --compress-level
    """
)
_RSYNC_DELETE = _cli.word_tuple(
    """
    --delete --del --delete-before --delete-during --delete-delay --delete-after --delete-excluded
    --delete-missing-args
    """
)


def _is_remote_path(path: str) -> bool:
    if path.startswith("rsync://"):
        return True
    colon = path.find(":")
    if colon <= 0:
        return False
    slash = path.find("/")
    return slash == -1 or colon < slash


def _rsync(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _RSYNC_VALUE)
    if p.has("-n", "--dry-run", "--list-only") or len(p.positionals) < 2:
        return
    sources, dest = p.positionals[:-1], p.positionals[-1]
    flags = tuple(f for f in _RSYNC_DELETE if f in p.options)
    if flags:
        if _is_remote_path(dest):
            yield effect(
                "infra.destroy",
                cmd,
                tool="rsync",
                operation=flags[0],
                targets=(dest,),
                recursive=True,
                environment=_cli.environment(ctx, [("resource", dest.split(":", 1)[0])]),
            )
        else:
            yield local_delete(cmd, ctx, "rsync", dest)
    if p.has("--remove-source-files"):
        local = tuple(ctx.resolve(s, cwd=cmd.cwd or None) for s in sources if not _is_remote_path(s))
        if local:
            yield effect(
                "fs.delete",
                cmd,
                tool="rsync",
                operation="--remove-source-files",
                targets=local,
                recursive=False,
                critical=any(ctx.is_critical(t) for t in local),
                outside_workspace=any(not ctx.inside_workspace(t) for t in local),
            )


_RCLONE_VALUE = _cli.words(
    """
    --config --exclude --include --filter --exclude-from --include-from --filter-from --files-from --max-age
    --min-age --max-size --min-size --transfers --checkers --bwlimit --log-file --log-level --backup-dir
    --suffix --max-delete --max-transfer --stats --retries --low-level-retries --timeout --contimeout
    --user-agent --order-by --compare-dest --copy-dest --track-renames-strategy --max-depth
    """
)
_RCLONE_DELETES = frozenset({"sync", "purge", "delete", "deletefile"})


def _rclone(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _RCLONE_VALUE)
    verb = p.pos(0)
    if verb not in _RCLONE_DELETES or p.has("-n", "--dry-run", "-i", "--interactive") or len(p.positionals) < 2:
        return
    dest = p.positionals[-1]
    recursive = verb != "deletefile"
    if _is_remote_path(dest):
        remote = dest.split(":", 1)[0]
        yield effect(
            "infra.destroy",
            cmd,
            tool="rclone",
            operation=verb,
            targets=(dest,),
            recursive=recursive,
            environment=_cli.environment(ctx, [("resource", remote), ("resource", dest.split(":", 1)[1])]),
        )
    else:
        target = ctx.resolve(dest, cwd=cmd.cwd or None)
        yield effect(
            "fs.delete",
            cmd,
            tool="rclone",
            operation=verb,
            targets=(target,),
            recursive=recursive,
            critical=ctx.is_critical(target),
            outside_workspace=not ctx.inside_workspace(target),
        )


_HANDLERS: dict[str, Callable[[Command, Context], Iterator[Effect]]] = {
    "terraform": _terraform,
    "tofu": _terraform,
    "terragrunt": _terraform,
    "pulumi": _pulumi,
    "cdk": _cdk,
    "cdktf": _cdk,
    "sam": _sam,
    "eksctl": _eksctl,
    "aws": _aws,
    "gcloud": _gcloud,
    "gsutil": _gsutil,
    "az": _az,
    "doctl": _generic_cloud,
    "hcloud": _generic_cloud,
    "s3cmd": _s3cmd,
    "rsync": _rsync,
    "rclone": _rclone,
}


def classify(cmd: Command, ctx: Context) -> Iterator[Effect]:
    """Effects of one cloud or infrastructure command (nothing for reads and plans)."""
    handler = _HANDLERS.get(cmd.name)
    if handler is not None:
        yield from handler(cmd, ctx)
