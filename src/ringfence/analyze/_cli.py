"""Option parsing shared by the cloud, k8s, deploy and credentials classifiers.

CLIs disagree about option syntax, so :func:`parse` understands the common shapes and
is told which options take a value:

- ``--name=value`` and ``--name value`` (the latter only when ``--name`` takes a value);
- ``-n value``, ``-nvalue`` and ``-n=value`` for single-letter options that take a value;
- clusters of single-letter flags (``-avz``), unless ``clusters=False`` for tools whose
  options are single-dash words (terraform's ``-auto-approve``, vault's ``-address=``);
- ``--`` ends the options; what follows is kept apart in :attr:`Args.rest`.

Everything else is a positional word. Nothing here makes more than one pass over the
words; there are no regular expressions.

It also holds what the cloud, k8s, deploy and credentials classifiers share: the
environment lookup over candidate names (:func:`environment`), and the argument shapes
of ``aws`` (:func:`aws_split`), ``gcloud`` (:func:`gcloud_split`), ``az``
(:func:`az_split`) and ``kubectl`` (:func:`kube_parse`, :func:`kube_resources`).
"""

from __future__ import annotations

import fnmatch
import itertools
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ringfence.analyze.command import Command
from ringfence.analyze.context import Context

_NO_VALUES: frozenset[str] = frozenset()


def words(text: str) -> frozenset[str]:
    """A set of whitespace-separated words (keeps long option tables readable)."""
    return frozenset(text.split())


def word_tuple(text: str) -> tuple[str, ...]:
    """A tuple of whitespace-separated words (for ``str.startswith``/``endswith``)."""
    return tuple(text.split())


@dataclass(frozen=True, slots=True)
class Args:
    """Parsed words: positionals (with their index in ``cmd.args``), options, the rest."""

    positionals: tuple[str, ...]
    indexes: tuple[int, ...]
    options: dict[str, list[str | None]]
    rest: tuple[str, ...] = ()

    def has(self, *names: str) -> bool:
        """Whether any of ``names`` was given (with or without a value)."""
        return any(n in self.options for n in names)

    def value(self, *names: str) -> str | None:
        """The last value given to any of ``names`` (``None`` when absent or a bare flag)."""
        found: str | None = None
        for name in names:
            for v in self.options.get(name, ()):
                if v is not None:
                    found = v
        return found

    def values(self, *names: str) -> tuple[str, ...]:
        """Every value given to any of ``names``, in order of the names."""
        out: list[str] = []
        for name in names:
            out.extend(v for v in self.options.get(name, ()) if v is not None)
        return tuple(out)

    def flag(self, *names: str) -> bool:
        """A boolean flag: given bare or as ``=true``/``=1``, and not as ``=false``/``=0``."""
        result = False
        for name in names:
            for v in self.options.get(name, ()):
                result = v is None or v.lower() not in ("false", "0", "no", "off")
        return result

    def pos(self, k: int) -> str | None:
        return self.positionals[k] if k < len(self.positionals) else None


def parse(args: Sequence[str], takes_value: frozenset[str] = _NO_VALUES, *, clusters: bool = True) -> Args:
    """Split ``args`` into positionals and options (see the module docstring)."""
    pos: list[str] = []
    idx: list[int] = []
    opts: dict[str, list[str | None]] = {}
    rest: tuple[str, ...] = ()
    i, n = 0, len(args)
    while i < n:
        word = args[i]
        if word == "--":
            rest = tuple(args[i + 1 :])
            break
        if len(word) < 2 or word[0] != "-":
            pos.append(word)
            idx.append(i)
        elif word.startswith("--") or not clusters:
            name, eq, val = word.partition("=")
            if eq:
                opts.setdefault(name, []).append(val)
            elif name in takes_value and i + 1 < n:
                opts.setdefault(name, []).append(args[i + 1])
                i += 1
            else:
                opts.setdefault(name, []).append(None)
        else:
            i = _short_cluster(args, i, takes_value, opts)
        i += 1
    return Args(tuple(pos), tuple(idx), opts, rest)


def _short_cluster(args: Sequence[str], i: int, takes_value: frozenset[str], opts: dict[str, list[str | None]]) -> int:
    word = args[i]
    if len(word) > 2 and word[2] == "=":
        opts.setdefault(word[:2], []).append(word[3:])
        return i
    if word in takes_value:  # a single-dash word option such as -chdir or -pl
        if i + 1 < len(args):
            opts.setdefault(word, []).append(args[i + 1])
            return i + 1
        opts.setdefault(word, []).append(None)
        return i
    for j in range(1, len(word)):
        name = "-" + word[j]
        if name in takes_value:
            tail = word[j + 1 :]
            if tail:
                opts.setdefault(name, []).append(tail)
            elif i + 1 < len(args):
                opts.setdefault(name, []).append(args[i + 1])
                return i + 1
            else:
                opts.setdefault(name, []).append(None)
            return i
        opts.setdefault(name, []).append(None)
    return i


