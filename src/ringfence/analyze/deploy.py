"""Deploys and releases → ``deploy`` and ``publish`` (plus the platforms' own deletions).

``deploy`` carries ``tool``, ``target`` (app, service, site, stage), ``environment`` and
``production``; a preview deploy is ``environment: development`` with ``preview: True``.
``publish`` carries ``tool``, ``registry``, ``package``/``targets`` and ``local`` (a
registry on this machine). Dry runs publish nothing and produce no effect.

Deploys understood: vercel, netlify, fly/flyctl, heroku (``releases:rollback``,
``container:release``, ``pipelines:promote``; ``pg:reset``/``pg:backups:restore``/``pg:copy``
are ``db.destructive``), railway, serverless/sls, argocd ``app sync|rollback``, ``gh
workflow run`` of a deploy/release workflow, gcloud ``… deploy`` and Cloud Deploy, az
``webapp deploy|up`` and slot swaps, kamal, capistrano, eb, firebase, wrangler,
ansible-playbook, and scripts or targets named ``deploy…`` run through npm, pnpm, yarn,
bun, make, just or task.

Publishes understood: docker/podman/nerdctl ``push`` (and ``build --push``), buildah,
skopeo, crane, ko, npm/pnpm/yarn/bun/lerna/changeset/semantic-release/release-it, twine,
poetry, pdm, uv, flit, hatch, cargo (``publish``, ``yank``), gem (``push``, ``yank``),
``rake release``, ``gh release create|upload``, goreleaser, maven ``deploy``, gradle
``publish*``, ``dotnet nuget push``, ``helm push``, vsce/ovsx, deno/jsr, dart/flutter
``pub publish``, ``mix hex.publish``, ``pod trunk push``, conan, anaconda, snapcraft.

Not publishing: ``dotnet publish`` (a local build), ``gradle publishToMavenLocal``,
``goreleaser --snapshot``, ``npm publish --dry-run``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from ringfence.analyze import _cli
from ringfence.analyze.command import Command
from ringfence.analyze.context import Context
from ringfence.analyze.registry import effect
from ringfence.model import AttrValue, Effect

COMMANDS: frozenset[str] | None = _cli.words(
    """
    vercel netlify fly flyctl heroku railway serverless sls argocd gh gcloud az kamal cap eb firebase wrangler
    ansible-playbook npm pnpm yarn bun make just task docker podman nerdctl buildah skopeo crane ko
    docker-compose podman-compose twine poetry pdm uv flit hatch cargo gem rake goreleaser mvn mvnw gradle
    gradlew dotnet nuget helm vsce ovsx deno jsr dart flutter mix pod conan anaconda snapcraft lerna
    changeset semantic-release release-it
    """
)

Handler = Callable[[Command, Context], Iterator[Effect]]
_DRY = ("--dry-run", "--dryrun", "--dry_run")


def _deploy(cmd: Command, tool: str, target: str | None, env: str | None, **extra: AttrValue) -> Effect:
    return effect("deploy", cmd, tool=tool, target=target, environment=env, production=env == "production", **extra)


def _preview(cmd: Command, tool: str, target: str | None, **extra: AttrValue) -> Effect:
    return _deploy(cmd, tool, target, "development", preview=True, **extra)


def _app_env(ctx: Context, *names: str | None) -> str | None:
    return _cli.environment(ctx, [("app", n) for n in names])


def _destroy(cmd: Command, ctx: Context, tool: str, operation: str, targets: Sequence[str]) -> Effect:
    return effect(
        "infra.destroy",
        cmd,
        tool=tool,
        operation=operation,
        targets=tuple(targets),
        environment=_app_env(ctx, *targets),
    )


# -- PaaS deploys -------------------------------------------------------------------------------

_VERCEL_VALUE = _cli.words(
    """
    --token --scope -S --team -T -A --local-config -Q --global-config --cwd -e --env -b --build-env -m --meta
    --target --regions --archive
    """
)
_VERCEL_OTHER = _cli.words(
    """
    dev build env pull link login logout ls list inspect logs domains dns certs project projects teams switch
    whoami help init git bisect integration integration-resource telemetry secrets blob cache microfrontends
    target install i open mcp curl api httpstat guidance upgrade webhooks
    """
)


def _vercel(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _VERCEL_VALUE)
    verb = p.pos(0)
    target = p.value("--target")
    if verb is None and p.has("--version", "-v", "--help", "-h"):
        return
    if verb in ("rm", "remove"):
        yield _destroy(cmd, ctx, "vercel", verb, p.positionals[1:])
    elif verb in ("promote", "rollback"):
        yield _deploy(cmd, "vercel", p.pos(1), "production", rollback=verb == "rollback")
    elif verb == "alias" and p.pos(1) == "set" and len(p.positionals) >= 3:
        yield _deploy(cmd, "vercel", p.positionals[-1], _app_env(ctx, p.positionals[-1]), alias=True)
    elif verb is None or verb in ("deploy", "redeploy") or verb not in _VERCEL_OTHER:
        app = p.pos(1) if verb in ("deploy", "redeploy") else verb
        if p.flag("--prod") or target == "production":
            yield _deploy(cmd, "vercel", app, "production")
        elif target in (None, "preview"):
            yield _preview(cmd, "vercel", app)
        else:
            yield _deploy(cmd, "vercel", app, _app_env(ctx, target))


_NETLIFY_VALUE = _cli.words(
    "--dir -d --functions -f --message -m --auth --site -s --alias --context --filter --branch -b --timeout"
)


def _netlify(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _NETLIFY_VALUE)
    verb = p.pos(0)
    site = p.value("--site", "-s")
    if verb == "deploy":
        if p.flag("--prod", "-p", "--prod-if-unlocked", "--prodIfUnlocked"):
            yield _deploy(cmd, "netlify", site, "production")
        else:
            yield _preview(cmd, "netlify", site, alias=p.value("--alias"))
    elif verb == "sites:delete":
        yield _destroy(cmd, ctx, "netlify", verb, p.positionals[1:])


_FLY_VALUE = _cli.words(
    """
    -a --app -c --config --image -i --strategy --region -r --build-arg --env -e --build-secret --dockerfile
    --label --vm-size --wait-timeout --org -o --name --build-target --image-label --file-local --file-literal
    """
)
_FLY_DESTROY = frozenset({"destroy", "delete", "remove", "rm"})


def _fly(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _FLY_VALUE)
    verb, sub = p.pos(0), p.pos(1)
    app = p.value("-a", "--app") or cmd.env.get("FLY_APP")
    config = p.value("-c", "--config")
    if verb in ("deploy", "launch") and not p.flag("--no-deploy") and not p.has(*_DRY):
        yield _deploy(cmd, "fly", app, _app_env(ctx, app, _cli.stem(config) if config else None))
    elif verb == "destroy" or (verb in ("apps", "app") and sub in _FLY_DESTROY):
        names = p.positionals[1:] if verb == "destroy" else p.positionals[2:]
        yield _destroy(cmd, ctx, "fly", f"{verb} {sub}" if verb != "destroy" else verb, names or ([app] if app else []))
    elif verb in ("machine", "machines", "m", "volumes", "volume", "vol") and sub in _FLY_DESTROY:
        yield effect(
            "infra.destroy",
            cmd,
            tool="fly",
            operation=f"{verb} {sub}",
            targets=tuple(p.positionals[2:]),
            app=app,
            environment=_app_env(ctx, app),
        )


_HEROKU_VALUE = _cli.words("-a --app -r --remote --confirm --to -t --team")


def _heroku(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _HEROKU_VALUE)
    verb = p.pos(0)
    app = p.value("-a", "--app") or p.value("-r", "--remote") or cmd.env.get("HEROKU_APP")
    env = _app_env(ctx, app)
    if verb in ("releases:rollback", "rollback"):
        yield _deploy(cmd, "heroku", app, env, rollback=True)
    elif verb in ("container:release", "builds:create", "deploy:jar", "deploy:war"):
        yield _deploy(cmd, "heroku", app, env)
    elif verb == "pipelines:promote":
        to = p.value("--to")
        promoted = _app_env(ctx, to) if to else None
        yield _deploy(cmd, "heroku", to or app, promoted or "production", promote=True)
    elif verb == "container:push":
        yield effect(
            "publish",
            cmd,
            tool="heroku",
            registry="registry.heroku.com",
            package=app,
            targets=tuple(p.positionals[1:]),
            local=False,
        )
    elif verb in ("pg:reset", "pg:backups:restore", "pg:copy"):
        yield effect(
            "db.destructive",
            cmd,
            tool="heroku",
            operation=verb,
            targets=tuple(p.positionals[1:]),
            app=app,
            environment=env,
        )
    elif verb in ("apps:destroy", "apps:delete", "destroy"):
        yield _destroy(cmd, ctx, "heroku", verb, [app] if app else p.positionals[1:])


def _railway(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _cli.words("-e --environment -s --service -p --project -t --template"))
    verb = p.pos(0)
    envname = p.value("-e", "--environment") or cmd.env.get("RAILWAY_ENVIRONMENT")
    service = p.value("-s", "--service")
    if verb in ("up", "deploy", "redeploy"):
        yield _deploy(cmd, "railway", service, _app_env(ctx, envname))
    elif verb in ("down", "delete"):
        yield effect(
            "infra.destroy",
            cmd,
            tool="railway",
            operation=verb,
            targets=(service,) if service else (),
            environment=_app_env(ctx, envname),
        )


_SLS_VALUE = _cli.words(
    "--stage -s --region -r --aws-profile --config -c --function -f --param --org --app --package -p -t --timestamp"
)


def _serverless(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _SLS_VALUE)
    verb, sub = p.pos(0), p.pos(1)
    stage = p.value("--stage", "-s") or cmd.env.get("SLS_STAGE")
    env = _cli.environment(ctx, [("app", stage), ("aws_profile", p.value("--aws-profile"))])
    target = p.value("--function", "-f") or p.value("--app")
    if verb == "deploy" and sub != "list" and not p.has("--noDeploy", "--package"):
        yield _deploy(cmd, "serverless", target, env, stage=stage)
    elif verb == "rollback":
        yield _deploy(cmd, "serverless", target, env, stage=stage, rollback=True)
    elif verb == "remove":
        yield effect(
            "infra.destroy",
            cmd,
            tool="serverless",
            operation="remove",
            targets=(stage,) if stage else (),
            environment=env,
        )


_ARGOCD_VALUE = _cli.words(
    """
    --server --auth-token --revision --resource --label -l --timeout --retry-limit --selector --project
    --app-namespace -N --argocd-context --kube-context --local --strategy --revisions --source-positions
    """
)


def _argocd(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _ARGOCD_VALUE)
    if p.pos(0) not in ("app", "apps", "application") or p.has(*_DRY, "--preview-changes"):
        return
    verb, apps = p.pos(1), tuple(p.positionals[2:])
    env = _app_env(ctx, *apps)
    target = ",".join(apps) or None
    if verb == "sync":
        yield _deploy(cmd, "argocd", target, env, prune=p.flag("--prune"), force=p.flag("--force"))
    elif verb == "rollback":
        yield _deploy(cmd, "argocd", p.pos(2), _app_env(ctx, p.pos(2)), rollback=True)
    elif verb == "delete":
        yield effect("infra.destroy", cmd, tool="argocd", operation="app delete", targets=apps, environment=env)
    elif verb in ("set", "patch", "create", "edit", "unset"):
        yield effect("infra.apply", cmd, tool="argocd", operation=f"app {verb}", targets=apps, environment=env)


# -- gh: workflows and releases -----------------------------------------------------------------

_GH_VALUE = _cli.words(
    """
    -R --repo -r --ref -f --raw-field -F --field --json -t --title -n --notes -F --notes-file --target
    --discussion-category --notes-start-tag -p --prerelease --draft --latest --verify-tag --generate-notes
    --tag
    """
) - {"--draft", "-p", "--prerelease", "--latest", "--verify-tag", "--generate-notes"}
_DEPLOYISH = ("deploy", "release", "publish", "promot", "rollout")
_DEPLOY_WORDS = frozenset({"prod", "production", "prd", "live", "cd", "ship"})
_ENV_FIELDS = _cli.words(
    """
    environment env stage target deploy_env deploy-environment tier
    """
)


def _deployish(name: str) -> bool:
    return any(t.startswith(_DEPLOYISH) or t in _DEPLOY_WORDS for t in _cli.tokens(name))


def _gh(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _GH_VALUE)
    group, verb = p.pos(0), p.pos(1)
    repo = p.value("-R", "--repo")
    if group == "workflow" and verb == "run" and p.pos(2) is not None:
        workflow = p.positionals[2]
        if not _deployish(workflow):
            return
        fields = [f.partition("=") for f in p.values("-f", "--raw-field", "-F", "--field")]
        named = [v for k, _, v in fields if k.lower() in _ENV_FIELDS]
        env = _app_env(ctx, *named, workflow)
        yield _deploy(cmd, "gh", workflow, env, workflow=workflow, ref=p.value("-r", "--ref"), repo=repo)
    elif group == "release" and verb in ("create", "upload", "edit"):
        draft = p.flag("--draft")
        if verb == "edit" and not (p.has("--draft") and not draft):
            return
        yield effect(
            "publish",
            cmd,
            tool="gh",
            operation=f"release {verb}",
            registry="github",
            package=repo,
            targets=tuple(p.positionals[2:3]),
            draft=draft,
            local=False,
        )


# -- cloud deploys (gcloud, az) -------------------------------------------------------------------


def gcloud_is_deploy(words: Sequence[str]) -> bool:
    """``gcloud app|run|functions deploy`` and Cloud Deploy releases and rollouts."""
    if len(words) >= 2 and words[1] == "deploy":
        return True
    return (
        len(words) >= 3
        and words[0] == "deploy"
        and words[1] in ("releases", "rollouts", "targets")
        and words[2] in ("create", "promote", "rollback", "approve", "advance")
    )


def az_is_deploy(path: Sequence[str]) -> bool:
    """``az webapp|functionapp|containerapp deploy|up``, slot swaps and zip deploys."""
    apps = ("webapp", "functionapp", "containerapp", "spring", "staticwebapp")
    if len(path) >= 2 and path[-1] in ("deploy", "up") and path[0] in apps:
        return True
    return "deployment" in path and path[-1] in ("swap", "config-zip")


def _gcloud(cmd: Command, ctx: Context) -> Iterator[Effect]:
    words, opts = _cli.gcloud_split(cmd.args)
    if not gcloud_is_deploy(words) or "--dry-run" in opts:
        return
    if words[0] == "deploy":
        target = next((v for k in ("--to-target", "--delivery-pipeline") for v in opts.get(k, []) if v), None)
    else:
        target = words[2] if len(words) > 2 else None
    cands: list[tuple[str, str | None]] = [("app", target)]
    cands += [("gcloud_project", v) for v in opts.get("--project", [])]
    cands += [("gcloud_project", cmd.env.get("CLOUDSDK_CORE_PROJECT"))]
    promote = not ("--no-promote" in opts or "--no-traffic" in opts)
    yield _deploy(cmd, "gcloud", target, _cli.environment(ctx, cands), service=words[0], promote=promote)


def _az(cmd: Command, ctx: Context) -> Iterator[Effect]:
    path, opts = _cli.az_split(cmd.args)
    if not az_is_deploy(path):
        return
    name = next((v for k in ("--name", "-n") for v in opts.get(k, []) if v), None)
    slot = next((v for k in ("--slot", "-s") for v in opts.get(k, []) if v), None)
    if path[-1] == "swap":
        target_slot = next((v for v in opts.get("--target-slot", []) if v), None)
        env = _cli.environment(ctx, [("app", target_slot)]) if target_slot else "production"
    else:
        cands: list[tuple[str, str | None]] = [("app", slot)]
        env = _cli.environment(ctx, [*cands, ("app", name)]) if slot else _cli.az_environment(cmd, ctx, opts)
    yield _deploy(cmd, "az", name, env, service=" ".join(path), slot=slot)


# -- other deploy tools ---------------------------------------------------------------------------


def _kamal(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _cli.words("-d --destination -c --config-file -r --roles -h --hosts --version -P"))
    words = p.positionals
    dest = p.value("-d", "--destination")
    env = _app_env(ctx, dest)
    verb = words[1] if words[:1] == ("app",) and len(words) > 1 else p.pos(0)
    if verb in ("deploy", "redeploy", "rollback", "setup"):
        yield _deploy(cmd, "kamal", dest, env, rollback=verb == "rollback")
    elif verb == "remove":
        yield effect(
            "infra.destroy",
            cmd,
            tool="kamal",
            operation=" ".join(words[:2]),
            targets=(dest,) if dest else (),
            environment=env,
        )


def _cap(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _cli.words("-f --rakefile -r --roles -z --hosts"))
    words = p.positionals
    tasks = [w for w in words if w == "deploy" or (w.startswith("deploy:") and w not in ("deploy:check",))]
    if not tasks or len(words) < 2:
        return
    stage = words[0]
    yield _deploy(cmd, "capistrano", stage, _app_env(ctx, stage), task=tasks[0], rollback="rollback" in tasks[0])


def _eb(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(
        cmd.args,
        _cli.words(
            "--label -l --message -m --version --modules --env-group-suffix --source"
            " --timeout --region -r --profile -p --platform"
        ),
    )
    verb = p.pos(0)
    name = p.pos(1)
    env = _cli.environment(ctx, [("app", name), ("aws_profile", p.value("--profile"))])
    if verb in ("deploy", "swap"):
        yield _deploy(cmd, "eb", name, "production" if verb == "swap" and env is None else env, swap=verb == "swap")
    elif verb == "terminate":
        yield effect(
            "infra.destroy",
            cmd,
            tool="eb",
            operation="terminate",
            targets=(name,) if name else (),
            environment=env,
            all=p.flag("--all"),
        )


def _firebase(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _cli.words("-P --project --only --except -m --message --token --expires -c --config"))
    verb = p.pos(0)
    project = p.value("-P", "--project") or cmd.env.get("GCLOUD_PROJECT")
    env = _cli.environment(ctx, [("gcloud_project", project)])
    if verb == "deploy" and not p.has(*_DRY):
        yield _deploy(cmd, "firebase", project, env, only=p.value("--only"))
    elif verb == "hosting:channel:deploy":
        yield _preview(cmd, "firebase", project, channel=p.pos(1))
    elif verb in ("functions:delete", "hosting:disable", "projects:delete", "apps:delete"):
        yield effect(
            "infra.destroy",
            cmd,
            tool="firebase",
            operation=verb,
            targets=tuple(p.positionals[1:]),
            environment=env,
        )
    elif verb in ("firestore:delete", "database:remove"):
        yield effect(
            "db.destructive",
            cmd,
            tool="firebase",
            operation=verb,
            targets=tuple(p.positionals[1:]),
            recursive=p.flag("-r", "--recursive", "--all-collections"),
            environment=env,
        )


_WRANGLER_VALUE = _cli.words(
    """
    -e --env --name -c --config --compatibility-date --branch --project-name --message --tag --var --define
    --assets --route --routes --outdir --version-id --percentage
    """
)
_WRANGLER_STORES = _cli.words(
    """
    kv kv:namespace kv:key r2 d1 queues vectorize hyperdrive
    """
)


def _wrangler(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _WRANGLER_VALUE)
    verb, sub = p.pos(0), p.pos(1)
    name = p.value("--name") or p.value("--project-name")
    envname = p.value("-e", "--env")
    if p.has(*_DRY):
        return
    if verb in ("deploy", "publish") or (verb == "versions" and sub == "deploy"):
        yield _deploy(cmd, "wrangler", name, _app_env(ctx, envname, name))
    elif verb == "rollback":
        yield _deploy(cmd, "wrangler", name, _app_env(ctx, envname, name), rollback=True)
    elif verb == "pages" and sub in ("deploy", "publish"):
        branch = p.value("--branch")
        if branch and branch not in ("main", "master", "production", "prod"):
            yield _preview(cmd, "wrangler", name, branch=branch)
        else:
            yield _deploy(cmd, "wrangler", name, "production" if branch else _app_env(ctx, name), branch=branch)
    elif verb == "delete" or (verb in _WRANGLER_STORES and "delete" in p.positionals[1:]):
        yield effect(
            "infra.destroy",
            cmd,
            tool="wrangler",
            operation=" ".join(p.positionals[:3]),
            targets=tuple(p.positionals[1:]),
            environment=_app_env(ctx, envname, name),
        )


_ANSIBLE_VALUE = _cli.words(
    """
    -i --inventory -l --limit -e --extra-vars -t --tags --skip-tags -u --user -f --forks
    --vault-password-file --vault-id -c --connection -T --timeout --private-key --key-file -M --module-path
    --start-at-task --become-method --become-user
    """
)


def _ansible(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _ANSIBLE_VALUE)
    if p.has("--check", "-C", "--syntax-check", "--list-hosts", "--list-tasks", "--list-tags") or not p.positionals:
        return
    names: list[str | None] = []
    for extra in p.values("-e", "--extra-vars"):
        for pair in extra.split():
            key, eq, value = pair.partition("=")
            if eq and key.lower() in _ENV_FIELDS:
                names.append(value)
    for inv in p.values("-i", "--inventory"):
        names += [_cli.stem(inv), *(_cli.path_parts(inv))]
    names += list(p.values("-l", "--limit"))
    names += [_cli.stem(pb) for pb in p.positionals]
    yield _deploy(
        cmd,
        "ansible-playbook",
        ",".join(p.positionals),
        _app_env(ctx, *names),
        inventory=p.value("-i", "--inventory"),
    )


# -- scripts and build targets named deploy ---------------------------------------------------------

_SCRIPT_DEPLOY = frozenset({"deploy", "deployment", "ship", "promote", "rollout"})
_SCRIPT_PUBLISH = frozenset({"publish", "release"})
_YARN_BUILTINS = _cli.words(
    """
    add audit autoclean bin cache check config create dedupe dlx exec explain generate-lock-entry global help
    import info init install licenses link list login logout node npm outdated owner pack patch plugin
    policies publish rebuild remove run search set stage tag team unlink unplug up upgrade upgrade-interactive
    version versions why workspace workspaces
    """
)


def _script_effect(cmd: Command, ctx: Context, tool: str, script: str, extra: Sequence[str] = ()) -> Iterator[Effect]:
    words = _cli.tokens(script)
    if not words:
        return
    if words[0] in _SCRIPT_DEPLOY:
        yield _deploy(cmd, tool, script, _app_env(ctx, *words[1:], *extra), script=script)
    elif (words[0] in _SCRIPT_PUBLISH and tool not in ("make", "just", "task")) or words[0] == "publish":
        yield effect(
            "publish",
            cmd,
            tool=tool,
            operation="script",
            script=script,
            package=None,
            registry=None,
            targets=(script,),
            local=False,
        )


def _make(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _cli.words("-C --directory -f --file --makefile -j --jobs -I -o -W -l"))
    if p.has("-n", "--dry-run", "--just-print", "--recon", "-q", "--question"):
        return
    extra = [w.partition("=")[2] if "=" in w else w for w in p.positionals]
    targets = [w for w in p.positionals if "=" not in w]
    if cmd.name != "make":  # just/task: one recipe, then its arguments (and task may be Taskwarrior)
        targets = targets[:1]
    for target in targets:
        yield from _script_effect(cmd, ctx, cmd.name, target, extra)


def _script_runner(cmd: Command, ctx: Context) -> Iterator[Effect]:
    """npm/pnpm/yarn/bun: ``run <script>`` (and yarn/pnpm bare script names) and ``publish``."""
    p = _cli.parse(cmd.args, _cli.words("--registry --tag --access --otp -w --workspace --filter -F -C --dir --cwd"))
    verb = p.pos(0)
    if verb is None:
        return
    if verb in ("publish", "unpublish") or (cmd.name == "yarn" and verb == "npm" and p.pos(1) == "publish"):
        yield from _package_publish(cmd, p, "unpublish" if verb == "unpublish" else "publish")
    elif verb in ("run", "run-script", "rum", "urn") and p.pos(1):
        yield from _script_effect(cmd, ctx, cmd.name, p.positionals[1])
    elif (cmd.name == "yarn" and verb not in _YARN_BUILTINS) or (cmd.name in ("pnpm", "bun") and verb != "deploy"):
        yield from _script_effect(cmd, ctx, cmd.name, verb)


def _package_publish(cmd: Command, p: _cli.Args, operation: str) -> Iterator[Effect]:
    if p.flag(*_DRY):
        return
    registry = p.value("--registry")
    package = next((w for w in p.positionals[1:] if w != "publish"), None)
    yield effect(
        "publish",
        cmd,
        tool=cmd.name,
        operation=operation,
        registry=registry or "npm",
        package=package,
        targets=(package,) if package else (),
        local=_local_registry(registry),
        recursive=p.flag("-r", "--recursive"),
    )


# -- container images -------------------------------------------------------------------------------

_DOCKER_GLOBAL = _cli.words("-H --host -c --context --config -l --log-level --tlscacert --tlscert --tlskey")
_BUILD_VALUE = _cli.words(
    """
    -t --tag -f --file --build-arg --platform --target --secret --cache-from --cache-to --label -o --output
    --progress --network --ssh --iidfile --metadata-file --builder --shm-size --ulimit --add-host
    --build-context --attest --annotation --allow --cgroup-parent -m --memory --isolation --provenance --sbom
    --set
    """
)


def _registry_of(image: str) -> str:
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def _local_registry(registry: str | None) -> bool:
    if not registry:
        return False
    host = registry.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()
    return host in ("localhost", "127.0.0.1", "0.0.0.0", "host.docker.internal") or host.endswith(
        (".local", ".localhost")
    )


def _image_publish(cmd: Command, tool: str, images: Sequence[str], operation: str) -> Iterator[Effect]:
    if not images:
        yield effect(
            "publish",
            cmd,
            tool=tool,
            operation=operation,
            registry=None,
            package=None,
            targets=(),
            local=False,
        )
        return
    registries = tuple(dict.fromkeys(_registry_of(i) for i in images))
    yield effect(
        "publish",
        cmd,
        tool=tool,
        operation=operation,
        registry=",".join(registries),
        package=images[0],
        targets=tuple(images),
        local=all(_local_registry(r) for r in registries),
    )


def _docker(cmd: Command, ctx: Context) -> Iterator[Effect]:
    g = _cli.parse(cmd.args, _DOCKER_GLOBAL)
    if not g.positionals:
        return
    start = g.indexes[0]
    verb = g.positionals[0]
    args = cmd.args[start + 1 :]
    if cmd.name in ("docker-compose", "podman-compose") or verb == "compose":
        c = _cli.parse(args if verb == "compose" else cmd.args, _cli.words("-f --file -p --project-name --profile"))
        if c.pos(0) == "push":
            yield from _image_publish(cmd, cmd.name, c.positionals[1:], "compose push")
        return
    sub = _cli.parse(args, _BUILD_VALUE)
    if verb in ("image", "manifest") and sub.pos(0) == "push":
        yield from _image_publish(cmd, cmd.name, sub.positionals[1:2], f"{verb} push")
    elif verb == "push":
        yield from _image_publish(cmd, cmd.name, sub.positionals[:1], "push")
    elif verb in ("build", "buildx", "builder") and _build_pushes(sub, args):
        yield from _image_publish(cmd, cmd.name, sub.values("-t", "--tag"), "build --push")


def _build_pushes(p: _cli.Args, args: Sequence[str]) -> bool:
    if p.pos(0) == "imagetools" and p.pos(1) == "create":
        return not p.has(*_DRY)
    if p.flag("--push"):
        return True
    outputs = p.values("-o", "--output") + tuple(v for v in p.values("--set") if ".output=" in v)
    return any("type=registry" in o or "push=true" in o for o in outputs)


def _buildah(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _cli.words("--authfile --cert-dir --creds --format -f --digestfile --sign-by"))
    if p.pos(0) == "push":
        yield from _image_publish(cmd, "buildah", p.positionals[-1:] if len(p.positionals) > 1 else (), "push")


def _skopeo(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _cli.words("--authfile --src-creds --dest-creds --format -f --sign-by --override-os"))
    if p.pos(0) in ("copy", "sync") and len(p.positionals) >= 3:
        dest = p.positionals[-1]
        if dest.startswith("docker://"):
            yield from _image_publish(cmd, "skopeo", [dest.removeprefix("docker://")], p.positionals[0])
    elif p.pos(0) == "delete":
        yield effect(
            "infra.destroy",
            cmd,
            tool="skopeo",
            operation="delete",
            targets=tuple(p.positionals[1:]),
            environment=ctx.environment,
        )


def _crane(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _cli.words("--platform -t --tag -f --new_tag"))
    verb = p.pos(0)
    if verb in ("push", "copy", "cp", "append", "mutate", "rebase", "tag") and len(p.positionals) >= 2:
        yield from _image_publish(cmd, "crane", p.positionals[-1:], verb)
    elif verb in ("delete", "rm"):
        yield effect(
            "infra.destroy",
            cmd,
            tool="crane",
            operation=verb,
            targets=tuple(p.positionals[1:]),
            environment=ctx.environment,
        )


def _ko(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _cli.words("--platform -t --tags --image-label --sbom -B --base-import-paths"))
    if p.pos(0) not in ("build", "publish", "resolve", "apply", "create", "run"):
        return
    repo = cmd.env.get("KO_DOCKER_REPO")
    if p.flag("-L", "--local") or (p.has("--push") and not p.flag("--push")) or repo in ("ko.local", "kind.local"):
        return
    yield effect(
        "publish",
        cmd,
        tool="ko",
        operation=p.positionals[0],
        registry=repo,
        package=p.pos(1),
        targets=tuple(p.positionals[1:]),
        local=_local_registry(repo),
    )


# -- language package registries ----------------------------------------------------------------------


def _simple_publish(
    cmd: Command,
    verbs: dict[str, str],
    value: frozenset[str],
    registry_opts: Sequence[str],
    default_registry: str,
    dry: Sequence[str] = _DRY,
) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, value)
    verb = p.pos(0)
    if verb not in verbs or p.has(*dry):
        return
    registry = p.value(*registry_opts) if registry_opts else None
    package = p.pos(1)
    yield effect(
        "publish",
        cmd,
        tool=cmd.name,
        operation=verbs[verb],
        registry=registry or default_registry,
        package=package,
        targets=tuple(p.positionals[1:]),
        local=_local_registry(registry),
    )


_PY_VALUE = _cli.words(
    """
    -r --repository --repository-url -u --username -p --password --index --publish-url --token --cert
    --client-cert -c --config-file --identity --sign-with --trusted-publishing --check-url
    """
)


def _python_publish(cmd: Command, ctx: Context) -> Iterator[Effect]:
    verbs = {"twine": {"upload": "upload"}}.get(cmd.name, {"publish": "publish"})
    yield from _simple_publish(
        cmd, verbs, _PY_VALUE, ("-r", "--repository", "--repository-url", "--index", "--publish-url"), "pypi"
    )


def _cargo(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(
        cmd.args,
        _cli.words(
            "--registry --index --token -p --package --manifest-path --features -F"
            " --target --target-dir -j --jobs --version --vers"
        ),
    )
    verb = p.pos(0)
    registry = p.value("--registry", "--index") or "crates.io"
    package = p.value("-p", "--package") or p.pos(1)
    if verb == "publish" and not p.has(*_DRY, "-n"):
        yield effect(
            "publish",
            cmd,
            tool="cargo",
            operation="publish",
            registry=registry,
            package=package,
            targets=(package,) if package else (),
            local=_local_registry(registry),
        )
    elif verb == "yank":
        yield effect(
            "publish",
            cmd,
            tool="cargo",
            operation="yank",
            registry=registry,
            package=package,
            targets=(package,) if package else (),
            local=False,
            undo=p.flag("--undo"),
        )
    elif verb == "release" and p.flag("-x", "--execute"):
        yield effect(
            "publish",
            cmd,
            tool="cargo",
            operation="release",
            registry=registry,
            package=package,
            targets=(package,) if package else (),
            local=False,
        )


def _gem(cmd: Command, ctx: Context) -> Iterator[Effect]:
    yield from _simple_publish(
        cmd,
        {"push": "push", "yank": "yank"},
        _cli.words("--host -k --key -v --version --otp"),
        ("--host",),
        "rubygems.org",
    )


def _rake(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _cli.words("-f --rakefile -C --directory -I -r --require -j"))
    if p.has("-n", "--dry-run", "-T", "--tasks", "-P", "-W"):
        return
    for task in p.positionals:
        name = task.split("[", 1)[0]
        if name == "release" or name.startswith("release:"):
            yield effect(
                "publish",
                cmd,
                tool="rake",
                operation=name,
                registry="rubygems.org",
                package=None,
                targets=(name,),
                local=False,
            )
        elif name == "deploy" or name.startswith("deploy:"):
            yield _deploy(cmd, "rake", name, ctx.environment, script=name)


_GORELEASER_VALUE = _cli.words("-f --config --skip --parallelism -p --timeout --release-notes --id --single-target")


def _goreleaser(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _GORELEASER_VALUE)
    verb = p.pos(0)
    if verb not in (None, "release") or (verb is None and p.has("--version", "-v", "--help", "-h")):
        return
    skipped = {s.strip() for v in p.values("--skip") for s in v.split(",")}
    if p.flag("--snapshot", "--skip-publish") or "publish" in skipped:
        return
    yield effect(
        "publish",
        cmd,
        tool="goreleaser",
        operation="release",
        registry=None,
        package=None,
        targets=(),
        local=False,
    )


_MVN_VALUE = _cli.words(
    "-f --file -s --settings -gs --global-settings -P --activate-profiles -pl --projects -rf"
    " --resume-from -T --threads -t --toolchains -l --log-file -D --define -b --builder"
)


def _maven(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _MVN_VALUE)
    defines = p.values("-D", "--define")
    if any(d.startswith(("maven.deploy.skip=true", "skipDeploy")) for d in defines):
        return
    for goal in p.positionals:
        if goal == "deploy" or goal.startswith("deploy:") or goal in ("release:perform", "jib:build"):
            yield effect(
                "publish",
                cmd,
                tool="maven",
                operation=goal,
                registry=None,
                package=None,
                targets=(goal,),
                local=False,
            )
            return


def _gradle(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(
        cmd.args,
        _cli.words(
            "-x --exclude-task -p --project-dir -b --build-file -c --settings-file -I"
            " --init-script -g --gradle-user-home --console --warning-mode --max-workers"
        ),
    )
    if p.has("-m", "--dry-run"):
        return
    excluded = set(p.values("-x", "--exclude-task"))
    for task in p.positionals:
        if task in excluded:
            continue
        name = task.rsplit(":", 1)[-1]
        if (name.startswith("publish") and not name.endswith(("ToMavenLocal", "MavenLocal"))) or name == "jib":
            yield effect(
                "publish",
                cmd,
                tool="gradle",
                operation=name,
                registry=None,
                package=None,
                targets=(task,),
                local=False,
            )
            return


def _dotnet(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(
        cmd.args, _cli.words("-s --source -k --api-key -ss --symbol-source -sk --symbol-api-key -t --timeout")
    )
    words = p.positionals[1:] if cmd.name == "dotnet" else p.positionals
    if (p.pos(0) == "nuget" or cmd.name == "nuget") and words[:1] in (("push",), ("delete",)):
        source = p.value("-s", "--source") or "nuget.org"
        yield effect(
            "publish",
            cmd,
            tool=cmd.name,
            operation=f"nuget {words[0]}",
            registry=source,
            package=words[1] if len(words) > 1 else None,
            targets=tuple(words[1:]),
            local=_local_registry(source),
        )


def _helm(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(
        cmd.args,
        _cli.words(
            "--ca-file --cert-file --key-file --username --password --kube-context"
            " -n --namespace --kubeconfig --registry-config"
        ),
    )
    if p.pos(0) in ("push", "cm-push") and len(p.positionals) >= 3:
        remote = p.positionals[2]
        yield effect(
            "publish",
            cmd,
            tool="helm",
            operation=p.positionals[0],
            registry=remote,
            package=p.pos(1),
            targets=(p.positionals[1],),
            local=_local_registry(remote.removeprefix("oci://")),
        )


def _lang_publish(cmd: Command, ctx: Context) -> Iterator[Effect]:
    """Single-verb registries: vsce, ovsx, deno, jsr, dart/flutter pub, mix, pod, conan, snapcraft, ..."""
    p = _cli.parse(cmd.args, _cli.words("-p --pat -r --remote --token --registry -c --channel --release -u --user"))
    words = p.positionals
    name = cmd.name
    op: str | None = None
    if name in ("vsce", "ovsx", "deno", "jsr", "lerna", "changeset") and p.pos(0) == "publish":
        op = "publish"
    elif name in ("dart", "flutter") and words[:2] == ("pub", "publish"):
        op = "pub publish"
    elif name == "mix" and p.pos(0) in ("hex.publish", "hex.retire"):
        op = words[0]
    elif name == "pod" and words[:2] == ("trunk", "push"):
        op = "trunk push"
    elif name in ("conan", "anaconda") and p.pos(0) == "upload":
        op = "upload"
    elif name == "snapcraft" and p.pos(0) in ("upload", "push", "release"):
        op = words[0]
    elif name in ("semantic-release", "release-it"):
        op = "release"
    if op is None or p.has(*_DRY, "-n") or (name in ("semantic-release", "release-it") and p.has("-d")):
        return
    yield effect(
        "publish",
        cmd,
        tool=name,
        operation=op,
        registry=p.value("-r", "--registry", "--remote"),
        package=None,
        targets=tuple(words[1:]),
        local=False,
    )


def _uv(cmd: Command, ctx: Context) -> Iterator[Effect]:
    yield from _python_publish(cmd, ctx)


_HANDLERS: dict[str, Handler] = {
    "vercel": _vercel,
    "netlify": _netlify,
    "fly": _fly,
    "flyctl": _fly,
    "heroku": _heroku,
    "railway": _railway,
    "serverless": _serverless,
    "sls": _serverless,
    "argocd": _argocd,
    "gh": _gh,
    "gcloud": _gcloud,
    "az": _az,
    "kamal": _kamal,
    "cap": _cap,
    "eb": _eb,
    "firebase": _firebase,
    "wrangler": _wrangler,
    "ansible-playbook": _ansible,
    "npm": _script_runner,
    "pnpm": _script_runner,
    "yarn": _script_runner,
    "bun": _script_runner,
    "make": _make,
    "just": _make,
    "task": _make,
    "docker": _docker,
    "podman": _docker,
    "nerdctl": _docker,
    "docker-compose": _docker,
    "podman-compose": _docker,
    "buildah": _buildah,
    "skopeo": _skopeo,
    "crane": _crane,
    "ko": _ko,
    "twine": _python_publish,
    "poetry": _python_publish,
    "pdm": _python_publish,
    "uv": _uv,
    "flit": _python_publish,
    "hatch": _python_publish,
    "cargo": _cargo,
    "gem": _gem,
    "rake": _rake,
    "goreleaser": _goreleaser,
    "mvn": _maven,
    "mvnw": _maven,
    "gradle": _gradle,
    "gradlew": _gradle,
    "dotnet": _dotnet,
    "nuget": _dotnet,
    "helm": _helm,
}


def classify(cmd: Command, ctx: Context) -> Iterator[Effect]:
    """Deploy and publish effects of one command (nothing for builds, previews of plans, dry runs)."""
    handler = _HANDLERS.get(cmd.name, _lang_publish)
    yield from handler(cmd, ctx)
