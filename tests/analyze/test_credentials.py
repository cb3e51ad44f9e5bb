"""The credentials classifier: IAM, secret stores, RBAC, GitHub access and review bypass; the pack."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from ringfence.model import Outcome, RiskTier
from ringfence.policy.evaluate import evaluate
from tests.analyze.infra_helpers import CTX, GATED, POLICY, check, decide, one, run


@pytest.mark.parametrize(
    ("line", "attrs"),
    [
        # aws
        (
            "aws iam create-access-key --user-name bob",
            {"tool": "aws", "service": "iam", "operation": "create-access-key", "targets": ("bob",)},
        ),
        (
            "aws iam delete-access-key --user-name bob --access-key-id AKIA1",
            {"operation": "delete-access-key"},
        ),
        (
            "aws iam update-access-key --access-key-id AKIA1 --status Inactive",
            {"operation": "update-access-key"},
        ),
        ("aws iam put-user-policy --user-name bob --policy-name p --policy-document file://p.json", {}),
        (
            "aws iam attach-role-policy --role-name r --policy-arn arn:aws:iam::aws:policy/Admin",
            {"operation": "attach-role-policy"},
        ),
        ("aws iam detach-user-policy --user-name bob --policy-arn arn", {}),
        ("aws iam create-user --user-name ci", {}),
        ("aws iam create-role --role-name r --assume-role-policy-document file://t.json", {}),
        ("aws iam update-assume-role-policy --role-name r --policy-document file://t.json", {}),
        ("aws iam create-login-profile --user-name bob --password x", {}),
        ("aws iam add-user-to-group --user-name bob --group-name admins", {}),
        ("aws --profile prod iam create-access-key", {"environment": "production"}),
        (
            "aws secretsmanager put-secret-value --secret-id db --secret-string x",
            {"service": "secretsmanager"},
        ),
        ("aws secretsmanager delete-secret --secret-id db --force-delete-without-recovery", {}),
        ("aws secretsmanager create-secret --name db --secret-string x", {"targets": ("db",)}),
        ("aws secretsmanager rotate-secret --secret-id db", {}),
        (
            "aws ssm put-parameter --name /db/pass --value x --type SecureString --overwrite",
            {"service": "ssm"},
        ),
        ("aws kms schedule-key-deletion --key-id k --pending-window-in-days 7", {"service": "kms"}),
        ("aws kms disable-key --key-id k", {}),
        ("aws kms create-grant --key-id k --grantee-principal arn", {}),
        ("aws s3api put-bucket-policy --bucket b --policy file://p.json", {"service": "s3api"}),
        ("aws s3api delete-public-access-block --bucket b", {}),
        ("aws lambda add-permission --function-name f --principal '*' --statement-id s --action x", {}),
        ("aws ec2 create-key-pair --key-name k", {}),
        ("aws sso-admin create-account-assignment --instance-arn a", {}),
        ("aws cognito-idp admin-set-user-password --user-pool-id p --username u --password x", {}),
        # gcloud
        (
            "gcloud iam service-accounts keys create key.json --iam-account sa@p.iam.gserviceaccount.com",
            {"tool": "gcloud", "service": "iam service-accounts keys", "operation": "create"},
        ),
        ("gcloud iam service-accounts keys delete KEYID --iam-account sa@p", {"operation": "delete"}),
        ("gcloud iam service-accounts create ci-bot", {}),
        ("gcloud iam roles create custom --project p --permissions a,b", {}),
        (
            "gcloud projects add-iam-policy-binding acme-prod --member user:x --role roles/owner",
            {"operation": "add-iam-policy-binding", "environment": "production"},
        ),
        ("gcloud projects remove-iam-policy-binding p --member user:x --role roles/viewer", {}),
        ("gcloud projects set-iam-policy p policy.json", {"operation": "set-iam-policy"}),
        (
            "gcloud storage buckets add-iam-policy-binding gs://b --member allUsers --role roles/x",
            {"service": "storage buckets"},
        ),
        ("gcloud run services add-iam-policy-binding api --member allUsers --role roles/run.invoker", {}),
        (
            "gcloud secrets versions add db-pass --data-file=-",
            {"service": "secrets versions", "operation": "add"},
        ),
        ("gcloud secrets delete db-pass", {"operation": "delete"}),
        ("gcloud secrets create db-pass --replication-policy automatic", {}),
        (
            "gcloud kms keys versions destroy 1 --key k --keyring r --location global",
            {"operation": "destroy"},
        ),
        ("gcloud sql users set-password postgres --instance db --password x", {"operation": "set-password"}),
        ("gsutil iam ch allUsers:objectViewer gs://b", {"tool": "gsutil", "operation": "iam ch"}),
        ("gsutil acl set public-read gs://b/o", {"operation": "acl set"}),
        # az
        (
            "az role assignment create --assignee bob --role Owner --scope /subscriptions/x",
            {"tool": "az", "operation": "role assignment create", "targets": ("bob",)},
        ),
        ("az role assignment delete --assignee bob --role Reader", {}),
        ("az ad sp credential reset --id app-id", {"operation": "ad sp credential reset"}),
        ("az ad sp create-for-rbac --name ci --role Contributor", {}),
        ("az ad app credential reset --id x", {}),
        ("az keyvault secret set --vault-name kv-prod --name db --value x", {"environment": "production"}),
        ("az keyvault secret delete --vault-name kv --name db", {}),
        ("az keyvault key delete --vault-name kv --name k", {}),
        ("az keyvault set-policy -n kv --upn bob --secret-permissions get list", {}),
        ("az storage account keys renew -g rg -n acct --key primary", {}),
        ("az cosmosdb keys regenerate -g rg -n db --key-kind primary", {}),
        ("az identity create -g rg -n id1", {}),
        # vault
        (
            "vault write secret/app password=x",
            {"tool": "vault", "operation": "write", "targets": ("secret/app",)},
        ),
        ("vault delete secret/app", {"operation": "delete"}),
        ("vault kv put secret/app key=v", {"operation": "kv put"}),
        ("vault kv put -mount=secret app key=v", {"operation": "kv put", "targets": ("app",)}),
        ("vault kv delete secret/app", {"operation": "kv delete"}),
        ("vault kv destroy -versions=1,2 secret/app", {"operation": "kv destroy"}),
        ("vault kv metadata delete secret/app", {"operation": "kv metadata delete"}),
        ("vault policy write admin admin.hcl", {"operation": "policy write", "targets": ("admin",)}),
        ("vault policy delete admin", {"operation": "policy delete"}),
        ("vault token create -policy=admin -ttl=24h", {"operation": "token create"}),
        ("vault token revoke s.abc", {"operation": "token revoke"}),
        ("vault auth enable userpass", {"operation": "auth enable"}),
        ("vault auth disable github", {"operation": "auth disable"}),
        ("vault secrets disable kv", {"operation": "secrets disable"}),
        ("vault audit disable file", {"operation": "audit disable"}),
        ("vault operator seal", {"operation": "operator seal"}),
        ("vault -address=https://vault.prod.example.com write secret/x a=b", {"environment": "production"}),
        # kubectl / oc
        (
            "kubectl create secret generic db --from-literal=password=x -n prod",
            {
                "tool": "kubectl",
                "operation": "create secret",
                "targets": ("db",),
                "environment": "production",
            },
        ),
        ("kubectl create secret docker-registry regcred --docker-server=ghcr.io", {"targets": ("regcred",)}),
        ("kubectl create secret tls web --cert=c.pem --key=k.pem", {}),
        ("kubectl delete secret db", {"operation": "delete secret"}),
        ("kubectl delete secrets --all -n staging", {"environment": "staging"}),
        (
            "kubectl create rolebinding dev --role=edit --user=bob -n app",
            {"operation": "create rolebinding", "role": "edit"},
        ),
        (
            "kubectl create clusterrolebinding root --clusterrole=cluster-admin --serviceaccount=default:x",
            {"cluster_admin": True, "role": "cluster-admin"},
        ),
        ("kubectl create role pod-reader --verb=get --resource=pods", {"operation": "create role"}),
        ("kubectl create clusterrole admin2 --verb=* --resource=*", {"operation": "create clusterrole"}),
        ("kubectl create serviceaccount ci", {"operation": "create serviceaccount"}),
        ("kubectl create token ci --duration=8760h", {"operation": "create token", "targets": ("ci",)}),
        ("kubectl delete clusterrolebinding root", {"operation": "delete clusterrolebinding"}),
        ("kubectl delete rolebinding.rbac.authorization.k8s.io/dev", {}),
        ("kubectl patch secret db -p '{\"data\":{}}'", {"operation": "patch secret"}),
        ("kubectl edit clusterrole admin", {"operation": "edit clusterrole"}),
        ("kubectl certificate approve csr-abc", {"operation": "certificate approve"}),
        ("kubectl auth reconcile -f rbac.yaml", {"operation": "auth reconcile"}),
        ("kubectl set subject clusterrolebinding root --user=eve", {"operation": "set subject"}),
        ("oc adm policy add-cluster-role-to-user cluster-admin eve", {"tool": "oc"}),
        ("oc policy add-role-to-user admin eve -n app", {}),
        ("oc create secret generic s --from-literal=a=b", {"operation": "create secret"}),
        # platform secret stores
        (
            "fly secrets set DATABASE_URL=x -a api-prod",
            {
                "tool": "fly",
                "operation": "secrets set",
                "targets": ("DATABASE_URL",),
                "environment": "production",
            },
        ),
        ("flyctl secrets unset KEY", {"operation": "secrets unset"}),
        (
            "heroku config:set SECRET_KEY=x -a shop",
            {"tool": "heroku", "operation": "config:set", "targets": ("SECRET_KEY",)},
        ),
        ("heroku config:unset KEY -a shop", {}),
        ("heroku access:add eve@example.com -a shop", {"operation": "access:add"}),
        ("vercel env add API_KEY production", {"tool": "vercel", "operation": "env add"}),
        ("vercel env rm API_KEY", {"operation": "env rm"}),
        ("netlify env:set API_KEY x", {"tool": "netlify"}),
        (
            "wrangler secret put API_KEY",
            {"tool": "wrangler", "operation": "secret put", "targets": ("API_KEY",)},
        ),
        ("wrangler pages secret put API_KEY", {"operation": "secret put"}),
        ("railway variables --set KEY=x", {"tool": "railway", "targets": ("KEY",)}),
        ("doppler secrets set KEY=x", {"tool": "doppler"}),
        ("infisical secrets delete KEY", {"tool": "infisical"}),
        ("op item create --category login --title x", {"tool": "op", "operation": "item create"}),
        ("op item delete abc", {"operation": "item delete"}),
        ("bw delete item abc", {"tool": "bw"}),
        ("npm token create", {"tool": "npm", "operation": "token create"}),
        ("npm owner add eve my-pkg", {"operation": "owner add"}),
        ("npm access grant read-write org:team my-pkg", {}),
        (
            "ssh-copy-id -i ~/.ssh/id_ed25519.pub deploy@web",
            {"tool": "ssh-copy-id", "targets": ("deploy@web",)},
        ),
    ],
)
def test_credential_changes(line: str, attrs: dict[str, Any]) -> None:
    check(one(line, "credential.change"), **attrs)


@pytest.mark.parametrize(
    ("line", "attrs"),
    [
        (
            "gh secret set API_KEY --body x",
            {"tool": "gh", "operation": "secret set", "targets": ("API_KEY",)},
        ),
        (
            "gh secret set API_KEY -e production < key.txt",
            {"github_environment": "production", "environment": "production"},
        ),
        ("gh secret set NPM_TOKEN --org acme --visibility all", {"org": "acme"}),
        ("gh secret delete API_KEY -R o/r", {"operation": "secret delete", "repo": "o/r"}),
        ("gh secret remove API_KEY", {"operation": "secret remove"}),
        ("gh ssh-key add ~/.ssh/id.pub --title laptop", {"operation": "ssh-key add"}),
        ("gh ssh-key delete 123 --yes", {"operation": "ssh-key delete"}),
        ("gh gpg-key add key.asc", {"operation": "gpg-key add"}),
        ("gh repo deploy-key add key.pub --allow-write", {"operation": "deploy-key add"}),
        ("gh repo deploy-key delete 42", {"operation": "deploy-key delete"}),
        (
            "gh repo edit --visibility public --accept-visibility-change-consequences",
            {"operation": "repo visibility", "visibility": "public"},
        ),
        ("gh repo edit o/r --visibility=private", {"targets": ("o/r",)}),
        (
            "gh api repos/o/r/branches/main/protection -X DELETE",
            {"operation": "branch_protection", "method": "DELETE"},
        ),
        ("gh api -X PUT repos/{owner}/{repo}/branches/main/protection --input p.json", {"method": "PUT"}),
        (
            "gh api --method PATCH /repos/o/r/branches/main/protection/required_pull_request_reviews -F x=1",
            {"operation": "branch_protection", "method": "PATCH"},
        ),
        (
            "gh api https://api.github.com/repos/o/r/branches/main/protection/enforce_admins -X DELETE",
            {"endpoint": "repos/o/r/branches/main/protection/enforce_admins"},
        ),
        ("gh api repos/o/r/rulesets/1 -X DELETE", {"operation": "ruleset"}),
        ("gh api -X PUT repos/o/r/collaborators/eve -f permission=admin", {"operation": "collaborator"}),
        ("gh api -X DELETE repos/o/r/collaborators/bob", {"operation": "collaborator"}),
        (
            "gh api repos/o/r/keys -f title=k -f key=ssh-ed25519",
            {"operation": "deploy_key", "method": "POST"},
        ),
        (
            "gh api -X PUT repos/o/r/actions/secrets/TOKEN -f encrypted_value=x -f key_id=1",
            {"operation": "secret"},
        ),
        ("gh api -X PUT orgs/acme/memberships/eve -f role=admin", {"operation": "membership"}),
        ("gh api repos/o/r/hooks -f config[url]=https://x.example", {"operation": "webhook"}),
        ("gh api user/keys -f key=ssh-ed25519", {"operation": "user_key"}),
        ("gh api -X PATCH repos/o/r -F private=false", {"operation": "repo visibility"}),
        (
            "gh api graphql -f query='mutation { deleteBranchProtectionRule(input: {}) { x } }'",
            {"operation": "graphql mutation"},
        ),
    ],
)
def test_github_access(line: str, attrs: dict[str, Any]) -> None:
    check(one(line, "credential.change"), **attrs)


@pytest.mark.parametrize(
    ("line", "attrs"),
    [
        ("gh pr merge 12 --admin --squash", {"tool": "gh", "pr": "12", "admin": True, "auto": False}),
        ("gh pr merge --auto --merge", {"pr": None, "auto": True, "admin": False}),
        ("gh pr merge 7 --auto -s -d", {"auto": True}),
        ("gh pr merge https://github.com/o/r/pull/9 --admin", {"pr": "https://github.com/o/r/pull/9"}),
    ],
)
def test_merge_bypassing_review(line: str, attrs: dict[str, Any]) -> None:
    check(one(line, "merge.bypass_review"), **attrs)


def test_plain_parameters_are_not_secrets() -> None:
    kinds = [e.kind for e in run("aws ssm put-parameter --name /app/flag --value on --type String")]
    assert kinds == ["infra.apply"]


def test_repository_deletion_is_infrastructure() -> None:
    check(one("gh repo delete o/r --yes", "infra.destroy"), tool="gh", targets=("o/r",))
    check(one("gh api -X DELETE repos/o/r", "infra.destroy"), operation="repo delete")


@pytest.mark.parametrize(
    "line",
    [
        "aws iam list-users",
        "aws iam get-role --role-name r",
        "aws iam simulate-principal-policy --policy-source-arn a --action-names s3:GetObject",
        "aws iam generate-credential-report",
        "aws iam tag-role --role-name r --tags Key=a,Value=b",
        "aws sts get-caller-identity",
        "aws sts assume-role --role-arn a --role-session-name s",
        "aws secretsmanager list-secrets",
        "aws secretsmanager describe-secret --secret-id db",
        "aws kms encrypt --key-id k --plaintext fileb://x",
        "aws kms list-keys",
        "aws iam create-access-key --dry-run",
        "gcloud iam service-accounts list",
        "gcloud iam roles describe roles/viewer",
        "gcloud projects get-iam-policy p",
        "gcloud secrets list",
        "gcloud secrets versions list db-pass",
        "gcloud auth login",
        "gcloud auth activate-service-account --key-file k.json",
        "gsutil iam get gs://b",
        "az role assignment list --assignee bob",
        "az ad sp list --display-name ci",
        "az keyvault secret list --vault-name kv",
        "az keyvault secret show --vault-name kv --name s",
        "gh secret list",
        "gh variable set REGION --body us-east-1",
        "gh variable list",
        "gh ssh-key list",
        "gh repo view o/r",
        "gh repo edit --description 'new text'",
        "gh repo clone o/r",
        "gh auth status",
        "gh api repos/o/r/branches/main/protection",
        "gh api repos/o/r/collaborators",
        "gh api repos/o/r/pulls -f title=x -f head=b -f base=main",
        "gh api repos/o/r/issues/1/comments -f body=hi",
        "gh api graphql -f query='query { viewer { login } }'",
        "gh pr merge 12 --squash",
        "gh pr merge 12 --disable-auto",
        "gh pr create --title x --body y",
        "gh pr view 12",
        "gh pr checkout 12",
        "vault read secret/app",
        "vault kv get secret/app",
        "vault kv list secret/",
        "vault kv metadata get secret/app",
        "vault status",
        "vault login -method=oidc",
        "vault token lookup",
        "vault policy read admin",
        "vault policy list",
        "vault secrets list",
        "vault operator raft list-peers",
        "kubectl get secrets",
        "kubectl describe rolebinding x",
        "kubectl auth can-i create secrets",
        "kubectl create secret generic s --from-literal=a=b --dry-run=client -o yaml",
        "kubectl get clusterrolebindings -o wide",
        "fly secrets list",
        "heroku config -a shop",
        "heroku config:get KEY -a shop",
        "vercel env ls",
        "vercel env pull",
        "netlify env:list",
        "wrangler secret list",
        "doppler secrets",
        "doppler run -- npm start",
        "op item get abc",
        "op signin",
        "bw list items",
        "npm token list",
        "npm owner ls my-pkg",
        "npm install",
    ],
)
def test_credentials_ordinary(line: str) -> None:
    assert [e for e in run(line) if e.kind in GATED] == []


# -- the credentials pack ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "outcome", "tier", "rule"),
    [
        (
            "aws iam create-access-key --user-name bob",
            Outcome.REQUIRE_APPROVAL,
            RiskTier.HIGH,
            "credentials.change",
        ),
        (
            "gcloud projects add-iam-policy-binding p --member user:x --role roles/owner",
            Outcome.REQUIRE_APPROVAL,
            RiskTier.HIGH,
            "credentials.change",
        ),
        (
            "az role assignment create --assignee x --role Owner",
            Outcome.REQUIRE_APPROVAL,
            RiskTier.HIGH,
            "credentials.change",
        ),
        ("gh secret set API_KEY --body x", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "credentials.change"),
        (
            "gh api -X DELETE repos/o/r/branches/main/protection",
            Outcome.REQUIRE_APPROVAL,
            RiskTier.HIGH,
            "credentials.change",
        ),
        ("vault kv put secret/app k=v", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "credentials.change"),
        (
            "kubectl create clusterrolebinding x --clusterrole=cluster-admin --user=u",
            Outcome.REQUIRE_APPROVAL,
            RiskTier.HIGH,
            "credentials.change",
        ),
        ("kubectl delete secret db -n prod", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "credentials.change"),
        (
            "gh pr merge 12 --admin",
            Outcome.REQUIRE_APPROVAL,
            RiskTier.HIGH,
            "credentials.merge-bypass-review",
        ),
        ("gh pr merge 12 --auto", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "credentials.merge-bypass-review"),
        ("gh repo delete o/r --yes", Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "cloud.destroy"),
    ],
)
def test_credentials_pack(line: str, outcome: Outcome, tier: RiskTier, rule: str) -> None:
    got, got_tier, rules = decide(line)
    assert (got, got_tier) == (outcome, tier), (line, rules)
    assert rule in rules


def test_credential_changes_go_to_security() -> None:
    approval = evaluate(POLICY, run("aws iam create-access-key")).approval
    assert approval is not None and approval.approvers == ("security",)


@pytest.mark.parametrize("line", ["gh pr merge 12 --squash", "gh secret list", "vault read x", "gh variable set A"])
def test_credentials_pack_allows_ordinary_work(line: str) -> None:
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
        ("sudo -E aws iam create-access-key --user-name bob", "credential.change"),
        ("bash -c 'gh pr merge 12 --admin'", "merge.bypass_review"),
        ("echo x | gh secret set API_KEY", "credential.change"),
        ("env VAULT_ADDR=https://v vault kv put secret/x a=b", "credential.change"),
    ],
)
def test_through_the_shell(source: str, kind: str) -> None:
    from ringfence.analyze import analyze_shell

    assert kind in {e.kind for e in analyze_shell(source, CTX)}


@pytest.mark.skipif(not _HAVE_ALL, reason="the shell layer or another domain is not in the tree yet")
def test_mentions_are_not_merges() -> None:
    from ringfence.analyze import analyze_shell

    effects = analyze_shell("git commit -m 'do not run gh pr merge --admin'", CTX)
    assert "merge.bypass_review" not in {e.kind for e in effects}
