"""The deploy classifier: deploys and publishes with their environments, and the deploy pack."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from ringfence.analyze.context import AnalysisConfig, Context
from ringfence.model import Outcome, RiskTier
from ringfence.policy.evaluate import evaluate
from tests.analyze.infra_helpers import CTX, GATED, POLICY, WS, check, decide, one, run

# -- deploys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "attrs"),
    [
        ("vercel --prod", {"tool": "vercel", "environment": "production", "production": True}),
        ("vercel deploy --prod --yes", {"environment": "production"}),
        ("vercel ./dist --prod", {"target": "./dist", "production": True}),
        ("vercel --target production", {"environment": "production"}),
        ("vercel --target=staging", {"environment": "staging"}),
        (
            "vercel promote https://app-abc.vercel.app",
            {"environment": "production", "target": "https://app-abc.vercel.app"},
        ),
        ("vercel rollback", {"environment": "production", "rollback": True}),
        ("vercel", {"environment": "development", "preview": True, "production": False}),
        ("vercel deploy", {"environment": "development", "preview": True}),
        ("netlify deploy --prod --dir=dist", {"tool": "netlify", "environment": "production"}),
        ("netlify deploy --dir=dist", {"environment": "development", "preview": True}),
        ("fly deploy -a myapp-prod", {"tool": "fly", "target": "myapp-prod", "environment": "production"}),
        ("flyctl deploy --app api-staging", {"environment": "staging"}),
        ("fly deploy -c fly.production.toml", {"environment": "production"}),
        ("fly deploy", {"target": None, "environment": None}),
        ("fly launch", {"tool": "fly"}),
        ("heroku releases:rollback v41 -a shop-production", {"rollback": True, "environment": "production"}),
        ("heroku container:release web -a shop-staging", {"environment": "staging"}),
        ("heroku pipelines:promote -a shop-staging", {"environment": "production", "promote": True}),
        ("railway up", {"tool": "railway", "environment": None}),
        ("railway up --environment production", {"environment": "production"}),
        ("railway redeploy -e staging", {"environment": "staging"}),
        (
            "serverless deploy --stage prod",
            {"tool": "serverless", "stage": "prod", "environment": "production"},
        ),
        ("sls deploy -s dev", {"environment": "development"}),
        ("sls deploy function -f hello --stage production", {"target": "hello", "environment": "production"}),
        ("sls rollback -t 1476893957131 --stage prod", {"rollback": True}),
        ("argocd app sync shop-prod", {"tool": "argocd", "target": "shop-prod", "environment": "production"}),
        ("argocd app sync shop-dev --prune", {"environment": "development", "prune": True}),
        ("argocd app rollback shop-prod 3", {"rollback": True, "environment": "production"}),
        (
            "gh workflow run deploy.yml -f environment=production",
            {"tool": "gh", "workflow": "deploy.yml", "environment": "production"},
        ),
        ("gh workflow run deploy-prod.yml --ref main", {"environment": "production", "ref": "main"}),
        ("gh workflow run Release", {"environment": None}),
        ("gh workflow run publish.yaml -R o/r", {"repo": "o/r"}),
        ("gh workflow run cd.yml -f env=staging", {"environment": "staging"}),
        (
            "gcloud app deploy app.yaml --project shop-prod",
            {"tool": "gcloud", "service": "app", "environment": "production"},
        ),
        (
            "gcloud run deploy api --image gcr.io/x/api --region us-central1",
            {"service": "run", "target": "api"},
        ),
        ("gcloud functions deploy fn --runtime python312 --project dev-123", {"environment": "development"}),
        ("gcloud beta run deploy api-staging --source .", {"environment": "staging"}),
        (
            "gcloud deploy releases promote --release=r1 --delivery-pipeline=p --to-target=prod",
            {"environment": "production"},
        ),
        ("gcloud app deploy --no-promote", {"promote": False}),
        (
            "az webapp deploy -g rg -n shop-prod --src-path app.zip",
            {"tool": "az", "environment": "production"},
        ),
        ("az webapp up -n shop-dev", {"environment": "development"}),
        ("az webapp deployment slot swap -g rg -n shop --slot staging", {"environment": "production"}),
        ("az functionapp deployment source config-zip -g rg -n fn --src f.zip", {}),
        ("kamal deploy -d production", {"tool": "kamal", "environment": "production"}),
        ("kamal rollback abc123 -d staging", {"rollback": True, "environment": "staging"}),
        ("cap production deploy", {"tool": "capistrano", "environment": "production", "task": "deploy"}),
        ("cap staging deploy:rollback", {"environment": "staging", "rollback": True}),
        ("eb deploy shop-prod", {"tool": "eb", "environment": "production"}),
        ("eb swap shop-blue", {"swap": True}),
        ("firebase deploy --only hosting -P prod", {"tool": "firebase", "environment": "production"}),
        ("firebase deploy --project my-app-dev", {"environment": "development"}),
        ("firebase hosting:channel:deploy pr-12", {"environment": "development", "preview": True}),
        ("wrangler deploy --env production", {"tool": "wrangler", "environment": "production"}),
        ("wrangler deploy", {"environment": None}),
        ("wrangler publish -e staging", {"environment": "staging"}),
        ("wrangler versions deploy", {}),
        ("wrangler pages deploy dist --branch feature-x", {"preview": True, "environment": "development"}),
        ("wrangler pages deploy dist --branch main", {"environment": "production"}),
        (
            "ansible-playbook -i inventories/production/hosts site.yml",
            {"tool": "ansible-playbook", "environment": "production"},
        ),
        ("ansible-playbook -i staging.ini deploy.yml", {"environment": "staging"}),
        ("ansible-playbook site.yml -e env=dev", {"environment": "development"}),
        ("ansible-playbook site.yml --limit prod-web", {"environment": "production"}),
        ("npm run deploy", {"tool": "npm", "script": "deploy", "environment": None}),
        ("npm run deploy:prod", {"environment": "production"}),
        ("pnpm run deploy:staging", {"environment": "staging"}),
        ("pnpm deploy:prod", {"tool": "pnpm", "environment": "production"}),
        ("yarn deploy:dev", {"tool": "yarn", "environment": "development"}),
        ("yarn run ship", {"script": "ship"}),
        ("bun run deploy", {"tool": "bun"}),
        ("make deploy", {"tool": "make", "environment": None}),
        ("make deploy ENV=production", {"environment": "production"}),
        ("make deploy-staging", {"environment": "staging"}),
        ("just deploy prod", {"tool": "just", "environment": "production"}),
        ("task deploy:dev", {"tool": "task", "environment": "development"}),
        ("rake deploy", {"tool": "rake"}),
    ],
)
def test_deploys(line: str, attrs: dict[str, Any]) -> None:
    eff = one(line, "deploy")
    check(eff, **attrs)
    assert eff.attrs["production"] is (eff.attrs["environment"] == "production")


def test_app_names_from_configuration() -> None:
    config = AnalysisConfig(environments={"app": (("shop", "production"), ("shop-*", "development"))})
    ctx = Context(cwd=WS, home="/home/dev", workspace=WS, config=config)
    check(one("fly deploy -a shop", "deploy", ctx), environment="production")
    check(one("fly deploy -a shop-pr-12", "deploy", ctx), environment="development")


def test_action_environment_is_the_fallback() -> None:
    ctx = Context(cwd=WS, home="/home/dev", workspace=WS, environment="production")
    check(one("fly deploy", "deploy", ctx), environment="production", production=True)
    check(one("railway up -e dev", "deploy", ctx), environment="development")


def test_words_that_merely_contain_test_are_not_development() -> None:
    check(one("fly deploy -a latest-api", "deploy"), environment=None)
    check(one("gh workflow run deploy-latest.yml", "deploy"), environment=None)
    assert decide("fly deploy -a latest-api")[0] is Outcome.REQUIRE_APPROVAL
    check(one("fly deploy -a api-test", "deploy"), environment="development")


def test_fly_app_from_environment_variable() -> None:
    check(one("fly deploy", "deploy", env={"FLY_APP": "api-prod"}), environment="production")


@pytest.mark.parametrize(
    ("line", "kind", "attrs"),
    [
        ("vercel rm my-app --yes", "infra.destroy", {"tool": "vercel"}),
        ("netlify sites:delete abc", "infra.destroy", {"tool": "netlify"}),
        ("flyctl apps destroy myapp -y", "infra.destroy", {"tool": "fly", "targets": ("myapp",)}),
        ("fly machine destroy 1234 --force", "infra.destroy", {"operation": "machine destroy"}),
        ("fly volumes delete vol_1", "infra.destroy", {}),
        ("heroku apps:destroy -a shop --confirm shop", "infra.destroy", {"targets": ("shop",)}),
        (
            "heroku pg:reset DATABASE_URL -a shop-production --confirm shop-production",
            "db.destructive",
            {"tool": "heroku", "operation": "pg:reset", "environment": "production"},
        ),
        (
            "heroku pg:backups:restore b101 DATABASE_URL -a shop",
            "db.destructive",
            {"operation": "pg:backups:restore"},
        ),
        ("railway down", "infra.destroy", {"tool": "railway"}),
        ("sls remove --stage prod", "infra.destroy", {"tool": "serverless", "environment": "production"}),
        (
            "argocd app delete shop-prod --cascade",
            "infra.destroy",
            {"tool": "argocd", "environment": "production"},
        ),
        ("argocd app set shop --revision v2", "infra.apply", {"operation": "app set"}),
        ("kamal remove -d staging", "infra.destroy", {"tool": "kamal"}),
        ("eb terminate shop-dev --force", "infra.destroy", {"environment": "development"}),
        ("firebase functions:delete fn --force", "infra.destroy", {"tool": "firebase"}),
        (
            "firebase firestore:delete --all-collections -P prod",
            "db.destructive",
            {"recursive": True, "environment": "production"},
        ),
        ("wrangler delete --name api", "infra.destroy", {"tool": "wrangler"}),
        ("wrangler r2 bucket delete assets", "infra.destroy", {}),
        ("heroku container:push web -a shop", "publish", {"registry": "registry.heroku.com"}),
    ],
)
def test_platform_deletions(line: str, kind: str, attrs: dict[str, Any]) -> None:
    check(one(line, kind), **attrs)


@pytest.mark.parametrize(
    "line",
    [
        "vercel dev",
        "vercel build",
        "vercel env pull .env.local",
        "vercel link",
        "vercel login",
        "vercel ls",
        "vercel logs app.vercel.app",
        "vercel inspect app.vercel.app",
        "vercel --version",
        "vercel --help",
        "netlify dev",
        "netlify build",
        "netlify status",
        "fly status",
        "fly logs -a api",
        "fly deploy --dry-run",
        "fly launch --no-deploy",
        "fly ssh console",
        "heroku logs --tail -a shop",
        "heroku ps -a shop",
        "heroku run rails console -a shop",
        "railway logs",
        "railway status",
        "sls deploy list",
        "sls package",
        "sls invoke local -f hello",
        "serverless offline",
        "argocd app list",
        "argocd app get shop",
        "argocd app diff shop",
        "argocd app sync shop --dry-run",
        "argocd login cd.example.com",
        "gh workflow run ci.yml",
        "gh workflow run test.yml --ref feature",
        "gh workflow run lint",
        "gh workflow list",
        "gh workflow view deploy.yml",
        "gh run list --workflow deploy.yml",
        "gh run watch",
        "gh pr create --fill",
        "gh pr view 12",
        "gh pr checks",
        "gh issue list",
        "gh release list",
        "gh release view v1.0.0",
        "gh release download v1.0.0",
        "gcloud app browse",
        "gcloud run services list",
        "gcloud app logs tail",
        "az webapp list",
        "az webapp log tail -n app -g rg",
        "kamal app logs",
        "kamal details",
        "cap -T",
        "eb status",
        "eb logs",
        "firebase emulators:start",
        "firebase serve",
        "firebase login",
        "wrangler dev",
        "wrangler deploy --dry-run --outdir dist",
        "wrangler tail",
        "wrangler whoami",
        "ansible-playbook site.yml --check",
        "ansible-playbook site.yml --syntax-check",
        "ansible-playbook -i hosts site.yml --list-hosts",
        "npm run build",
        "npm run test",
        "npm run dev",
        "npm run lint -- --fix",
        "npm test",
        "npm install",
        "npm ci",
        "pnpm install",
        "pnpm build",
        "pnpm deploy --filter=api ./out",
        "pnpm dev",
        "yarn",
        "yarn install",
        "yarn build",
        "yarn test --watch",
        "bun run dev",
        "make",
        "make test",
        "make build",
        "make release",
        "make -n deploy",
        "make -C docs html",
        "just test",
        "just build deploy",
        "task build",
        "task add deploy the new site",
        "rake test",
        "rake db:migrate",
    ],
)
def test_deploy_ordinary(line: str) -> None:
    assert [e for e in run(line) if e.kind in GATED] == []


# -- publishing -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "attrs"),
    [
        (
            "docker push ghcr.io/org/app:1.2",
            {"tool": "docker", "registry": "ghcr.io", "package": "ghcr.io/org/app:1.2", "local": False},
        ),
        ("docker push org/app", {"registry": "docker.io"}),
        ("docker image push org/app:1", {"operation": "image push"}),
        ("docker manifest push org/app:1", {"operation": "manifest push"}),
        (
            "docker buildx build --push -t org/app:1 -t org/app:latest .",
            {"operation": "build --push", "targets": ("org/app:1", "org/app:latest")},
        ),
        ("docker buildx build --output type=registry -t org/app .", {"targets": ("org/app",)}),
        ("docker build --push -t ghcr.io/o/a .", {"registry": "ghcr.io"}),
        ("docker compose push", {"operation": "compose push"}),
        ("podman push quay.io/x/y:1", {"tool": "podman", "registry": "quay.io"}),
        ("buildah push quay.io/x/y", {"tool": "buildah"}),
        (
            "skopeo copy docker-archive:img.tar docker://quay.io/x/y:1",
            {"tool": "skopeo", "registry": "quay.io"},
        ),
        ("crane copy src/img:1 ghcr.io/o/img:1", {"tool": "crane"}),
        ("ko build ./cmd/app", {"tool": "ko"}),
        ("npm publish", {"tool": "npm", "operation": "publish", "registry": "npm"}),
        ("npm publish --access public --tag next", {}),
        (
            "npm publish ./pkg.tgz --registry https://npm.pkg.github.com",
            {"registry": "https://npm.pkg.github.com", "package": "./pkg.tgz"},
        ),
        ("npm unpublish my-pkg@1.0.0", {"operation": "unpublish"}),
        ("pnpm publish -r --no-git-checks", {"tool": "pnpm", "recursive": True}),
        ("yarn publish --new-version 1.2.3", {"tool": "yarn"}),
        ("yarn npm publish --access public", {"tool": "yarn"}),
        ("bun publish", {"tool": "bun"}),
        ("lerna publish from-package --yes", {"tool": "lerna"}),
        ("changeset publish", {"tool": "changeset"}),
        ("semantic-release", {"tool": "semantic-release"}),
        ("release-it --ci", {"tool": "release-it"}),
        ("npm run release", {"tool": "npm", "script": "release"}),
        ("npm run publish:all", {"script": "publish:all"}),
        ("twine upload dist/*", {"tool": "twine", "operation": "upload", "registry": "pypi"}),
        ("twine upload -r testpypi dist/*", {"registry": "testpypi"}),
        ("poetry publish --build", {"tool": "poetry"}),
        ("poetry publish -r private", {"registry": "private"}),
        ("uv publish", {"tool": "uv"}),
        (
            "uv publish --publish-url https://test.pypi.org/legacy/",
            {"registry": "https://test.pypi.org/legacy/"},
        ),
        ("flit publish", {"tool": "flit"}),
        ("hatch publish", {"tool": "hatch"}),
        ("pdm publish", {"tool": "pdm"}),
        ("cargo publish", {"tool": "cargo", "registry": "crates.io"}),
        ("cargo publish -p my-crate --allow-dirty", {"package": "my-crate"}),
        ("cargo yank --version 1.0.1 my-crate", {"operation": "yank"}),
        ("cargo release patch --execute", {"operation": "release"}),
        ("gem push my_gem-1.0.0.gem", {"tool": "gem", "registry": "rubygems.org"}),
        ("gem yank my_gem -v 1.0.0", {"operation": "yank"}),
        ("rake release", {"tool": "rake"}),
        (
            "gh release create v1.2.3 --generate-notes",
            {"tool": "gh", "operation": "release create", "targets": ("v1.2.3",), "draft": False},
        ),
        ("gh release upload v1.2.3 dist/app.tar.gz", {"operation": "release upload"}),
        ("gh release edit v1.2.3 --draft=false", {"operation": "release edit"}),
        ("goreleaser release --clean", {"tool": "goreleaser"}),
        ("goreleaser", {"tool": "goreleaser"}),
        ("mvn deploy", {"tool": "maven", "operation": "deploy"}),
        ("mvn -B clean deploy -DskipTests -pl core", {"operation": "deploy"}),
        ("mvn deploy:deploy-file -Dfile=x.jar", {"operation": "deploy:deploy-file"}),
        ("./mvnw release:perform", {"operation": "release:perform"}),
        ("mvn compile jib:build", {"operation": "jib:build"}),
        ("gradle publish", {"tool": "gradle", "operation": "publish"}),
        (
            "./gradlew :lib:publishToSonatype closeAndReleaseSonatypeStagingRepository",
            {"operation": "publishToSonatype"},
        ),
        ("./gradlew publishPlugins", {"operation": "publishPlugins"}),
        (
            "dotnet nuget push pkg.nupkg -k KEY -s https://api.nuget.org/v3/index.json",
            {"tool": "dotnet", "operation": "nuget push"},
        ),
        ("nuget push pkg.nupkg", {"tool": "nuget"}),
        (
            "helm push chart-1.0.0.tgz oci://ghcr.io/org/charts",
            {"tool": "helm", "package": "chart-1.0.0.tgz"},
        ),
        ("vsce publish", {"tool": "vsce"}),
        ("ovsx publish -p TOKEN", {"tool": "ovsx"}),
        ("deno publish", {"tool": "deno"}),
        ("jsr publish", {"tool": "jsr"}),
        ("dart pub publish --force", {"tool": "dart"}),
        ("flutter pub publish", {"tool": "flutter"}),
        ("mix hex.publish", {"tool": "mix"}),
        ("pod trunk push MyLib.podspec", {"tool": "pod"}),
        ("conan upload pkg/1.0 -r remote", {"tool": "conan"}),
        ("anaconda upload dist/pkg.tar.bz2", {"tool": "anaconda"}),
        ("snapcraft upload app.snap --release=stable", {"tool": "snapcraft"}),
    ],
)
def test_publishes(line: str, attrs: dict[str, Any]) -> None:
    check(one(line, "publish"), **attrs)


def test_local_registries_are_marked() -> None:
    check(one("docker push localhost:5000/app", "publish"), local=True)
    check(one("docker push 127.0.0.1:5001/app:dev", "publish"), local=True)
    check(one("npm publish --registry http://localhost:4873", "publish"), local=True)
    check(one("docker push registry.example.com/app", "publish"), local=False)


def test_gh_release_draft_is_marked() -> None:
    check(one("gh release create v2.0.0 --draft --notes wip", "publish"), draft=True)


@pytest.mark.parametrize(
    "line",
    [
        "npm publish --dry-run",
        "npm publish --dry-run=true",
        "pnpm publish --dry-run",
        "yarn npm publish --dry-run",
        "bun publish --dry-run",
        "cargo publish --dry-run",
        "cargo publish -n",
        "cargo package",
        "cargo build --release",
        "cargo release patch",
        "poetry publish --dry-run",
        "poetry build",
        "uv build",
        "twine check dist/*",
        "python -m build",
        "hatch build",
        "gem build my_gem.gemspec",
        "goreleaser release --snapshot --clean",
        "goreleaser release --skip=publish",
        "goreleaser build --single-target",
        "goreleaser check",
        "goreleaser --version",
        "mvn clean install",
        "mvn package -DskipTests",
        "mvn test",
        "mvn deploy -Dmaven.deploy.skip=true",
        "gradle build",
        "./gradlew test",
        "./gradlew publishToMavenLocal",
        "./gradlew build -x publish",
        "./gradlew publish --dry-run",
        "dotnet publish -c Release",
        "dotnet build",
        "dotnet pack",
        "dotnet nuget locals all --clear",
        "docker build -t org/app .",
        "docker buildx build -t org/app --load .",
        "docker pull org/app",
        "docker tag app org/app:1",
        "docker compose build",
        "helm package ./chart",
        "helm push",
        "ko build --local ./cmd/app",
        "ko build ./cmd/app --push=false",
        "deno publish --dry-run",
        "dart pub publish --dry-run",
        "mix hex.publish --dry-run",
        "semantic-release --dry-run",
        "release-it --dry-run",
        "vsce package",
        "gh release view v1",
        "rake release --dry-run",
    ],
)
def test_publish_ordinary(line: str) -> None:
    assert [e for e in run(line) if e.kind in GATED] == []


def test_ko_local_repository() -> None:
    assert run("ko build ./cmd/app", env={"KO_DOCKER_REPO": "kind.local"}) == []


# -- the deploy pack --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "outcome", "tier", "rule"),
    [
        ("vercel --prod", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "deploy.production"),
        ("fly deploy -a api-prod", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "deploy.production"),
        (
            "gh workflow run deploy.yml -f environment=production",
            Outcome.REQUIRE_APPROVAL,
            RiskTier.HIGH,
            "deploy.production",
        ),
        ("fly deploy", Outcome.REQUIRE_APPROVAL, RiskTier.MEDIUM, "deploy.unknown-environment"),
        ("railway up", Outcome.REQUIRE_APPROVAL, RiskTier.MEDIUM, "deploy.unknown-environment"),
        ("npm run deploy", Outcome.REQUIRE_APPROVAL, RiskTier.MEDIUM, "deploy.unknown-environment"),
        (
            "gh workflow run release.yml",
            Outcome.REQUIRE_APPROVAL,
            RiskTier.MEDIUM,
            "deploy.unknown-environment",
        ),
        ("vercel", Outcome.ALLOW, RiskTier.LOW, "deploy.non-production"),
        ("netlify deploy", Outcome.ALLOW, RiskTier.LOW, "deploy.non-production"),
        ("sls deploy --stage dev", Outcome.ALLOW, RiskTier.LOW, "deploy.non-production"),
        ("fly deploy -a api-staging", Outcome.ALLOW, RiskTier.LOW, "deploy.non-production"),
        ("npm publish", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "deploy.publish"),
        ("docker push ghcr.io/o/app:1", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "deploy.publish"),
        ("cargo publish", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "deploy.publish"),
        ("twine upload dist/*", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "deploy.publish"),
        ("gh release create v1.0.0", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "deploy.publish"),
        ("gem push x.gem", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "deploy.publish"),
        ("sls remove --stage prod", Outcome.DENY, RiskTier.CRITICAL, "cloud.destroy-production"),
        ("argocd app delete shop", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "cloud.destroy"),
    ],
)
def test_deploy_pack(line: str, outcome: Outcome, tier: RiskTier, rule: str) -> None:
    got, got_tier, rules = decide(line)
    assert (got, got_tier) == (outcome, tier), (line, rules)
    assert rule in rules


def test_production_deploys_wait_for_release_managers_out_of_band() -> None:
    approval = evaluate(POLICY, run("vercel --prod")).approval
    assert approval is not None
    assert approval.approvers == ("release-managers",) and not approval.runtime_prompt
    approval = evaluate(POLICY, run("fly deploy")).approval
    assert approval is not None and approval.runtime_prompt


@pytest.mark.parametrize(
    "line",
    [
        "npm publish --dry-run",
        "docker push localhost:5000/app",
        "gh release create v1 --draft",
        "gh pr create --title x",
        "gh pr view 3",
        "docker build -t app .",
        "vercel dev",
    ],
)
def test_deploy_pack_allows_ordinary_work(line: str) -> None:
    assert decide(line)[0] is Outcome.ALLOW


# -- end to end through the shell layer ------------------------------------------------------------------

_HAVE_ALL = all(
    importlib.util.find_spec(f"ringfence.analyze.{name}") is not None
    for name in ("shell", "git", "fs", "db", "secrets", "gate")
)


@pytest.mark.skipif(not _HAVE_ALL, reason="the shell layer or another domain is not in the tree yet")
@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("npx vercel --prod", "deploy"),
        ("bunx wrangler deploy --env production", "deploy"),
        ("cd web && npm publish", "publish"),
        ("uv run twine upload dist/*", "publish"),
        ("sh -c 'docker push ghcr.io/o/a:1'", "publish"),
    ],
)
def test_through_the_shell(source: str, kind: str) -> None:
    from ringfence.analyze import analyze_shell

    assert kind in {e.kind for e in analyze_shell(source, CTX)}