def is_dynamic(cmd: Command, parsed: Args, k: int) -> bool:
    """Whether positional ``k`` is a word whose value is unknown (``$VAR``, ``$(cmd)``)."""
    return k < len(parsed.indexes) and (parsed.indexes[k] + 1) in cmd.dynamic


MAX_CANDIDATES = 256  # names looked at per effect: bounds the cost of huge argument lists
_DEV_PREFIXES = ("dev", "local", "test", "sandbox", "minikube", "kind", "docker", "preview", "127")


def environment(ctx: Context, candidates: Iterable[tuple[str, str | None]]) -> str | None:
    """The environment named by the first candidate ``(domain, name)`` that maps to one.

    A candidate "maps" when it yields something other than the action's fallback
    environment; when none does, the fallback is the answer. Because "development"
    relaxes policy, a name the built-in patterns call development must also have a
    word that says so (``latest`` contains ``test`` but is not a test environment);
    names the configuration maps are taken as configured.
    """
    fallback = ctx.environment
    for domain, name in itertools.islice(candidates, MAX_CANDIDATES):
        if name:
            env = ctx.environment_for(domain, name)
            if env == "development" and not _says_development(ctx, domain, name):
                continue
            if env != fallback:
                return env
    return fallback


def _says_development(ctx: Context, domain: str, name: str) -> bool:
    lowered = name.lower()
    if any(fnmatch.fnmatchcase(lowered, pat.lower()) for pat, _ in ctx.config.environments.get(domain, ())):
        return True
    return any(word.startswith(_DEV_PREFIXES) for word in tokens(name))


def path_parts(path: str) -> list[str]:
    """The components of ``path`` from the last to the first (``envs/prod`` → prod, envs)."""
    parts = [p for p in path.split("/") if p and p not in (".", "..")]
    parts.reverse()
    return parts


def stem(path: str) -> str:
    """``envs/prod.tfvars`` → ``prod``; ``fly.staging.toml`` → ``fly.staging``."""
    base = posixpath.basename(path.rstrip("/"))
    dot = base.rfind(".")
    return base[:dot] if dot > 0 else base


def cwd_parts(cmd: Command, ctx: Context) -> list[str]:
    """Components of the command's cwd below the workspace root, last first."""
    cwd = cmd.cwd or ctx.cwd
    root = ctx.workspace
    if not root or not ctx.inside_workspace(cwd) or cwd == root:
        return []
    return path_parts(cwd[len(root.rstrip("/")) + 1 :])


def tokens(name: str) -> list[str]:
    """Split a script, task or workflow name into lower-case words (``deploy:prod`` → deploy, prod)."""
    out: list[str] = []
    word: list[str] = []
    for ch in name.lower():
        if ch.isalnum():
            word.append(ch)
        elif word:
            out.append("".join(word))
            word = []
    if word:
        out.append("".join(word))
    return out


# -- cloud CLIs: aws, gcloud, az ------------------------------------------------------------
# Their parsers live here because the cloud, deploy and credentials classifiers all read them.

_AWS_GLOBAL_VALUE = words(
    """
    --profile --region --output --endpoint-url --query --cli-input-json --cli-input-yaml --color --ca-bundle
    --cli-read-timeout --cli-connect-timeout --cli-binary-format --page-size --max-items --starting-token
    """
)
_AWS_S3_VALUE = _AWS_GLOBAL_VALUE | words(
    """
    --include --exclude --acl --sse --sse-c --sse-c-key --sse-kms-key-id --storage-class --grants
    --website-redirect --content-type --cache-control --content-disposition --content-encoding
    --content-language --expires --metadata --metadata-directive --expected-size --request-payer
    --source-region --sse-c-copy-source --sse-c-copy-source-key --checksum-mode --checksum-algorithm
    --copy-props
    """
)

_AWS_TARGET_SUFFIXES = word_tuple(
    """
    -name -names -id -ids -identifier -arn -arns -url
    """
)
_AWS_TARGET_NAMES = frozenset({"--bucket", "--cluster", "--service", "--key", "--queue-url", "--function-name"})


