"""The cloud classifier: infrastructure-as-code and cloud CLIs, their attributes and the cloud pack."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.analyze import cloud
from ringfence.analyze.command import Command
from ringfence.analyze.context import AnalysisConfig, Context
from ringfence.analyze.kinds import EFFECT_KINDS
from ringfence.model import Outcome, RiskTier
from tests.analyze.infra_helpers import CTX, GATED, MODULES, WS, check, decide, one, run

# -- terraform / tofu / terragrunt ------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind", "attrs"),
    [
        (
            "terraform destroy",
            "infra.destroy",
            {"tool": "terraform", "operation": "destroy", "auto_approve": False},
        ),
        ("terraform destroy -auto-approve", "infra.destroy", {"auto_approve": True}),
        (
            "terraform destroy --auto-approve -target=aws_instance.web",
            "infra.destroy",
            {"auto_approve": True, "targets": ("aws_instance.web",)},
        ),
        ("terraform apply", "infra.apply", {"operation": "apply", "auto_approve": False, "destroy": False}),
        (
            "terraform apply -auto-approve tfplan",
            "infra.apply",
            {"auto_approve": True, "plan_file": "tfplan"},
        ),
        ("terraform apply -replace=aws_instance.a", "infra.apply", {"targets": ("aws_instance.a",)}),
        ("tofu apply -auto-approve", "infra.apply", {"tool": "tofu"}),
        ("tofu destroy", "infra.destroy", {"tool": "tofu"}),
        (
            "terraform state rm aws_instance.x module.y",
            "infra.state",
            {"operation": "state rm", "targets": ("aws_instance.x", "module.y")},
        ),
        ("terraform state mv a b", "infra.state", {"operation": "state mv"}),
        ("terraform state push terraform.tfstate", "infra.state", {"operation": "state push"}),
        ("terraform state replace-provider a b", "infra.state", {"operation": "state replace-provider"}),
        ("terraform import aws_instance.x i-123", "infra.state", {"operation": "import"}),
        ("terraform taint aws_instance.x", "infra.state", {"operation": "taint"}),
        ("terraform untaint aws_instance.x", "infra.state", {"operation": "untaint"}),
        ("terraform force-unlock 1234", "infra.state", {"operation": "force-unlock"}),
        ("terraform workspace delete prod", "infra.state", {"operation": "workspace delete"}),
        ("terraform -chdir=infra apply", "infra.apply", {"tool": "terraform"}),
        ("terragrunt apply", "infra.apply", {"tool": "terragrunt"}),
        (
            "terragrunt run-all destroy --terragrunt-non-interactive",
            "infra.destroy",
            {"all": True, "auto_approve": True},
        ),
        ("terragrunt destroy-all", "infra.destroy", {"all": True}),
        ("terragrunt run --all -- destroy", "infra.destroy", {"all": True, "operation": "destroy"}),
    ],
)
def test_terraform_effects(line: str, kind: str, attrs: dict[str, Any]) -> None:
    check(one(line, kind), **attrs)


def test_apply_destroy_is_also_a_destroy() -> None:
    effects = run("terraform apply -destroy -auto-approve")
    assert [e.kind for e in effects] == ["infra.apply", "infra.destroy"]
    check(effects[0], destroy=True, auto_approve=True)
    check(effects[1], operation="apply -destroy")


@pytest.mark.parametrize(
    "line",
    [
        "terraform plan",
        "terraform plan -destroy -out=tfplan",
        "terraform init -upgrade",
        "terraform validate",
        "terraform fmt -recursive",
        "terraform show tfplan",
        "terraform output -json",
        "terraform state list",
        "terraform state show aws_instance.x",
        "terraform state pull",
        "terraform workspace select prod",
        "terraform workspace list",
        "terraform -chdir=envs/prod plan",
        "terraform console",
        "terraform graph",
        "terraform providers",
        "terraform version",
        "terragrunt plan",
        "terragrunt run-all plan",
        "tofu init",
    ],
)
def test_terraform_ordinary(line: str) -> None:
    assert run(line) == []


@pytest.mark.parametrize(
    ("line", "env", "cwd", "expected"),
    [
        ("terraform destroy", {"TF_WORKSPACE": "prod"}, WS, "production"),
        ("terraform destroy -var-file=envs/staging.tfvars", {}, WS, "staging"),
        ("terraform destroy -var-file dev.tfvars", {}, WS, "development"),
        ("terraform -chdir=envs/prod destroy", {}, WS, "production"),
        ("terraform -chdir=live/prd/us-east-1 destroy", {}, WS, "production"),
        ("terraform destroy -var environment=production", {}, WS, "production"),
        ("terraform destroy", {}, f"{WS}/infra/envs/prod", "production"),
        ("terragrunt destroy --terragrunt-working-dir envs/stage", {}, WS, "staging"),
        ("terraform destroy", {}, WS, None),
        ("terraform destroy", {"TF_WORKSPACE": "blue"}, WS, None),
    ],
)
def test_terraform_environment(line: str, env: dict[str, str], cwd: str, expected: str | None) -> None:
    check(one(line, "infra.destroy", env=env, cwd=cwd), environment=expected)


def test_terraform_environment_from_configuration_and_fallback() -> None:
    config = AnalysisConfig(environments={"terraform_workspace": (("blue", "production"),)})
    ctx = Context(cwd=WS, home="/home/dev", workspace=WS, config=config, environment="staging")
    eff = run("terraform destroy", ctx, env={"TF_WORKSPACE": "blue"})[0]
    check(eff, environment="production")
    eff = run("terraform destroy", ctx)[0]
    check(eff, environment="staging")  # nothing named: the action's environment


def test_home_directory_names_do_not_set_the_environment() -> None:
    ctx = Context(cwd="/home/devops/x", home="/home/devops", workspace=WS)
    check(run("terraform destroy", ctx, cwd="/home/devops/x")[0], environment=None)


def test_dynamic_terraform_subcommand_is_gated() -> None:
    eff = one("terraform $ACTION", "infra.apply", dynamic=frozenset({1}))
    check(eff, dynamic=True)


# -- pulumi / cdk / sam / eksctl ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind", "attrs"),
    [
        (
            "pulumi up --yes -s prod",
            "infra.apply",
            {"tool": "pulumi", "auto_approve": True, "stack": "prod", "environment": "production"},
        ),
        ("pulumi update", "infra.apply", {"operation": "up", "auto_approve": False}),
        ("pulumi destroy --stack org/app/dev -y", "infra.destroy", {"environment": "development"}),
        (
            "pulumi stack rm staging --force",
            "infra.state",
            {"operation": "stack rm", "force": True, "environment": "staging"},
        ),
        ("pulumi state delete urn:pulumi:x", "infra.state", {"operation": "state delete"}),
        ("pulumi import aws:s3/bucket:Bucket b b", "infra.state", {"operation": "import"}),
        ("pulumi refresh --yes", "infra.state", {"operation": "refresh"}),
        (
            "cdk deploy ProdStack --require-approval never",
            "infra.apply",
            {"tool": "cdk", "auto_approve": True, "targets": ("ProdStack",), "environment": "production"},
        ),
        ("cdk deploy --all --profile staging", "infra.apply", {"all": True, "environment": "staging"}),
        ("cdk destroy --force MyStack", "infra.destroy", {"auto_approve": True, "targets": ("MyStack",)}),
        ("cdk watch", "infra.apply", {"operation": "watch"}),
        ("cdk bootstrap", "infra.apply", {"operation": "bootstrap"}),
        ("cdktf deploy --auto-approve", "infra.apply", {"tool": "cdktf", "auto_approve": True}),
        (
            "sam deploy --stack-name prod-api --no-confirm-changeset",
            "infra.apply",
            {"tool": "sam", "auto_approve": True, "environment": "production"},
        ),
        ("sam sync --watch", "infra.apply", {"operation": "sync"}),
        (
            "sam delete --stack-name api --no-prompts",
            "infra.destroy",
            {"auto_approve": True, "targets": ("api",)},
        ),
        (
            "eksctl delete cluster --name prod-eks",
            "infra.destroy",
            {"tool": "eksctl", "operation": "delete cluster", "environment": "production"},
        ),
        ("eksctl create cluster -f cluster.yaml", "infra.apply", {"operation": "create cluster"}),
    ],
)
def test_iac_effects(line: str, kind: str, attrs: dict[str, Any]) -> None:
    check(one(line, kind), **attrs)


@pytest.mark.parametrize(
    "line",
    [
        "pulumi preview",
        "pulumi preview --diff -s prod",
        "pulumi destroy --preview-only",
        "pulumi stack ls",
        "pulumi stack select prod",
        "pulumi stack output",
        "pulumi config set region us-east-1",
        "pulumi login",
        "cdk synth",
        "cdk diff",
        "cdk ls",
        "cdk doctor",
        "sam build",
        "sam local invoke",
        "sam validate",
        "sam deploy --no-execute-changeset",
        "eksctl get clusters",
    ],
)
def test_iac_ordinary(line: str) -> None:
    assert run(line) == []


# -- aws ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind", "attrs"),
    [
        (
            "aws s3 rm s3://bucket/path --recursive",
            "infra.destroy",
            {"service": "s3", "operation": "rm", "recursive": True, "targets": ("s3://bucket/path",)},
        ),
        ("aws s3 rm s3://bucket/key.txt", "infra.destroy", {"recursive": False}),
        (
            "aws s3 rb s3://my-bucket --force",
            "infra.destroy",
            {"operation": "rb", "force": True, "recursive": True},
        ),
        ("aws s3 rb s3://my-bucket", "infra.destroy", {"force": False}),
        (
            "aws s3 sync ./dist s3://site --delete",
            "infra.destroy",
            {"operation": "sync", "targets": ("s3://site",)},
        ),
        ("aws s3api delete-bucket --bucket b", "infra.destroy", {"service": "s3api", "targets": ("b",)}),
        ("aws s3api delete-object --bucket b --key k", "infra.destroy", {"recursive": False}),
        (
            "aws ec2 terminate-instances --instance-ids i-1 i-2",
            "infra.destroy",
            {"service": "ec2", "operation": "terminate-instances", "targets": ("i-1", "i-2")},
        ),
        (
            "aws rds delete-db-instance --db-instance-identifier db1 --skip-final-snapshot",
            "infra.destroy",
            {"service": "rds", "targets": ("db1",)},
        ),
        ("aws dynamodb delete-table --table-name users", "infra.destroy", {"targets": ("users",)}),
        ("aws lambda delete-function --function-name f", "infra.destroy", {"operation": "delete-function"}),
        ("aws ecr batch-delete-image --repository-name r --image-ids imageTag=x", "infra.destroy", {}),
        ("aws elbv2 deregister-targets --target-group-arn a --targets Id=i", "infra.destroy", {}),
        ("aws sqs purge-queue --queue-url u", "infra.destroy", {"operation": "purge-queue"}),
        ("aws ec2 release-address --allocation-id a", "infra.destroy", {}),
        ("aws cloudformation delete-stack --stack-name api", "infra.destroy", {"service": "cloudformation"}),
        (
            "aws cloudformation deploy --template-file t.yml --stack-name api",
            "infra.apply",
            {"targets": ("api",)},
        ),
        ("aws cloudformation create-stack --stack-name api --template-body file://t", "infra.apply", {}),
        ("aws cloudformation update-stack --stack-name api", "infra.apply", {}),
        ("aws ec2 run-instances --image-id ami-1", "infra.apply", {"operation": "run-instances"}),
        ("aws ec2 stop-instances --instance-ids i-1", "infra.apply", {}),
        ("aws ecs update-service --cluster c --service s --force-new-deployment", "infra.apply", {}),
        ("aws lambda update-function-code --function-name f --zip-file fileb://x.zip", "infra.apply", {}),
        (
            "aws route53 change-resource-record-sets --hosted-zone-id Z --change-batch file://c.json",
            "infra.apply",
            {},
        ),
        (
            "aws --profile prod --region us-east-1 ec2 terminate-instances --instance-ids i-1",
            "infra.destroy",
            {"environment": "production"},
        ),
    ],
)
def test_aws_effects(line: str, kind: str, attrs: dict[str, Any]) -> None:
    check(one(line, kind), tool="aws", **attrs)


@pytest.mark.parametrize(
    ("line", "env", "expected"),
    [
        ("aws s3 rb s3://b --force --profile production", {}, "production"),
        ("aws s3 rb s3://b --force --profile=staging", {}, "staging"),
        ("aws s3 rb s3://b --force", {"AWS_PROFILE": "dev"}, "development"),
        ("aws s3 rb s3://myapp-prod-assets --force", {}, "production"),
        ("aws rds delete-db-instance --db-instance-identifier prod-db", {}, "production"),
        ("aws s3 rb s3://bucket --force", {}, None),
    ],
)
def test_aws_environment(line: str, env: dict[str, str], expected: str | None) -> None:
    check(one(line, "infra.destroy", env=env), environment=expected)


def test_aws_sync_to_local_deletes_local_files() -> None:
    eff = one("aws s3 sync s3://site ./local --delete", "fs.delete")
    check(eff, targets=(f"{WS}/local",), recursive=True, outside_workspace=False, critical=False)


@pytest.mark.parametrize(
    "line",
    [
        "aws s3 ls",
        "aws s3 ls s3://bucket --recursive",
        "aws s3 cp s3://bucket/key ./key",
        "aws s3 cp ./file s3://bucket/file",
        "aws s3 sync ./dist s3://site",
        "aws s3 rm s3://bucket/ --recursive --dryrun",
        "aws s3 mv s3://b/a s3://b/c",
        "aws ec2 describe-instances --filters Name=tag:env,Values=prod",
        "aws ec2 terminate-instances --instance-ids i-1 --dry-run",
        "aws sts get-caller-identity",
        "aws iam list-users",
        "aws logs tail /aws/lambda/f --follow",
        "aws lambda invoke --function-name f out.json",
        "aws sqs receive-message --queue-url u",
        "aws sqs delete-message --queue-url u --receipt-handle h",
        "aws sqs send-message --queue-url u --message-body hi",
        "aws dynamodb get-item --table-name t --key {}",
        "aws dynamodb put-item --table-name t --item {}",
        "aws cloudwatch put-metric-data --namespace n --metric-name m --value 1",
        "aws cloudfront create-invalidation --distribution-id d --paths /*",
        "aws athena stop-query-execution --query-execution-id q",
        "aws stepfunctions start-execution --state-machine-arn a",
        "aws logs start-query --log-group-name g --query-string q",
        "aws sns publish --topic-arn t --message m",
        "aws ecr get-login-password",
        "aws configure list",
        "aws --version",
        "aws",
    ],
)
def test_aws_ordinary(line: str) -> None:
    assert [e for e in run(line) if e.kind in GATED] == []


def test_aws_iam_is_a_credential_change_not_a_deletion() -> None:
    effects = run("aws iam delete-access-key --user-name bob --access-key-id AKIA")
    assert [e.kind for e in effects] == ["credential.change"]


# -- gcloud / gsutil / az / others --------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind", "attrs"),
    [
        (
            "gcloud projects delete my-project",
            "infra.destroy",
            {"tool": "gcloud", "service": "projects", "operation": "delete", "targets": ("my-project",)},
        ),
        (
            "gcloud compute instances delete vm1 vm2 --zone us-central1-a --quiet",
            "infra.destroy",
            {"service": "compute instances", "targets": ("vm1", "vm2")},
        ),
        ("gcloud sql instances delete db1", "infra.destroy", {"service": "sql instances"}),
        ("gcloud container clusters delete c1 --region us-east1", "infra.destroy", {"targets": ("c1",)}),
        ("gcloud beta run services delete api", "infra.destroy", {"service": "run services"}),
        ("gcloud storage rm -r gs://bucket/path", "infra.destroy", {"recursive": True}),
        ("gcloud storage rm gs://bucket/obj", "infra.destroy", {"recursive": False}),
        ("gcloud storage buckets delete gs://b", "infra.destroy", {"targets": ("gs://b",)}),
        ("gcloud compute instances create vm1", "infra.apply", {"operation": "create"}),
        ("gcloud sql instances patch db1 --tier=db-f1-micro", "infra.apply", {"operation": "patch"}),
        ("gcloud container clusters resize c1 --num-nodes 0", "infra.apply", {"operation": "resize"}),
        ("gsutil rm -r gs://b/x", "infra.destroy", {"tool": "gsutil", "recursive": True}),
        ("gsutil -m rm -a gs://b/**", "infra.destroy", {"recursive": True}),
        ("gsutil rm gs://b/file", "infra.destroy", {"recursive": False}),
        ("gsutil rb -f gs://b", "infra.destroy", {"operation": "rb", "force": True}),
        ("gsutil rsync -d -r ./site gs://b", "infra.destroy", {"targets": ("gs://b",)}),
        (
            "az group delete --name rg-prod --yes",
            "infra.destroy",
            {"tool": "az", "service": "group", "operation": "delete", "environment": "production"},
        ),
        ("az vm delete -g rg -n vm1", "infra.destroy", {"targets": ("vm1", "rg")}),
        (
            "az storage blob delete-batch -s container --account-name a",
            "infra.destroy",
            {"operation": "delete-batch"},
        ),
        ("az keyvault delete --name kv", "infra.destroy", {"service": "keyvault"}),
        ("az vm create -g rg -n vm1 --image Ubuntu2204", "infra.apply", {"operation": "create"}),
        ("az aks scale -g rg -n aks --node-count 0", "infra.apply", {"operation": "scale"}),
        (
            "doctl compute droplet delete web-1 --force",
            "infra.destroy",
            {"tool": "doctl", "targets": ("web-1",)},
        ),
        ("hcloud server delete my-server", "infra.destroy", {"tool": "hcloud"}),
        ("s3cmd del -r s3://b/path", "infra.destroy", {"tool": "s3cmd", "recursive": True}),
        ("s3cmd rb s3://b", "infra.destroy", {"operation": "rb"}),
    ],
)
def test_other_cloud_effects(line: str, kind: str, attrs: dict[str, Any]) -> None:
    check(one(line, kind), **attrs)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("gcloud compute instances delete vm1 --project my-prod-project", "production"),
        ("gcloud compute instances delete vm1 --project=dev-sandbox", "development"),
        ("az vm delete -n vm1 -g rg --subscription Production", "production"),
        ("az vm delete -n vm1 -g rg-staging", "staging"),
    ],
)
def test_gcloud_az_environment(line: str, expected: str) -> None:
    check(one(line, "infra.destroy"), environment=expected)


def test_gcloud_project_from_environment_variable() -> None:
    eff = one("gcloud sql instances delete db1", "infra.destroy", env={"CLOUDSDK_CORE_PROJECT": "acme-prod"})
    check(eff, environment="production")


@pytest.mark.parametrize(
    "line",
    [
        "gcloud config list",
        "gcloud config set project my-project",
        "gcloud auth login",
        "gcloud auth application-default login",
        "gcloud components install kubectl",
        "gcloud compute instances list",
        "gcloud compute instances describe vm1",
        "gcloud compute ssh vm1",
        "gcloud container clusters get-credentials c1",
        "gcloud logging read severity>=ERROR",
        "gcloud storage ls gs://b",
        "gcloud storage cp gs://b/o .",
        "gcloud info",
        "gsutil ls gs://b",
        "gsutil cp gs://b/o .",
        "gsutil rsync -r ./site gs://b",
        "gsutil rsync -d -n -r ./site gs://b",
        "az account set --subscription prod",
        "az account show",
        "az login",
        "az vm list -o table",
        "az group show -n rg",
        "az aks get-credentials -g rg -n aks",
        "az extension add --name aks-preview",
        "doctl compute droplet list",
        "hcloud server list",
    ],
)
def test_other_cloud_ordinary(line: str) -> None:
    assert [e for e in run(line) if e.kind in GATED] == []


# -- rsync / rclone -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind", "attrs"),
    [
        (
            "rsync -av --delete src/ build/",
            "fs.delete",
            {"tool": "rsync", "targets": (f"{WS}/build",), "outside_workspace": False, "critical": False},
        ),
        (
            "rsync -a --delete-after src/ /srv/site/",
            "fs.delete",
            {"targets": ("/srv/site",), "outside_workspace": True},
        ),
        ("rsync -a --del src/ out/", "fs.delete", {"operation": "sync --delete"}),
        ("rsync -a --delete-excluded --exclude .git src/ out/", "fs.delete", {}),
        (
            "rsync -avz --delete dist/ deploy@web:/var/www/",
            "infra.destroy",
            {"tool": "rsync", "operation": "--delete", "targets": ("deploy@web:/var/www/",)},
        ),
        (
            "rsync -az --delete -e 'ssh -p 22' dist/ prod-web:/srv/",
            "infra.destroy",
            {"environment": "production"},
        ),
        (
            "rsync -a --remove-source-files logs/ backup:/logs/",
            "fs.delete",
            {"operation": "--remove-source-files", "targets": (f"{WS}/logs",)},
        ),
        ("rclone sync ./local remote:bucket", "infra.destroy", {"tool": "rclone", "operation": "sync"}),
        ("rclone purge s3:bucket/path", "infra.destroy", {"operation": "purge", "recursive": True}),
        ("rclone delete gdrive:old --min-age 30d", "infra.destroy", {"operation": "delete"}),
        ("rclone deletefile remote:file.txt", "infra.destroy", {"recursive": False}),
        ("rclone sync remote:bucket ./mirror", "fs.delete", {"targets": (f"{WS}/mirror",)}),
    ],
)
def test_sync_tools(line: str, kind: str, attrs: dict[str, Any]) -> None:
    check(one(line, kind), **attrs)


@pytest.mark.parametrize(
    "line",
    [
        "rsync -av src/ dst/",
        "rsync -avz dist/ deploy@web:/var/www/",
        "rsync -avn --delete src/ dst/",
        "rsync --dry-run --delete src/ dst/",
        "rclone copy ./a remote:b",
        "rclone ls remote:b",
        "rclone sync --dry-run ./a remote:b",
        "rclone config",
    ],
)
def test_sync_ordinary(line: str) -> None:
    assert run(line) == []


# -- the cloud pack -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "env", "outcome", "tier", "rule"),
    [
        (
            "terraform destroy -auto-approve",
            {"TF_WORKSPACE": "prod"},
            Outcome.DENY,
            RiskTier.CRITICAL,
            "cloud.destroy-production",
        ),
        (
            "terraform destroy",
            {"TF_WORKSPACE": "dev"},
            Outcome.REQUIRE_APPROVAL,
            RiskTier.HIGH,
            "cloud.destroy",
        ),
        ("terraform destroy", {}, Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "cloud.destroy"),
        ("terraform apply -auto-approve", {}, Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "cloud.apply"),
        (
            "terraform apply",
            {"TF_WORKSPACE": "production"},
            Outcome.REQUIRE_APPROVAL,
            RiskTier.HIGH,
            "cloud.apply",
        ),
        (
            "terraform apply -destroy",
            {"TF_WORKSPACE": "prod"},
            Outcome.DENY,
            RiskTier.CRITICAL,
            "cloud.destroy-production",
        ),
        ("terraform state rm aws_instance.x", {}, Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "cloud.state"),
        ("pulumi up --yes", {}, Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "cloud.apply"),
        ("pulumi destroy -s prod", {}, Outcome.DENY, RiskTier.CRITICAL, "cloud.destroy-production"),
        ("cdk destroy --all", {}, Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "cloud.destroy"),
        (
            "aws s3 rm s3://prod-data --recursive",
            {},
            Outcome.DENY,
            RiskTier.CRITICAL,
            "cloud.destroy-production",
        ),
        (
            "aws s3 rm s3://data/one.txt",
            {},
            Outcome.REQUIRE_APPROVAL,
            RiskTier.MEDIUM,
            "cloud.destroy-object",
        ),
        (
            "aws s3 rm s3://prod-data/one.txt",
            {},
            Outcome.REQUIRE_APPROVAL,
            RiskTier.MEDIUM,
            "cloud.destroy-object",
        ),
        ("aws s3 rb s3://data --force", {}, Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "cloud.destroy"),
        (
            "aws ec2 terminate-instances --instance-ids i-1 --profile prod",
            {},
            Outcome.DENY,
            RiskTier.CRITICAL,
            "cloud.destroy-production",
        ),
        ("gcloud projects delete acme-prod", {}, Outcome.DENY, RiskTier.CRITICAL, "cloud.destroy-production"),
        ("az group delete -n rg --yes", {}, Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "cloud.destroy"),
        ("rclone purge remote:bucket", {}, Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "cloud.destroy"),
        ("rsync -a --delete dist/ web:/srv/", {}, Outcome.REQUIRE_APPROVAL, RiskTier.HIGH, "cloud.destroy"),
    ],
)
def test_cloud_pack(line: str, env: dict[str, str], outcome: Outcome, tier: RiskTier, rule: str) -> None:
    got, got_tier, rules = decide(line, env=env)
    assert (got, got_tier) == (outcome, tier), (line, rules)
    assert rule in rules


@pytest.mark.parametrize(
    "line",
    [
        "terraform plan",
        "terraform init",
        "pulumi preview",
        "cdk diff",
        "aws s3 ls",
        "gcloud config list",
        "az account show",
        "aws s3 cp ./a s3://b/a",
    ],
)
def test_cloud_pack_allows_ordinary_work(line: str) -> None:
    assert decide(line)[0] is Outcome.ALLOW


def test_action_environment_production_makes_unnamed_destroys_deny() -> None:
    ctx = Context(cwd=WS, home="/home/dev", workspace=WS, environment="production")
    assert decide("terraform destroy", ctx)[0] is Outcome.DENY


def test_commands_are_claimed() -> None:
    assert cloud.COMMANDS is not None
    assert {
        "terraform",
        "tofu",
        "terragrunt",
        "pulumi",
        "cdk",
        "aws",
        "gcloud",
        "gsutil",
        "az",
        "rsync",
        "rclone",
    } <= cloud.COMMANDS


# -- robustness ------------------------------------------------------------------------------------

_NAMES = sorted(set().union(*(m.COMMANDS or () for m in MODULES)))
_WORDS = st.one_of(
    st.sampled_from(
        [
            "delete",
            "apply",
            "destroy",
            "-n",
            "--",
            "=",
            "-",
            "--prod",
            "-f",
            "/",
            ":",
            "s3://",
            "gs://",
            "--replicas=0",
            "publish",
            "deploy",
            "run",
            "api",
            "-X",
            "DELETE",
            "secret",
            "state",
            "rm",
        ]
    ),
    st.text(max_size=12),
)


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(_NAMES), args=st.lists(_WORDS, max_size=8), dyn=st.sets(st.integers(0, 9)))
def test_classifiers_never_crash(name: str, args: list[str], dyn: set[int]) -> None:
    cmd = Command(argv=(name, *args), cwd=WS, dynamic=frozenset(dyn))
    for module in MODULES:
        if module.COMMANDS is not None and name in module.COMMANDS:
            for eff in module.classify(cmd, CTX):
                assert eff.kind in EFFECT_KINDS
                for value in eff.attrs.values():
                    assert value is None or isinstance(value, str | int | bool | tuple)


# -- end to end through the shell layer ------------------------------------------------------------

_HAVE_ALL = all(
    importlib.util.find_spec(f"ringfence.analyze.{name}") is not None
    for name in ("shell", "git", "fs", "db", "secrets", "gate")
)


@pytest.mark.skipif(not _HAVE_ALL, reason="the shell layer or another domain is not in the tree yet")
@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("sudo terraform destroy -auto-approve", "infra.destroy"),
        ("bash -c 'cd envs/prod && terraform apply -auto-approve'", "infra.apply"),
        ("env AWS_PROFILE=prod aws s3 rm s3://b --recursive", "infra.destroy"),
        ('"terraform" state rm aws_instance.x', "infra.state"),
    ],
)
def test_through_the_shell(source: str, kind: str) -> None:
    from ringfence.analyze import analyze_shell

    assert kind in {e.kind for e in analyze_shell(source, CTX)}


@pytest.mark.skipif(not _HAVE_ALL, reason="the shell layer or another domain is not in the tree yet")
def test_text_is_not_execution() -> None:
    from ringfence.analyze import analyze_shell

    effects = analyze_shell("echo 'terraform destroy -auto-approve'", CTX)
    assert not [e for e in effects if e.kind.startswith("infra.")]
