"""Credentials and access → ``credential.change`` and ``merge.bypass_review``.

Understands:

- aws: IAM writes (anything but ``get-``/``list-``/``simulate-``/``generate-``/tags),
  Secrets Manager writes, KMS key deletion/disabling/grants/policies, SSM
  ``put-parameter --type SecureString``, IAM Identity Center and Organizations writes,
  resource policies and ACLs (``s3api put-bucket-policy``, ``lambda add-permission``, ...),
  EC2 key pairs, Cognito admin credential operations.
- gcloud: ``iam …`` writes (service-account keys, roles, bindings), any
  ``add-iam-policy-binding``/``remove-iam-policy-binding``/``set-iam-policy``, Secret
  Manager writes, KMS key version destruction, Cloud SQL user passwords; gsutil ``iam``/``acl``.
- az: ``role …`` and ``ad …`` writes, Key Vault secrets/keys/certificates and access
  policies, managed identities, key/credential renewal and regeneration.
- gh: ``secret set|delete|remove``, ``ssh-key``/``gpg-key add|delete``, ``repo deploy-key``,
  ``repo edit --visibility``, ``api`` writes to branch protection, rulesets,
  collaborators, deploy keys, secrets, environments, webhooks, memberships and user keys
  (and GraphQL mutations of those); ``pr merge --admin|--auto`` is ``merge.bypass_review``;
  ``repo delete`` (and ``api -X DELETE repos/o/r``) is ``infra.destroy``.
- vault: ``write``, ``delete``, ``patch``, ``kv`` writes, ``policy``, ``token create|revoke``,
  ``auth``/``secrets``/``audit`` enable/disable/tune, ``lease revoke``, ``operator`` actions.
- kubectl / oc: creating, deleting, patching or editing secrets, roles, bindings,
  service accounts and tokens; ``certificate approve|deny``; ``auth reconcile``;
  ``set serviceaccount|subject``; ``oc adm policy``.
- platform secret stores: fly/flyctl ``secrets``, heroku ``config:set|unset`` and
  ``access:*``, vercel ``env add|rm``, netlify ``env:set|unset``, wrangler ``secret``,
  railway ``variables --set``, doppler / infisical ``secrets set|delete``, 1Password
  ``op item|document|vault`` writes, Bitwarden ``bw create|edit|delete``, npm
  ``token``/``owner``/``access`` writes, ``ssh-copy-id``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from ringfence.analyze import _cli
from ringfence.analyze.command import Command
from ringfence.analyze.context import Context
from ringfence.analyze.registry import effect
from ringfence.model import AttrValue, Effect

COMMANDS: frozenset[str] | None = _cli.words(
    """
    aws gcloud gsutil az gh vault kubectl oc kubecolor fly flyctl heroku vercel netlify wrangler railway
    doppler infisical op bw npm ssh-copy-id
    """
)

# -- aws --------------------------------------------------------------------------------------

_READ_PREFIXES = _cli.word_tuple("get- list- describe- batch-get- simulate- generate- validate- tag- untag- lookup-")
_KMS_OPS = _cli.words(
    """
    schedule-key-deletion disable-key create-grant revoke-grant retire-grant put-key-policy
    delete-imported-key-material disable-key-rotation import-key-material replicate-key
    update-primary-region delete-custom-key-store update-alias delete-alias
    """
)
_AWS_POLICY_OPS = {
    "s3api": _cli.words(
        """
        put-bucket-policy delete-bucket-policy put-bucket-acl put-object-acl put-public-access-block
        delete-public-access-block put-bucket-ownership-controls
        """
    ),
    "s3control": _cli.words("put-public-access-block delete-public-access-block put-access-point-policy"),
    "lambda": _cli.words("add-permission remove-permission add-layer-version-permission"),
    "ecr": _cli.words("set-repository-policy delete-repository-policy"),
    "sns": _cli.words("add-permission remove-permission"),
    "sqs": _cli.words("add-permission remove-permission"),
    "ec2": _cli.words("create-key-pair delete-key-pair import-key-pair"),
    "cognito-idp": _cli.words(
        """
        admin-set-user-password admin-reset-user-password admin-create-user admin-delete-user
        admin-add-user-to-group admin-remove-user-from-group
        """
    ),
}
_AWS_IDENTITY_SERVICES = frozenset({"iam", "secretsmanager", "sso-admin", "identitystore", "organizations"})


def aws_credential_op(service: str, op: str, opts: dict[str, list[str]]) -> bool:
    """Whether ``aws <service> <op>`` changes credentials, identities or access policies."""
    if service in _AWS_IDENTITY_SERVICES:
        return not op.startswith(_READ_PREFIXES)
    if service == "kms":
        return op in _KMS_OPS
    if service == "ssm":
        return op == "put-parameter" and any(v.lower() == "securestring" for v in opts.get("--type", []))
    return op in _AWS_POLICY_OPS.get(service, frozenset())


def _aws(cmd: Command, ctx: Context) -> Iterator[Effect]:
    service, op, opts, _ = _cli.aws_split(cmd.args)
    if service is None or op is None or "--dry-run" in opts:
        return
    if aws_credential_op(service, op, opts):
        targets = _cli.aws_targets(opts)
        yield effect(
            "credential.change",
            cmd,
            tool="aws",
            service=service,
            operation=op,
            targets=targets,
            environment=_cli.aws_environment(cmd, ctx, opts, targets),
        )


# -- gcloud / gsutil ----------------------------------------------------------------------------

_IAM_VERBS = frozenset({"add-iam-policy-binding", "remove-iam-policy-binding", "set-iam-policy"})
_GCLOUD_MUTATE = _cli.words(
    """
    create delete update undelete enable disable upload add destroy restore set-password
    add-iam-policy-binding remove-iam-policy-binding set-iam-policy sign-jwt sign-blob
    """
)
_GCLOUD_KMS = frozenset({"destroy", "disable"}) | _IAM_VERBS


def gcloud_credential_op(words: Sequence[str]) -> int | None:
    """The index of the verb when a gcloud command changes credentials or access, else ``None``."""
    if not words:
        return None
    group = words[0]
    for k, word in enumerate(words[1:], start=1):
        if word in _IAM_VERBS:
            return k
        if group in ("iam", "secrets") and word in _GCLOUD_MUTATE:
            return k
        if group == "kms" and word in _GCLOUD_KMS:
            return k
        if group == "sql" and words[1:2] == ["users"] and word in ("create", "delete", "set-password"):
            return k
    return None


def _gcloud(cmd: Command, ctx: Context) -> Iterator[Effect]:
    words, opts = _cli.gcloud_split(cmd.args)
    at = gcloud_credential_op(words)
    if at is None:
        return
    targets = tuple(words[at + 1 :])
    yield effect(
        "credential.change",
        cmd,
        tool="gcloud",
        service=" ".join(words[:at]),
        operation=words[at],
        targets=targets,
        environment=_cli.gcloud_environment(cmd, ctx, opts, targets),
    )


def _gsutil(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(
        cmd.args,
        _cli.words(
            """
        -o -h -u -p -d -g -e
        """
        ),
    )
    verb, sub = p.pos(0), p.pos(1)
    if verb in ("iam", "acl", "defacl") and sub in ("ch", "set"):
        targets = tuple(x for x in p.positionals[2:] if x.startswith("gs://"))
        yield effect(
            "credential.change",
            cmd,
            tool="gsutil",
            operation=f"{verb} {sub}",
            targets=targets,
            environment=_cli.gcloud_environment(cmd, ctx, {}, targets),
        )


# -- az ----------------------------------------------------------------------------------------

_AZ_MUTATE = _cli.words(
    """
    create delete update set reset add remove purge import renew regenerate create-for-rbac restore recover
    upload rotate set-policy delete-policy
    """
)


def az_credential_op(path: Sequence[str]) -> str | None:
    """The operation when an ``az`` command path changes credentials or access, else ``None``."""
    if len(path) < 2:
        return None
    verb = path[-1]
    joined = " ".join(path)
    if path[0] in ("role", "ad", "identity") and verb in _AZ_MUTATE:
        return joined
    if path[0] == "keyvault" and (
        verb in ("set-policy", "delete-policy")
        or (len(path) > 2 and path[1] in ("secret", "key", "certificate", "role") and verb in _AZ_MUTATE)
    ):
        return joined
    if verb.startswith(("renew", "regenerate")) or (
        verb in ("reset", "renew", "regenerate") and ("keys" in path or "credential" in path)
    ):
        return joined
    return None


def _az(cmd: Command, ctx: Context) -> Iterator[Effect]:
    path, opts = _cli.az_split(cmd.args)
    op = az_credential_op(path)
    if op is None:
        return
    names = tuple(v for k in ("--name", "-n", "--assignee", "--id", "--vault-name") for v in opts.get(k, []) if v)
    yield effect(
        "credential.change",
        cmd,
        tool="az",
        operation=op,
        targets=names,
        environment=_cli.az_environment(cmd, ctx, opts),
    )


# -- gh ----------------------------------------------------------------------------------------

_GH_VALUE = _cli.words(
    """
    -R --repo -X --method -f --raw-field -F --field -H --header --input -q --jq -t --template --hostname
    --cache -p --preview -b --body -e --env -o --org -a --app --visibility --repos --title --type -k --key
    --subject --match-head-commit --body-file --env-file -A --author-email
    """
)
_GH_ENDPOINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^repos/[^/]+/[^/]+/branches/[^/]+/protection(?:/|$)"), "branch_protection"),
    (re.compile(r"^(?:repos/[^/]+/[^/]+|orgs/[^/]+)/rulesets(?:/|$)"), "ruleset"),
    (re.compile(r"^repos/[^/]+/[^/]+/collaborators/"), "collaborator"),
    (re.compile(r"^repos/[^/]+/[^/]+/keys(?:/|$)"), "deploy_key"),
    (
        re.compile(r"^(?:repos/[^/]+/[^/]+|orgs/[^/]+)/(?:actions|dependabot|codespaces)/secrets(?:/|$)"),
        "secret",
    ),
    (re.compile(r"^repos/[^/]+/[^/]+/environments/[^/]+/secrets(?:/|$)"), "secret"),
    (re.compile(r"^repos/[^/]+/[^/]+/environments/[^/]+(?:/deployment-branch-policies.*)?$"), "environment"),
    (re.compile(r"^(?:repos/[^/]+/[^/]+|orgs/[^/]+)/hooks(?:/|$)"), "webhook"),
    (re.compile(r"^orgs/[^/]+/(?:members|memberships|outside_collaborators)/"), "membership"),
    (re.compile(r"^(?:orgs/[^/]+/teams/[^/]+|teams/[0-9]+)/(?:memberships|repos)/"), "team_access"),
    (re.compile(r"^user/(?:keys|gpg_keys|ssh_signing_keys)(?:/|$)"), "user_key"),
    (re.compile(r"^repos/[^/]+/[^/]+/actions/permissions(?:/|$)"), "actions_permissions"),
)
_GH_REPO = re.compile(r"^repos/[^/]+/[^/]+/?$")
_GH_MUTATION = re.compile(r"\bmutation\b")
_GH_MUTATION_TARGETS = re.compile(
    r"BranchProtectionRule|Ruleset|DeployKey|Collaborator|updateRepository|deleteRepository|"
    r"EnterpriseAdmin|updateTeam|MembersCanCreate|IpAllowList"
)
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _gh(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _GH_VALUE)
    group, verb = p.pos(0), p.pos(1)
    repo = p.value("-R", "--repo")
    env = ctx.environment
    base: dict[str, AttrValue] = {"tool": "gh", "repo": repo}
    if group == "secret" and verb in ("set", "delete", "remove"):
        gh_env = p.value("-e", "--env")
        env = _cli.environment(ctx, [("app", gh_env)])
        yield effect(
            "credential.change",
            cmd,
            **base,
            operation=f"secret {verb}",
            targets=tuple(p.positionals[2:]),
            org=p.value("-o", "--org"),
            github_environment=gh_env,
            environment=env,
        )
    elif group in ("ssh-key", "gpg-key") and verb in ("add", "delete"):
        yield effect(
            "credential.change",
            cmd,
            **base,
            operation=f"{group} {verb}",
            targets=tuple(p.positionals[2:]),
            environment=env,
        )
    elif group == "repo" and verb == "deploy-key" and p.pos(2) in ("add", "delete"):
        yield effect(
            "credential.change",
            cmd,
            **base,
            operation=f"deploy-key {p.pos(2)}",
            targets=tuple(p.positionals[3:]),
            environment=env,
        )
    elif group == "repo" and verb == "edit" and p.has("--visibility"):
        target = p.pos(2) or repo
        yield effect(
            "credential.change",
            cmd,
            **base,
            operation="repo visibility",
            visibility=p.value("--visibility"),
            targets=(target,) if target else (),
            environment=env,
        )
    elif group == "repo" and verb == "delete":
        target = p.pos(2) or repo
        yield effect(
            "infra.destroy",
            cmd,
            **base,
            operation="repo delete",
            targets=(target,) if target else (),
            environment=env,
        )
    elif group == "pr" and verb == "merge":
        admin, auto = p.flag("--admin"), p.flag("--auto")
        if admin or auto:
            yield effect("merge.bypass_review", cmd, **base, pr=p.pos(2), admin=admin, auto=auto, environment=env)
    elif group == "api" and verb is not None:
        yield from _gh_api(cmd, ctx, p, verb)


def _gh_api(cmd: Command, ctx: Context, p: _cli.Args, endpoint: str) -> Iterator[Effect]:
    fields = p.values("-f", "--raw-field", "-F", "--field")
    method = (p.value("-X", "--method") or ("POST" if fields or p.has("--input") else "GET")).upper()
    path = endpoint.removeprefix("https://api.github.com").lstrip("/").split("?", 1)[0]
    base: dict[str, AttrValue] = {
        "tool": "gh",
        "method": method,
        "endpoint": path,
        "environment": ctx.environment,
    }
    if path == "graphql":
        query = " ".join(fields)
        if _GH_MUTATION.search(query) and _GH_MUTATION_TARGETS.search(query):
            yield effect("credential.change", cmd, **base, operation="graphql mutation", targets=())
        return
    if method not in _WRITE_METHODS:
        return
    for pattern, operation in _GH_ENDPOINTS:
        if pattern.match(path):
            yield effect("credential.change", cmd, **base, operation=operation, targets=(path,))
            return
    if _GH_REPO.match(path):
        if method == "DELETE":
            yield effect("infra.destroy", cmd, **base, operation="repo delete", targets=(path,))
        elif any(f.split("=", 1)[0] in ("private", "visibility") for f in fields):
            yield effect("credential.change", cmd, **base, operation="repo visibility", targets=(path,))


# -- vault -------------------------------------------------------------------------------------

_VAULT_VALUE = frozenset(
    f"-{n}"
    for n in _cli.words(
        """
        address namespace ns mount format field policy ttl role path method ca-cert ca-path client-cert
        client-key tls-server-name wrap-ttl version versions description type display-name period
        explicit-max-ttl metadata cas max-versions delete-version-after custom-metadata accessor id
        entity-alias use-limit key-shares key-threshold header agent-address unlock-key policy-override mfa
        plugin-name plugin-version sha256 command args local output-policy
        """
    )
)
_VAULT_SIMPLE = frozenset({"write", "delete", "patch"})
_VAULT_SUB = {
    "kv": _cli.words(
        """
        put patch delete destroy undelete rollback enable-versioning
        """
    ),
    "policy": frozenset({"write", "delete"}),
    "token": frozenset({"create", "revoke"}),
    "auth": frozenset({"enable", "disable", "tune", "move"}),
    "secrets": frozenset({"enable", "disable", "tune", "move"}),
    "audit": frozenset({"enable", "disable"}),
    "lease": frozenset({"revoke"}),
    "namespace": frozenset({"create", "delete", "patch"}),
    "plugin": frozenset({"register", "deregister"}),
    "operator": _cli.words(
        """
        seal rekey generate-root step-down init raft migrate
        """
    ),
}


def _vault(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _VAULT_VALUE, clusters=False)
    verb, sub = p.pos(0), p.pos(1)
    if verb in _VAULT_SIMPLE:
        operation, targets = verb, tuple(p.positionals[1:2])
    elif verb == "kv" and sub == "metadata" and p.pos(2) in ("put", "patch", "delete"):
        operation, targets = f"kv metadata {p.pos(2)}", tuple(p.positionals[3:4])
    elif verb in _VAULT_SUB and sub in _VAULT_SUB[verb]:
        if verb == "operator" and sub == "raft" and p.pos(2) not in ("remove-peer", "snapshot", "join"):
            return
        operation, targets = f"{verb} {sub}", tuple(p.positionals[2:3])
    else:
        return
    address = p.value("-address") or cmd.env.get("VAULT_ADDR")
    host = address.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] if address else None
    env = _cli.environment(
        ctx,
        [
            ("vault_addr", host),
            ("vault_addr", p.value("-namespace", "-ns")),
            ("vault_addr", cmd.env.get("VAULT_NAMESPACE")),
        ],
    )
    yield effect("credential.change", cmd, tool="vault", operation=operation, targets=targets, environment=env)


# -- kubectl / oc --------------------------------------------------------------------------------

_KUBE_EDIT = frozenset({"delete", "patch", "edit", "replace", "label", "annotate"})


def _kubectl(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.kube_parse(cmd.args)
    if _cli.kube_dry_run(p) or not p.positionals:
        return
    verb = p.positionals[0]
    rest = p.positionals[1:]
    found: tuple[str, str | None, tuple[str, ...]] | None = None  # operation, resource, names
    if verb == "create" and rest and (_cli.kube_credential_type(rest[0]) or rest[0] == "token"):
        names = rest[2:] if rest[0] in ("secret", "secrets") else rest[1:]
        found = (f"create {rest[0]}", rest[0], tuple(names))
    elif verb in _KUBE_EDIT and rest:
        types, names = _cli.kube_resources(rest)
        creds = tuple(t for t in types if _cli.kube_credential_type(t))
        if creds:
            found = (f"{verb} {','.join(creds)}", ",".join(creds), names)
    elif verb == "certificate" and rest and rest[0] in ("approve", "deny"):
        found = (f"certificate {rest[0]}", "certificatesigningrequest", tuple(rest[1:]))
    elif verb == "auth" and rest and rest[0] == "reconcile":
        found = ("auth reconcile", None, tuple(p.values("-f", "--filename")))
    elif verb == "set" and rest and rest[0] in ("serviceaccount", "sa", "subject"):
        found = (f"set {rest[0]}", rest[0], tuple(rest[1:]))
    elif cmd.name == "oc":
        found = _oc(verb, rest)
    if found is None:
        return
    operation, resource, names = found
    role = p.value("--clusterrole", "--role")
    yield effect(
        "credential.change",
        cmd,
        tool=cmd.name,
        operation=operation,
        resource=resource,
        targets=names,
        namespace=p.value("-n", "--namespace"),
        role=role,
        cluster_admin=role == "cluster-admin",
        environment=_cli.kube_environment(cmd, ctx, p),
    )


def _oc(verb: str, rest: tuple[str, ...]) -> tuple[str, str | None, tuple[str, ...]] | None:
    if verb == "adm" and len(rest) >= 2 and rest[0] in ("policy", "groups"):
        return (f"adm {rest[0]} {rest[1]}", None, tuple(rest[2:]))
    if verb == "adm" and len(rest) >= 2 and rest[0] == "certificate" and rest[1] in ("approve", "deny"):
        return (f"adm certificate {rest[1]}", "certificatesigningrequest", tuple(rest[2:]))
    if verb == "policy" and rest and rest[0].startswith(("add-", "remove-")):
        return (f"policy {rest[0]}", None, tuple(rest[1:]))
    if verb == "secrets" and rest and rest[0] in ("link", "unlink", "new"):
        return (f"secrets {rest[0]}", "secret", tuple(rest[1:]))
    return None


# -- platform secret stores and registries -------------------------------------------------------

_PLATFORM_VALUE = _cli.words("-a --app -r --remote -e --environment -s --service --project -c --config --scope --set")


def _platform(cmd: Command, ctx: Context) -> Iterator[Effect]:
    p = _cli.parse(cmd.args, _PLATFORM_VALUE)
    found = _platform_op(cmd.name, p)
    if found is None:
        return
    operation, targets = found
    app = p.value("-a", "--app", "-r", "--remote", "-e", "--environment", "--project")
    yield effect(
        "credential.change",
        cmd,
        tool=cmd.name,
        operation=operation,
        targets=targets,
        app=app,
        environment=_cli.environment(ctx, [("app", app)]),
    )


def _platform_op(name: str, p: _cli.Args) -> tuple[str, tuple[str, ...]] | None:
    words = p.positionals
    verb, sub = p.pos(0), p.pos(1)
    if verb is None:
        return None
    if name in ("fly", "flyctl") and verb == "secrets" and sub in ("set", "unset", "import", "deploy"):
        return f"secrets {sub}", tuple(w.split("=", 1)[0] for w in words[2:])
    if name == "heroku" and (
        verb in ("config:set", "config:unset", "config:add", "config:remove") or verb.startswith("access:")
    ):
        return verb, tuple(w.split("=", 1)[0] for w in words[1:])
    if name == "vercel" and verb == "env" and sub in ("add", "rm", "remove", "update"):
        return f"env {sub}", tuple(words[2:3])
    if name == "netlify" and verb in ("env:set", "env:unset", "env:import", "env:clone"):
        return verb, tuple(words[1:2])
    if name == "wrangler":
        at = 1 if verb in ("versions", "pages") else 0
        if p.pos(at) == "secret" and p.pos(at + 1) in ("put", "delete", "bulk"):
            return f"secret {p.pos(at + 1)}", tuple(words[at + 2 : at + 3])
    if (
        name == "railway"
        and verb in ("variables", "variable", "vars")
        and (p.has("--set", "--set-from-stdin") or sub in ("set", "delete"))
    ):
        return "variables set", tuple(v.split("=", 1)[0] for v in p.values("--set"))
    if name in ("doppler", "infisical") and verb == "secrets" and sub in ("set", "delete", "upload", "rename"):
        return f"secrets {sub}", tuple(words[2:])
    if (
        name == "op"
        and verb in ("item", "document", "vault", "user", "group")
        and sub in ("create", "edit", "delete", "move", "share", "grant", "revoke", "confirm")
    ):
        return f"{verb} {sub}", tuple(words[2:])
    if name == "bw" and verb in ("create", "edit", "delete", "restore", "share", "move"):
        return verb, tuple(words[1:])
    if name == "npm" and (
        (verb == "token" and sub in ("create", "revoke", "rm", "delete"))
        or (verb == "owner" and sub in ("add", "rm", "remove"))
        or (verb == "access" and sub in ("grant", "revoke", "set", "public", "restricted"))
    ):
        return f"{verb} {sub}", tuple(words[2:])
    if name == "ssh-copy-id":
        return "ssh-copy-id", tuple(words[-1:])
    return None


_HANDLERS: dict[str, Callable[[Command, Context], Iterator[Effect]]] = {
    "aws": _aws,
    "gcloud": _gcloud,
    "gsutil": _gsutil,
    "az": _az,
    "gh": _gh,
    "vault": _vault,
    "kubectl": _kubectl,
    "oc": _kubectl,
    "kubecolor": _kubectl,
}


def classify(cmd: Command, ctx: Context) -> Iterator[Effect]:
    """Credential, access and review-bypass effects of one command."""
    handler = _HANDLERS.get(cmd.name, _platform)
    yield from handler(cmd, ctx)