def aws_split(args: Sequence[str]) -> tuple[str | None, str | None, dict[str, list[str]], list[str]]:
    """``aws [globals] <service> <operation> [options]`` → service, operation, options, positionals.

    Before the operation only global options take a value; for ``s3`` high-level
    commands a known set does; for API operations an option takes every following word
    up to the next option (``--instance-ids i-1 i-2``).
    """
    words: list[str] = []
    opts: dict[str, list[str]] = {}
    i, n = 0, len(args)
    while i < n:
        word = args[i]
        if word.startswith("--") and len(word) > 2:
            name, eq, val = word.partition("=")
            vals = opts.setdefault(name, [])
            if eq:
                vals.append(val)
            elif len(words) < 2 or (words[0] == "s3"):
                table = _AWS_S3_VALUE if words and words[0] == "s3" else _AWS_GLOBAL_VALUE
                if name in table and i + 1 < n:
                    vals.append(args[i + 1])
                    i += 1
            else:
                while i + 1 < n and not args[i + 1].startswith("--"):
                    vals.append(args[i + 1])
                    i += 1
        else:
            words.append(word)
        i += 1
    service = words[0] if words else None
    op = words[1] if len(words) > 1 else None
    return service, op, opts, words[2:]


def aws_targets(opts: dict[str, list[str]]) -> tuple[str, ...]:
    out: list[str] = []
    for name, vals in opts.items():
        if name in _AWS_TARGET_NAMES or (name.endswith(_AWS_TARGET_SUFFIXES) and name not in _AWS_GLOBAL_VALUE):
            out.extend(vals)
    return tuple(out)


def aws_environment(cmd: Command, ctx: Context, opts: dict[str, list[str]], names: Sequence[str]) -> str | None:
    """The environment of an aws call: the profile first, then resource names."""
    profile = opts.get("--profile", [])
    cands: list[tuple[str, str | None]] = [("aws_profile", v) for v in profile]
    cands += [
        ("aws_profile", cmd.env.get("AWS_PROFILE")),
        ("aws_profile", cmd.env.get("AWS_DEFAULT_PROFILE")),
    ]
    cands += [("resource", bucket_of(n)) for n in names]
    return environment(ctx, cands)


def bucket_of(url: str) -> str:
    for scheme in ("s3://", "gs://"):
        if url.startswith(scheme):
            return url[len(scheme) :].split("/", 1)[0]
    return url


_GCLOUD_BOOL = words(
    """
    --quiet -q --async --force --recursive -r -R --all --all-versions -a --dry-run --continue-on-error
    --no-user-output-enabled --log-http --verbose --delete-unmatched-destination-objects
    --allow-unauthenticated --no-allow-unauthenticated --help -h --promote --stop-previous-version
    --no-promote --enable-stackdriver --skip-final-backup --include-managed-folders
    """
)

_TRACKS = frozenset({"alpha", "beta", "preview"})


def gcloud_split(args: Sequence[str]) -> tuple[list[str], dict[str, list[str | None]]]:
    """``gcloud`` words (release track removed) and options."""
    words: list[str] = []
    opts: dict[str, list[str | None]] = {}
    i, n = 0, len(args)
    while i < n:
        word = args[i]
        if word.startswith("-") and len(word) > 1:
            name, eq, val = word.partition("=")
            if eq:
                opts.setdefault(name, []).append(val)
            elif (
                name not in _GCLOUD_BOOL
                and not name.startswith("--no-")
                and i + 1 < n
                and not args[i + 1].startswith("-")
            ):
                opts.setdefault(name, []).append(args[i + 1])
                i += 1
            else:
                opts.setdefault(name, []).append(None)
        else:
            words.append(word)
        i += 1
    while words and words[0] in _TRACKS:
        words.pop(0)
    return words, opts


def gcloud_environment(
    cmd: Command, ctx: Context, opts: dict[str, list[str | None]], names: Sequence[str]
) -> str | None:
    cands: list[tuple[str, str | None]] = [("gcloud_project", v) for v in opts.get("--project", [])]
    cands += [
        ("gcloud_project", cmd.env.get("CLOUDSDK_CORE_PROJECT")),
        ("gcloud_project", cmd.env.get("GOOGLE_CLOUD_PROJECT")),
    ]
    cands += [("resource", bucket_of(n)) for n in names]
    return environment(ctx, cands)


_AZ_BOOL = words(
    """
    --yes -y --no-wait --force --debug --verbose --only-show-errors --help -h --force-deletion --recursive
    --dryrun --dry-run --no-prompt --delete-snapshots
    """
)


