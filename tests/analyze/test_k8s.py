"""The k8s classifier: kubectl/oc, helm, skaffold and container engines, and the k8s pack."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from ringfence.analyze.context import AnalysisConfig, Context
from ringfence.model import Outcome, RiskTier
from ringfence.policy.evaluate import evaluate
from tests.analyze.infra_helpers import CTX, POLICY, WS, check, decide, one, run

# -- kubectl ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "attrs"),
    [
        ("kubectl delete pod web-1 web-2", {"resource": "pod", "names": ("web-1", "web-2"), "all": False}),
        ("kubectl delete deployment/api svc/api", {"resource": "deployment,svc", "names": ("api", "api")}),
        ("kubectl delete pods,services -l app=web", {"resource": "pods,services", "selector": "app=web"}),
        (
            "kubectl delete -f manifests/",
            {"resource": None, "files": ("manifests/",), "targets": ("manifests/",)},
        ),
        ("kubectl delete -k overlays/dev", {"files": ("overlays/dev",)}),
        ("kubectl delete all --all -n web", {"resource": "all", "all": True, "namespace": "web"}),
        ("kubectl delete pods --all-namespaces --all", {"all": True}),
        ("kubectl delete ns staging", {"namespace_delete": True, "environment": "staging"}),
        ("kubectl delete namespace production", {"environment": "production"}),
        ("kubectl delete pod x --force --grace-period=0", {"force": True}),
        ("kubectl delete pod x --grace-period 0", {"force": True}),
        ("kubecolor delete pod x", {"tool": "kubecolor"}),
        ("oc delete dc/web", {"tool": "oc", "resource": "dc"}),
        ("oc delete project legacy", {"tool": "oc", "namespace_delete": True, "targets": ("legacy",)}),
    ],
)
def test_kubectl_delete(line: str, attrs: dict[str, Any]) -> None:
    check(one(line, "infra.destroy"), **attrs)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("kubectl --context prod-cluster delete pod x", "production"),
        ("kubectl delete pod x --context=minikube", "development"),
        ("kubectl delete pod x --context kind-local", "development"),
        ("kubectl delete pod x --context docker-desktop", "development"),
        ("kubectl delete pod x -n prod", "production"),
        ("kubectl delete pod x --namespace=staging", "staging"),
        ("kubectl delete pod x -nprod", "production"),
        ("kubectl --context minikube delete pod x -n prod", "development"),
        ("kubectl --kubeconfig ~/.kube/prod.yaml delete pod x", "production"),
        ("kubectl delete pod x", None),
        ("kubectl delete pod x -n kube-system", None),
    ],
)
def test_kubectl_environment(line: str, expected: str | None) -> None:
    check(one(line, "infra.destroy"), environment=expected)


def test_kubeconfig_variable_names_the_environment() -> None:
    eff = one("kubectl delete pod x", "infra.destroy", env={"KUBECONFIG": "/home/dev/.kube/staging-eks"})
    check(eff, environment="staging")


def test_configured_context_names() -> None:
    config = AnalysisConfig(environments={"kube_context": (("gke_acme_us-east1_main", "production"),)})
    ctx = Context(cwd=WS, home="/home/dev", workspace=WS, config=config)
    check(
        one("kubectl --context gke_acme_us-east1_main delete pod x", "infra.destroy", ctx),
        environment="production",
    )


def test_manifest_paths_only_upgrade_to_production() -> None:
    check(one("kubectl apply -k overlays/prod", "infra.apply"), environment="production")
    check(one("kubectl apply -f k8s/dev/app.yaml", "infra.apply"), environment=None)
    check(one("kubectl --context minikube apply -f k8s/prod/app.yaml", "infra.apply"), environment="development")


@pytest.mark.parametrize(
    ("line", "kind", "attrs"),
    [
        ("kubectl scale deploy api --replicas=0", "infra.destroy", {"scale_to_zero": True, "replicas": 0}),
        ("kubectl scale statefulset/db --replicas 0 -n prod", "infra.destroy", {"environment": "production"}),
        ("kubectl scale deploy api --replicas=3", "infra.apply", {"scale_to_zero": False, "replicas": 3}),
        ("kubectl apply -f deploy.yaml", "infra.apply", {"operation": "apply", "files": ("deploy.yaml",)}),
        ("kubectl apply --server-side --force-conflicts -f x.yaml", "infra.apply", {}),
        ("kubectl apply -f x.yaml --dry-run=none", "infra.apply", {}),
        ("kubectl create -f job.yaml", "infra.apply", {"operation": "create"}),
        ("kubectl create namespace foo", "infra.apply", {"resource": "namespace", "targets": ("foo",)}),
        ("kubectl create deployment web --image=nginx", "infra.apply", {"resource": "deployment"}),
        ("kubectl replace --force -f x.yaml", "infra.apply", {"operation": "replace", "force": True}),
        (
            "kubectl patch deployment api -p '{\"spec\":{}}'",
            "infra.apply",
            {"operation": "patch", "targets": ("api",)},
        ),
        ("kubectl edit deployment api", "infra.apply", {"operation": "edit"}),
        (
            "kubectl set image deployment/api api=img:2",
            "infra.apply",
            {"operation": "set image", "resource": "deployment", "targets": ("api",)},
        ),
        ("kubectl set env deployment/api X=1", "infra.apply", {"operation": "set env"}),
        ("kubectl rollout restart deployment/api", "infra.apply", {"operation": "rollout restart"}),
        (
            "kubectl rollout undo deployment/api --to-revision=2",
            "infra.apply",
            {"operation": "rollout undo", "rollback": True},
        ),
        (
            "kubectl drain node-1 --ignore-daemonsets --delete-emptydir-data",
            "infra.apply",
            {"operation": "drain", "resource": "node", "targets": ("node-1",)},
        ),
        ("kubectl cordon node-1", "infra.apply", {"operation": "cordon"}),
        ("kubectl uncordon node-1", "infra.apply", {"operation": "uncordon"}),
        ("kubectl taint nodes node-1 key=v:NoSchedule", "infra.apply", {"operation": "taint"}),
        ("kubectl label pods web app=v2 --overwrite", "infra.apply", {"operation": "label"}),
        ("kubectl annotate deploy web a=b", "infra.apply", {"operation": "annotate"}),
        ("kubectl run debug --image=busybox --rm -it -- sh", "infra.apply", {"operation": "run"}),
        ("kubectl expose deployment web --port=80", "infra.apply", {"operation": "expose"}),
        ("kubectl autoscale deployment web --min=1 --max=3", "infra.apply", {"operation": "autoscale"}),
        ("oc new-app nginx", "infra.apply", {"tool": "oc", "operation": "new-app"}),
        ("oc adm drain node-1", "infra.apply", {"operation": "drain"}),
    ],
)
def test_kubectl_changes(line: str, kind: str, attrs: dict[str, Any]) -> None:
    check(one(line, kind), **attrs)


def test_apply_prune_also_destroys() -> None:
    effects = run("kubectl apply -f manifests/ --prune -l app=web")
    assert [e.kind for e in effects] == ["infra.apply", "infra.destroy"]
    check(effects[0], prune=True)
    check(effects[1], operation="apply --prune", selector="app=web")


@pytest.mark.parametrize(
    "line",
    [
        "kubectl get pods",
        "kubectl get pods -A -o wide",
        "kubectl get secret db -o yaml -n prod",
        "kubectl describe pod web",
        "kubectl logs -f deploy/web --tail=100",
        "kubectl top pods",
        "kubectl explain deployment.spec",
        "kubectl diff -f x.yaml",
        "kubectl port-forward svc/web 8080:80",
        "kubectl config view",
        "kubectl config use-context prod",
        "kubectl config set-context --current --namespace=dev",
        "kubectl config get-contexts",
        "kubectl exec -it web -- sh",
        "kubectl cp web:/tmp/x ./x",
        "kubectl rollout status deployment/web",
        "kubectl rollout history deployment/web",
        "kubectl apply -f x.yaml --dry-run=client",
        "kubectl apply -f x.yaml --dry-run=server",
        "kubectl delete pod x --dry-run=client",
        "kubectl create deployment x --image=nginx --dry-run=client -o yaml",
        "kubectl apply view-last-applied deploy/web",
        "kubectl api-resources",
        "kubectl version --client",
        "kubectl cluster-info",
        "kubectl auth can-i delete pods",
        "kubectl wait --for=condition=ready pod -l app=web",
        "kubectl kustomize overlays/prod",
        "kubectl events",
        "kubectl delete",
        "kubectl",
        "oc project myproj",
        "oc login https://api.example.com",
        "oc get pods",
    ],
)
def test_kubectl_ordinary(line: str) -> None:
    assert run(line) == []


def test_secrets_and_rbac_are_credential_changes_only() -> None:
    assert [e.kind for e in run("kubectl delete secret db -n prod")] == ["credential.change"]
    assert [e.kind for e in run("kubectl create clusterrolebinding x --clusterrole=view --user=u")] == [
        "credential.change"
    ]
    kinds = sorted(e.kind for e in run("kubectl delete secret,deployment web"))
    assert kinds == ["credential.change", "infra.destroy"]
    check(one("kubectl delete secret,deployment web", "infra.destroy"), resource="deployment")


def test_dynamic_verb_is_gated() -> None:
    eff = one("kubectl $VERB pod web", "infra.apply", dynamic=frozenset({1}))
    check(eff, dynamic=True)


# -- helm / skaffold -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind", "attrs"),
    [
        (
            "helm uninstall api -n prod",
            "infra.destroy",
            {"tool": "helm", "operation": "uninstall", "targets": ("api",), "environment": "production"},
        ),
        ("helm delete api web", "infra.destroy", {"targets": ("api", "web")}),
        ("helm uninstall api --keep-history", "infra.destroy", {}),
        (
            "helm upgrade --install api ./chart -n staging",
            "infra.apply",
            {
                "operation": "upgrade",
                "release": "api",
                "chart": "./chart",
                "install": True,
                "environment": "staging",
            },
        ),
        ("helm upgrade api ./chart", "infra.apply", {"install": False}),
        (
            "helm install api bitnami/nginx --kube-context prod-eks",
            "infra.apply",
            {"operation": "install", "environment": "production", "context": "prod-eks"},
        ),
        ("helm install ./chart --generate-name", "infra.apply", {"release": None, "chart": "./chart"}),
        ("helm upgrade api ./chart -f values-production.yaml", "infra.apply", {"environment": "production"}),
        ("helm rollback api 3", "infra.apply", {"operation": "rollback", "rollback": True, "revision": "3"}),
        (
            "skaffold run --kube-context prod",
            "infra.apply",
            {"tool": "skaffold", "environment": "production"},
        ),
        ("skaffold delete", "infra.destroy", {"tool": "skaffold"}),
    ],
)
def test_helm_skaffold(line: str, kind: str, attrs: dict[str, Any]) -> None:
    check(one(line, kind), **attrs)


def test_helm_environment_variables() -> None:
    check(
        one("helm uninstall api", "infra.destroy", env={"HELM_KUBECONTEXT": "minikube"}),
        environment="development",
    )
    check(
        one("helm uninstall api", "infra.destroy", env={"HELM_NAMESPACE": "production"}),
        environment="production",
    )


@pytest.mark.parametrize(
    "line",
    [
        "helm list -A",
        "helm ls",
        "helm status api",
        "helm get values api",
        "helm history api",
        "helm template api ./chart",
        "helm lint ./chart",
        "helm show values bitnami/nginx",
        "helm search repo nginx",
        "helm repo add bitnami https://charts.bitnami.com/bitnami",
        "helm repo update",
        "helm dependency update ./chart",
        "helm package ./chart",
        "helm pull bitnami/nginx",
        "helm diff upgrade api ./chart",
        "helm install api ./chart --dry-run",
        "helm upgrade api ./chart --dry-run=server",
        "helm plugin uninstall diff",
        "helm version",
        "skaffold dev",
        "skaffold build",
        "skaffold render",
    ],
)
def test_helm_ordinary(line: str) -> None:
    assert run(line) == []


# -- docker / podman / compose ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "attrs"),
    [
        (
            "docker system prune",
            {"tool": "docker", "operation": "system prune", "all": False, "volumes": False},
        ),
        ("docker system prune -af --volumes", {"all": True, "volumes": True, "force": True}),
        ("docker system prune --all --force", {"all": True}),
        ("docker volume rm data db", {"operation": "volume rm", "targets": ("data", "db"), "volumes": True}),
        ("docker volume remove data", {"operation": "volume remove"}),
        ("docker volume prune -f", {"operation": "volume prune"}),
        ("docker volume prune --all --filter label=x", {"all": True}),
        ("docker compose down -v", {"operation": "compose down -v", "volumes": True}),
        ("docker compose -f prod.yml down --volumes --rmi all", {"all": True}),
        ("docker-compose down -v", {"tool": "docker-compose"}),
        ("podman-compose down -v", {"tool": "podman-compose"}),
        ("podman system reset -f", {"tool": "podman", "operation": "system reset"}),
        ("podman volume rm data", {"tool": "podman"}),
        ("nerdctl system prune -a", {"tool": "nerdctl"}),
        ("docker stack rm web", {"operation": "stack rm", "targets": ("web",)}),
        ("docker service rm api", {"operation": "service rm"}),
        ("docker -H ssh://prod-host volume rm data", {"environment": "production"}),
        ("docker --context prod system prune -af", {"environment": "production"}),
    ],
)
def test_container_destroys(line: str, attrs: dict[str, Any]) -> None:
    check(one(line, "infra.destroy"), **attrs)


@pytest.mark.parametrize(
    "line",
    [
        "docker build -t app .",
        "docker run --rm -it -v $PWD:/app app",
        "docker ps -a",
        "docker logs -f web",
        "docker exec -it web sh",
        "docker compose up -d",
        "docker compose up --build",
        "docker compose down",
        "docker compose down --rmi local",
        "docker compose logs -f",
        "docker-compose up -d",
        "docker rm -f web",
        "docker rmi app:old",
        "docker image prune -a -f",
        "docker container prune -f",
        "docker builder prune -af",
        "docker network prune -f",
        "docker volume ls",
        "docker volume create data",
        "docker volume inspect data",
        "docker pull postgres:16",
        "docker tag app ghcr.io/o/app:1",
        "docker login ghcr.io",
        "docker system df",
        "docker stop web",
        "podman build -t app .",
        "podman run --rm app",
    ],
)
def test_container_ordinary(line: str) -> None:
    assert run(line) == []


# -- the k8s pack ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "outcome", "tier", "rule"),
    [
        ("kubectl delete pod web -n prod", Outcome.DENY, RiskTier.CRITICAL, "k8s.destroy-production"),
        (
            "kubectl --context prod-cluster delete deploy api",
            Outcome.DENY,
            RiskTier.CRITICAL,
            "k8s.destroy-production",
        ),
        ("kubectl delete ns production", Outcome.DENY, RiskTier.CRITICAL, "k8s.destroy-production"),
        (
            "kubectl scale deploy api --replicas=0 -n prod",
            Outcome.DENY,
            RiskTier.CRITICAL,
            "k8s.destroy-production",
        ),
        ("helm uninstall api --kube-context prod", Outcome.DENY, RiskTier.CRITICAL, "k8s.destroy-production"),
        ("kubectl delete pod web", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "k8s.destroy"),
        ("kubectl delete pod web -n staging", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "k8s.destroy"),
        ("kubectl apply -f deploy.yaml", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "k8s.apply"),
        ("kubectl apply -f deploy.yaml -n prod", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "k8s.apply"),
        ("kubectl replace --force -f x.yaml", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "k8s.apply"),
        ("kubectl patch deploy api -p {}", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "k8s.apply"),
        ("kubectl drain node-1", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "k8s.apply"),
        (
            "kubectl apply -f x.yaml --prune -l a=b -n prod",
            Outcome.DENY,
            RiskTier.CRITICAL,
            "k8s.destroy-production",
        ),
        ("helm upgrade --install api ./chart", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "k8s.apply"),
        ("helm rollback api 2 -n prod", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "k8s.apply"),
        (
            "docker system prune -af --volumes",
            Outcome.REQUIRE_APPROVAL,
            RiskTier.MEDIUM,
            "k8s.container-data-destroy",
        ),
        ("docker volume rm pgdata", Outcome.REQUIRE_APPROVAL, RiskTier.MEDIUM, "k8s.container-data-destroy"),
        ("docker compose down -v", Outcome.REQUIRE_APPROVAL, RiskTier.MEDIUM, "k8s.container-data-destroy"),
        (
            "kubectl create secret generic s --from-literal=a=b",
            Outcome.REQUIRE_APPROVAL,
            RiskTier.HIGH,
            "credentials.change",
        ),
    ],
)
def test_k8s_pack(line: str, outcome: Outcome, tier: RiskTier, rule: str) -> None:
    got, got_tier, rules = decide(line)
    assert (got, got_tier) == (outcome, tier), (line, rules)
    assert rule in rules


def test_container_prune_asks_in_the_runtime() -> None:
    verdict = evaluate(POLICY, run("docker system prune -a"))
    assert verdict.approval is not None and verdict.approval.runtime_prompt


@pytest.mark.parametrize(
    "line",
    [
        "kubectl --context minikube delete pod x",
        "kubectl --context kind-dev apply -f deploy.yaml",
        "kubectl --context docker-desktop delete deploy web",
        "kubectl delete pod x -n dev",
        "helm upgrade --install api ./chart --kube-context minikube",
        "kubectl get pods",
        "helm list",
        "docker build -t app .",
        "docker run app",
        "docker compose up",
    ],
)
def test_k8s_pack_allows_development_clusters_and_ordinary_work(line: str) -> None:
    assert decide(line)[0] is Outcome.ALLOW, decide(line)


def test_docker_rules_do_not_leak_into_the_cloud_rules() -> None:
    rules = decide("docker volume rm data")[2]
    assert not any(r.startswith("cloud.") for r in rules)
    rules = decide("kubectl delete pod x")[2]
    assert not any(r.startswith("cloud.") for r in rules)


# -- end to end through the shell layer ------------------------------------------------------------------

_HAVE_ALL = all(
    importlib.util.find_spec(f"ringfence.analyze.{name}") is not None
    for name in ("shell", "git", "fs", "db", "secrets", "gate")
)


@pytest.mark.skipif(not _HAVE_ALL, reason="the shell layer or another domain is not in the tree yet")
@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("sudo kubectl delete ns prod", "infra.destroy"),
        ('bash -c "helm uninstall api -n prod"', "infra.destroy"),
        ("k=kubectl; $k delete pod web", "infra.destroy"),
        ("docker system prune -af && echo done", "infra.destroy"),
    ],
)
def test_through_the_shell(source: str, kind: str) -> None:
    from ringfence.analyze import analyze_shell

    assert kind in {e.kind for e in analyze_shell(source, CTX)}