def az_split(args: Sequence[str]) -> tuple[list[str], dict[str, list[str | None]]]:
    """The command path (leading words) and options of an ``az`` call."""
    path: list[str] = []
    opts: dict[str, list[str | None]] = {}
    i, n = 0, len(args)
    seen_opt = False
    while i < n:
        word = args[i]
        if word.startswith("-") and len(word) > 1:
            seen_opt = True
            name, eq, val = word.partition("=")
            if eq:
                opts.setdefault(name, []).append(val)
            elif name not in _AZ_BOOL and i + 1 < n and not args[i + 1].startswith("-"):
                opts.setdefault(name, []).append(args[i + 1])
                i += 1
            else:
                opts.setdefault(name, []).append(None)
        elif not seen_opt:
            path.append(word)
        i += 1
    return path, opts


def az_environment(cmd: Command, ctx: Context, opts: dict[str, list[str | None]]) -> str | None:
    cands: list[tuple[str, str | None]] = [("azure_subscription", v) for v in opts.get("--subscription", [])]
    cands += [("azure_subscription", cmd.env.get("AZURE_SUBSCRIPTION_ID"))]
    for key in ("--resource-group", "-g", "--name", "-n", "--vault-name"):
        cands += [("resource", v) for v in opts.get(key, [])]
    return environment(ctx, cands)


# -- kubernetes: kubectl / oc / kubecolor ----------------------------------------------------

KUBE_VALUE = words(
    """
    -n --namespace --context --cluster --user --kubeconfig -s --server --token --as --as-group --as-uid
    --request-timeout --certificate-authority --client-certificate --client-key --tls-server-name -v --v
    --vmodule --cache-dir --password --username --profile -f --filename -k --kustomize -l --selector
    -o --output -c --container --field-selector --replicas --image --grace-period --timeout --cascade -p
    --patch --patch-file --field-manager --prune-allowlist --prune-whitelist --type --from-literal
    --from-file --from-env-file --role --clusterrole --serviceaccount --group --verb --resource
    --resource-name --docker-server --docker-username --docker-password --docker-email --cert --key
    --duration --audience --bound-object-kind --bound-object-name --bound-object-uid --revision
    --to-revision --current-replicas --resource-version --chunk-size --template --sort-by -L
    --label-columns --max-unavailable --pod-selector --skip-wait-for-delete-timeout --subresource --for
    --overrides --env --limits --requests --labels --restart --name --port --protocol --target-port
    --external-ip --load-balancer-ip --session-affinity --cluster-ip --schedule --from --min --max
    --cpu-percent --image-pull-policy --target --copy-to --aggregation-rule --non-resource-url
    --delete-local-data --pod-running-timeout --raw --validate
    """
)

_KUBE_CREDENTIAL_TYPES = words(
    """
    secret secrets role roles clusterrole clusterroles rolebinding rolebindings clusterrolebinding
    clusterrolebindings serviceaccount serviceaccounts sa csr certificatesigningrequest
    certificatesigningrequests
    """
)


def kube_parse(args: Sequence[str]) -> Args:
    """kubectl-style arguments (also oc, kubecolor)."""
    return parse(args, KUBE_VALUE)


def kube_resources(items: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``pod a b`` / ``pod/a deploy/b`` / ``pods,svc`` → (resource types, names)."""
    if not items:
        return (), ()
    if "/" in items[0]:
        types: list[str] = []
        names: list[str] = []
        for item in items:
            if "/" not in item:
                continue  # an argument such as ``api=img:2``
            kind, _, name = item.partition("/")
            types.append(kind.lower())
            if name:
                names.append(name)
        return tuple(dict.fromkeys(types)), tuple(names)
    return tuple(t.lower() for t in items[0].split(",") if t), tuple(items[1:])


def kube_credential_type(resource: str) -> bool:
    """Secrets, RBAC roles and bindings, service accounts, certificate requests."""
    return resource.split(".", 1)[0].lower() in _KUBE_CREDENTIAL_TYPES


def kube_environment(cmd: Command, ctx: Context, parsed: Args) -> str | None:
    """The context (flag, kubeconfig name) first, then the namespace."""
    cands: list[tuple[str, str | None]] = [("kube_context", v) for v in parsed.values("--context", "--cluster")]
    cands += [("kube_context", stem(v)) for v in parsed.values("--kubeconfig")]
    kubeconfig = cmd.env.get("KUBECONFIG")
    if kubeconfig:
        cands += [("kube_context", stem(kubeconfig.split(":", 1)[0]))]
    cands += [("kube_namespace", v) for v in parsed.values("-n", "--namespace")]
    return environment(ctx, cands)


def kube_dry_run(parsed: Args) -> bool:
    """``--dry-run`` / ``--dry-run=client|server`` (but not ``--dry-run=none``)."""
    if not parsed.has("--dry-run"):
        return False
    value = parsed.options["--dry-run"][-1]
    return value is None or value.lower() not in ("none", "false")
