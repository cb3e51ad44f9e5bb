"""The filesystem classifier: deletion, destruction, permissions, disks and writes, and the fs pack."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from ringfence.analyze import fs
from ringfence.analyze.command import Command, Redirect
from ringfence.analyze.context import Context
from ringfence.analyze.kinds import EFFECT_KINDS
from ringfence.model import Effect, Outcome, RiskTier
from ringfence.policy.evaluate import evaluate
from ringfence.policy.load import Policy
from tests.helpers import pack_policy

HOME = "/home/u"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    return repo


@pytest.fixture
def ctx(ws: Path) -> Context:
    return Context.for_cwd(str(ws), home=HOME)


def policy() -> Policy:
    return pack_policy("fs", "secrets", "gate")


def cmd_of(line: str, ctx: Context, **kw: Any) -> Command:
    kw.setdefault("cwd", ctx.cwd)
    argv = tuple(shlex.split(line))
    dyn = frozenset(i for i, w in enumerate(argv) if "$" in w or "*" in w)
    kw.setdefault("dynamic", dyn)
    return Command(argv=argv, **kw)


def run(line: str, ctx: Context, **kw: Any) -> list[Effect]:
    return list(fs.classify(cmd_of(line, ctx, **kw), ctx))


def one(line: str, ctx: Context, kind: str, **kw: Any) -> Effect:
    found = [e for e in run(line, ctx, **kw) if e.kind == kind]
    assert len(found) == 1, (line, kind, run(line, ctx, **kw))
    return found[0]


def kinds(line: str, ctx: Context, **kw: Any) -> set[str]:
    return {e.kind for e in run(line, ctx, **kw)}


def decide(line: str, ctx: Context, **kw: Any) -> Outcome:
    return evaluate(policy(), run(line, ctx, **kw)).outcome


def test_commands_and_kinds_are_known(ctx: Context) -> None:
    assert fs.COMMANDS is not None and {"rm", "mkfs.ext4", "find", "dd", "wipefs"} <= fs.COMMANDS
    for line in (
        "rm -rf /",
        "shred x",
        "chmod -R 777 /",
        "dd of=/dev/sda",
        "tee /etc/x",
        "cp a .github/workflows/",
    ):
        for e in run(line, ctx):
            assert e.kind in EFFECT_KINDS


# -- rm -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    ["rm -rf /", "rm -fr /", "rm -Rf /", "rm -r -f /", "rm --recursive --force /", "rm -rf -- /", "rm / -rf"],
)
def test_rm_flag_spellings(line: str, ctx: Context) -> None:
    e = one(line, ctx, "fs.delete")
    assert e.attrs["targets"] == ("/",)
    assert e.attrs["recursive"] is True and e.attrs["force"] is True
    assert e.attrs["critical"] is True
    assert e.attrs["tool"] == "rm"


def test_rm_resolves_targets(ctx: Context, ws: Path) -> None:
    e = one("rm -rf node_modules dist build .pytest_cache", ctx, "fs.delete")
    assert e.attrs["targets"] == tuple(str(ws / p) for p in ("node_modules", "dist", "build", ".pytest_cache"))
    assert e.attrs["inside_workspace_only"] is True
    assert e.attrs["outside_workspace"] is False
    assert e.attrs["critical"] is False
    assert e.attrs["unknown_target"] is False


def test_rm_relative_to_command_cwd(ctx: Context, ws: Path) -> None:
    e = one("rm -rf ../dist", ctx, "fs.delete", cwd=str(ws / "web"))
    assert e.attrs["targets"] == (str(ws / "dist"),)


def test_rm_double_dash_keeps_dash_names(ctx: Context, ws: Path) -> None:
    e = one("rm -- -weird-name", ctx, "fs.delete")
    assert e.attrs["targets"] == (str(ws / "-weird-name"),)
    assert e.attrs["recursive"] is False


def test_no_preserve_root(ctx: Context) -> None:
    e = one("rm -rf --no-preserve-root /", ctx, "fs.delete")
    assert e.attrs["no_preserve_root"] is True
    v = evaluate(policy(), [e])
    assert v.outcome is Outcome.DENY and v.tier is RiskTier.CRITICAL
    assert "fs.delete-no-preserve-root" in v.rule_ids


@pytest.mark.parametrize(
    "target", ["/", "~", "$HOME", "${HOME}", "/*", "~/*", "/usr", "/etc", "/home", ".", ".git", "/var"]
)
def test_critical_targets(target: str, ctx: Context) -> None:
    e = one(f"rm -rf {target}", ctx, "fs.delete")
    assert e.attrs["critical"] is True, e.attrs
    v = evaluate(policy(), [e])
    assert v.outcome is Outcome.DENY and v.tier is RiskTier.CRITICAL


@pytest.mark.parametrize(
    "line", ["rm -rf $DIR/", 'rm -rf "$X"/*', "rm -rf ~/$X", "rm -rf ${ROOT}/", "rm -rf $HOME/$SUB"]
)
def test_empty_variable_would_hit_a_critical_root(line: str, ctx: Context) -> None:
    e = one(line, ctx, "fs.delete")
    assert e.attrs["unknown_target"] is True and e.attrs["dynamic"] is True
    assert e.attrs["critical"] is True
    assert decide(line, ctx) is Outcome.DENY


@pytest.mark.parametrize(
    "line", ["rm -rf $BUILD_DIR", 'rm -rf "$OUT/dist"', "rm -rf $(cat dirs.txt)", "rm -rf {xargs-input}"]
)
def test_unknown_recursive_target_needs_approval(line: str, ctx: Context) -> None:
    e = one(line, ctx, "fs.delete", dynamic=frozenset({2}))
    assert e.attrs["unknown_target"] is True
    assert e.attrs["critical"] is False
    assert e.attrs["inside_workspace_only"] is False
    v = evaluate(policy(), [e])
    assert v.outcome is Outcome.REQUIRE_APPROVAL and v.rule_ids == ("fs.delete-unknown-target",)
    assert v.approval is not None and v.approval.runtime_prompt is True


def test_unknown_single_file_is_allowed(ctx: Context) -> None:
    assert decide('rm -f "$tmpfile"', ctx) is Outcome.ALLOW


def test_glob_inside_workspace_is_not_unknown(ctx: Context, ws: Path) -> None:
    e = one("rm -rf node_modules/*", ctx, "fs.delete")
    assert e.attrs["targets"] == (str(ws / "node_modules/*"),)
    assert e.attrs["dynamic"] is True and e.attrs["unknown_target"] is False
    assert e.attrs["critical"] is False and e.attrs["inside_workspace_only"] is True
    assert decide("rm -rf node_modules/*", ctx) is Outcome.ALLOW
    assert decide("rm -rf *", ctx) is Outcome.ALLOW  # the workspace's contents, .git survives


def test_outside_workspace(ctx: Context) -> None:
    e = one("rm -rf /home/u/projects/other", ctx, "fs.delete")
    assert e.attrs["outside_workspace"] is True and e.attrs["critical"] is False
    v = evaluate(policy(), [e])
    assert v.outcome is Outcome.DENY and v.rule_ids == ("fs.delete-outside-workspace",)
    assert v.matches[0].alternative


def test_parent_of_a_home_workspace() -> None:
    ctx = Context(cwd="/home/u/proj", home=HOME, workspace="/home/u/proj")
    e = one("rm -rf ..", ctx, "fs.delete")
    assert e.attrs["targets"] == ("/home/u",) and e.attrs["critical"] is True
    e = one("rm -rf ../other", ctx, "fs.delete")
    assert e.attrs["outside_workspace"] is True
    assert decide("rm -rf ../other", ctx) is Outcome.DENY


def test_wiping_the_temp_directory_is_outside(ctx: Context) -> None:
    for line in ("rm -rf /tmp", "rm -rf /tmp/*", "rm -rf /var/tmp/"):
        assert one(line, ctx, "fs.delete").attrs["outside_workspace"] is True, line
        assert decide(line, ctx) is Outcome.DENY, line
    assert decide("rm -rf /tmp/build-*", ctx) is Outcome.ALLOW
    assert decide("find /tmp -name 'pytest-*' -delete", ctx) is Outcome.ALLOW


def test_tmp_and_cache_are_not_outside(ctx: Context) -> None:
    for line in ("rm -rf /tmp/build-123", "rm -rf /var/tmp/x", "rm -rf ~/.cache/pip", "rm -f /tmp/*.log"):
        e = one(line, ctx, "fs.delete")
        assert e.attrs["outside_workspace"] is False, line
        assert decide(line, ctx) is Outcome.ALLOW, line


def test_remote_deletion_is_outside(ctx: Context) -> None:
    e = one("rm -rf /var/www/app/releases/old", ctx, "fs.delete", remote="prod-web-1")
    assert e.attrs["remote"] == "prod-web-1"
    assert e.attrs["outside_workspace"] is True


def test_rmdir_and_unlink(ctx: Context, ws: Path) -> None:
    e = one("rmdir empty", ctx, "fs.delete")
    assert e.attrs["recursive"] is False and e.attrs["empty_only"] is True
    assert decide("rmdir /home/u/emptydir", ctx) is Outcome.ALLOW  # only empty directories
    assert decide("rmdir /", ctx) is Outcome.DENY
    u = one("unlink old.txt", ctx, "fs.delete")
    assert u.attrs["targets"] == (str(ws / "old.txt"),)
    assert decide("unlink /home/u/.profile.bak", ctx) is Outcome.DENY


def test_srm(ctx: Context) -> None:
    e = one("srm -r /home/u/docs", ctx, "fs.delete")
    assert e.attrs["recursive"] is True and e.attrs["tool"] == "srm"


# -- find -delete ---------------------------------------------------------------------------


def test_find_delete_inside_workspace_is_allowed(ctx: Context, ws: Path) -> None:
    e = one("find . -name '*.pyc' -delete", ctx, "fs.delete")
    assert e.attrs["targets"] == (str(ws / "**"),)
    assert e.attrs["recursive"] is True and e.attrs["critical"] is False
    assert e.attrs["inside_workspace_only"] is True
    assert decide("find . -name '*.pyc' -delete", ctx) is Outcome.ALLOW


def test_unfiltered_find_delete_of_the_workspace_is_critical(ctx: Context) -> None:
    assert one("find . -delete", ctx, "fs.delete").attrs["critical"] is True
    assert one("find . -type f -delete", ctx, "fs.delete").attrs["critical"] is True
    assert decide("find . -delete", ctx) is Outcome.DENY


def test_find_delete_targets(ctx: Context) -> None:
    assert one("find / -delete", ctx, "fs.delete").attrs["critical"] is True
    assert one("find -L /home/u -name x -delete", ctx, "fs.delete").attrs["targets"] == ("/home/u/**",)
    assert decide("find /tmp -mtime +7 -delete", ctx) is Outcome.ALLOW
    assert decide("find build -name '*.o' -delete", ctx) is Outcome.ALLOW
    assert kinds("find . -name '*.py'", ctx) == set()


# -- destroy --------------------------------------------------------------------------------


def test_shred(ctx: Context, ws: Path) -> None:
    e = one("shred -u -n 3 secret.txt", ctx, "fs.destroy")
    assert e.attrs["targets"] == (str(ws / "secret.txt"),)
    assert e.attrs["operation"] == "shred"
    assert "fs.delete" in kinds("shred -u secret.txt", ctx)
    v = evaluate(policy(), [e])
    assert v.outcome is Outcome.REQUIRE_APPROVAL
    assert decide("shred /home/u/notes.txt", ctx) is Outcome.DENY
    assert kinds("shred /dev/sda", ctx) == {"host.destroy"}


@pytest.mark.parametrize(
    "line",
    ["truncate -s 0 app.log", "truncate --size=0 app.log", "truncate -s0 app.log", "truncate -s -1K app.log"],
)
def test_truncate_to_zero_is_destroy(line: str, ctx: Context) -> None:
    e = one(line, ctx, "fs.destroy")
    assert e.attrs["operation"] == "truncate"


def test_truncate_growing_is_a_write(ctx: Context) -> None:
    assert kinds("truncate -s 10M sparse.img", ctx) == {"fs.write"}
    assert decide("truncate -s 10M sparse.img", ctx) is Outcome.ALLOW


def test_truncate_critical_and_outside(ctx: Context) -> None:
    assert decide("truncate -s 0 /var/log/syslog", ctx) is Outcome.DENY
    assert decide("truncate -s 0 .git/HEAD", ctx) is Outcome.DENY
    assert decide("truncate -s 0 logs/dev.log", ctx) is Outcome.ALLOW  # same as `: > logs/dev.log`


def test_mv_to_dev_null(ctx: Context, ws: Path) -> None:
    e = one("mv data.db /dev/null", ctx, "fs.destroy")
    assert e.attrs["targets"] == (str(ws / "data.db"),)
    assert e.attrs["operation"] == "move_to_null"
    assert decide("mv data.db /dev/null", ctx) is Outcome.REQUIRE_APPROVAL
    assert decide("mv ~/.bash_history /dev/null", ctx) is Outcome.DENY


def test_cp_dev_null_truncates(ctx: Context) -> None:
    assert "fs.destroy" in kinds("cp /dev/null app.log", ctx)


def test_mv_of_a_critical_path_is_a_deletion(ctx: Context) -> None:
    e = one("mv /etc /tmp/etc", ctx, "fs.delete")
    assert e.attrs["critical"] is True and e.attrs["operation"] == "move"
    assert "fs.delete" not in kinds("mv a.txt b.txt", ctx)
    assert decide("mv ~/Downloads/data.csv ./data/", ctx) is Outcome.ALLOW


# -- permissions ----------------------------------------------------------------------------


def test_chmod_recursive_critical(ctx: Context) -> None:
    e = one("chmod -R 777 /", ctx, "fs.permission")
    assert e.attrs["recursive"] is True and e.attrs["critical"] is True and e.attrs["world_writable"] is True
    assert e.attrs["targets"] == ("/",)
    v = evaluate(policy(), [e])
    assert v.outcome is Outcome.DENY and "fs.permission-critical" in v.rule_ids


@pytest.mark.parametrize(
    "line",
    [
        "chmod +x script.sh",
        "chmod 644 README.md",
        "chmod u+w file",
        "chmod -x bin/tool",
        "chmod 755 build/app",
    ],
)
def test_ordinary_chmod_is_not_flagged(line: str, ctx: Context) -> None:
    assert kinds(line, ctx) == set()


def test_chmod_mode_looking_like_option(ctx: Context, ws: Path) -> None:
    e = one("chmod -R -w build", ctx, "fs.permission")
    assert e.attrs["targets"] == (str(ws / "build"),)


def test_recursive_chmod_inside_workspace_is_allowed(ctx: Context) -> None:
    assert "fs.permission" in kinds("chmod -R u+w build/", ctx)
    assert decide("chmod -R u+w build/", ctx) is Outcome.ALLOW
    assert decide("chmod -R 777 .", ctx) is Outcome.DENY  # the workspace root is critical


def test_chmod_world_writable_system_file(ctx: Context) -> None:
    e = one("chmod 777 /etc/passwd", ctx, "fs.permission")
    assert e.attrs["world_writable"] is True and e.attrs["system"] is True
    assert decide("chmod 777 /etc/passwd", ctx) is Outcome.REQUIRE_APPROVAL
    assert decide("chmod a+rwx /", ctx) is Outcome.DENY


def test_chown(ctx: Context) -> None:
    e = one("chown -R www-data:www-data /var/www", ctx, "fs.permission")
    assert e.attrs["targets"] == ("/var/www",) and e.attrs["recursive"] is True
    assert decide("chown -R $USER ~", ctx) is Outcome.DENY
    assert decide("chown -R dev ~/.npm", ctx) is Outcome.REQUIRE_APPROVAL
    assert decide("chgrp -R staff /usr/local", ctx) is Outcome.REQUIRE_APPROVAL
    assert kinds("chown dev notes.txt", ctx) == set()
    assert kinds("chown --reference=a.txt b.txt", ctx) == set()


def test_setuid(ctx: Context) -> None:
    e = one("chmod u+s /tmp/tool", ctx, "fs.permission")
    assert e.attrs["setuid"] is True
    assert decide("chmod 4755 /tmp/tool", ctx) is Outcome.REQUIRE_APPROVAL


# -- disks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "dd if=/dev/zero of=/dev/sda bs=1M",
        "dd if=image.iso of=/dev/disk2",
        "mkfs.ext4 /dev/sdb1",
        "mkfs -t xfs /dev/nvme0n1p1",
        "mkfs.vfat -F 32 /dev/sdc1",
        "mke2fs -F /dev/sdb",
        "mkswap /dev/sdb2",
        "wipefs -a /dev/sdb",
        "wipefs --all /dev/sdb",
        "fdisk /dev/sda",
        "sfdisk /dev/sda",
        "parted /dev/sda mklabel gpt",
        "parted -s /dev/sda rm 1",
        "gdisk /dev/sda",
        "sgdisk -Z /dev/sda",
        "sgdisk --zap-all /dev/sda",
        "blkdiscard /dev/nvme0n1",
        "cfdisk /dev/sda",
        "diskutil eraseDisk JHFS+ Untitled disk2",
        "diskutil zeroDisk disk3",
        "lvremove -f vg0/data",
        "zpool destroy tank",
        "cryptsetup luksFormat /dev/sdb1",
        "tee /dev/sda",
        "cp disk.img /dev/sdb",
        "mkfs.ext4 $DEV",
    ],
)
def test_host_destroy(line: str, ctx: Context) -> None:
    e = one(line, ctx, "host.destroy")
    assert e.attrs["critical"] is True
    v = evaluate(policy(), run(line, ctx))
    assert v.outcome is Outcome.DENY and v.tier is RiskTier.CRITICAL and "fs.host-destroy" in v.rule_ids


@pytest.mark.parametrize(
    "line",
    [
        "fdisk -l",
        "fdisk -l /dev/sda",
        "sfdisk -l /dev/sda",
        "sfdisk --dump /dev/sda",
        "parted -l",
        "parted /dev/sda print",
        "parted -s /dev/sda unit MB print",
        "gdisk -l /dev/sda",
        "sgdisk -p /dev/sda",
        "wipefs /dev/sda",
        "wipefs -n -a /dev/sda",
        "mkfs.ext4 -L data disk.img",
        "mkfs.ext4 --help",
        "dd if=/dev/zero of=test.img bs=1M count=10",
        "diskutil list",
        "dd if=/dev/sda of=backup.img",
        "zfs list",
        "dd if=x of=/dev/null",
    ],
)
def test_not_host_destroy(line: str, ctx: Context) -> None:
    assert "host.destroy" not in kinds(line, ctx)
    assert decide(line, ctx) is Outcome.ALLOW


# -- writes ---------------------------------------------------------------------------------


def test_tee_system_file(ctx: Context) -> None:
    e = one("tee -a /etc/hosts", ctx, "fs.write")
    assert e.attrs["targets"] == ("/etc/hosts",) and e.attrs["system"] is True
    v = evaluate(policy(), [e])
    assert v.outcome is Outcome.REQUIRE_APPROVAL and v.rule_ids == ("fs.write-system",)


def test_sed_in_place(ctx: Context, ws: Path) -> None:
    e = one("sed -i 's/a/b/' /etc/ssh/sshd_config", ctx, "fs.write")
    assert e.attrs["system"] is True
    assert one("sed -i '' -e 's/a/b/' src/app.py", ctx, "fs.write").attrs["targets"] == (str(ws / "src/app.py"),)
    assert one("sed -i.bak 's/a/b/' x.txt", ctx, "fs.write").attrs["targets"] == (str(ws / "x.txt"),)
    assert one("sed --in-place=.orig -e s/a/b/ y.txt", ctx, "fs.write").attrs["targets"] == (str(ws / "y.txt"),)
    assert kinds("sed -n '1,5p' /etc/hosts", ctx) == set()
    assert kinds("sed 's/a/b/' input.txt", ctx) == set()


def test_cp_and_install_writes(ctx: Context) -> None:
    assert decide("cp hosts /etc/hosts", ctx) is Outcome.REQUIRE_APPROVAL
    assert decide("install -m 755 tool /usr/local/bin/tool", ctx) is Outcome.REQUIRE_APPROVAL
    assert decide("cp .bashrc ~", ctx) is Outcome.REQUIRE_APPROVAL  # ~/.bashrc
    assert decide("cp src/a.py src/b.py", ctx) is Outcome.ALLOW
    assert decide("cp -r assets/ dist/", ctx) is Outcome.ALLOW
    assert decide("ln -sf ../shared/config.js config.js", ctx) is Outcome.ALLOW


def test_ci_config_writes_and_deletes(ctx: Context) -> None:
    e = one("cp ci.yml .github/workflows/ci.yml", ctx, "ci.config_write")
    assert e.attrs["operation"] == "write"
    assert "ci.config_write" in kinds("cp ci.yml .github/workflows/", ctx)
    d = one("rm .github/workflows/deploy.yml", ctx, "ci.config_write")
    assert d.attrs["operation"] == "delete"
    for line in (
        "cp ci.yml .github/workflows/ci.yml",
        "rm .github/workflows/deploy.yml",
        "tee .gitlab-ci.yml",
    ):
        assert decide(line, ctx) is Outcome.REQUIRE_APPROVAL, line


def test_git_rm_and_mv(ctx: Context, ws: Path) -> None:
    e = one("git rm -r build", ctx, "fs.delete")
    assert e.attrs["targets"] == (str(ws / "build"),) and e.attrs["tool"] == "git rm"
    assert kinds("git rm --cached .env", ctx) == set()
    assert kinds("git status", ctx) == set()
    assert "fs.write" in kinds("git mv a.py b.py", ctx)


# -- the pack on ordinary work and on dangerous work --------------------------------------------


BENIGN = [
    "rm -rf node_modules dist build .pytest_cache",
    "rm file.txt",
    "rm -f src/__pycache__/*.pyc",
    "rm -rf .next coverage target/debug",
    "rm -r ./tmp",
    "rm -rf .git/index.lock",
    "find . -name '*.pyc' -delete",
    "find . -type d -name __pycache__ -delete",
    "chmod +x script.sh",
    "chmod -R u+w build/",
    "chmod 600 config/local.json",
    "mv old.py new.py",
    "mv src/a.ts src/lib/",
    "cp -r template/ new-project/",
    "cp README.md docs/",
    "tee output.log",
    "sed -i 's/foo/bar/g' src/main.py",
    "truncate -s 1G test.img",
    "truncate -s 0 logs/dev.log",
    "cp /dev/null app.log",
    "dd if=/dev/urandom of=random.bin bs=1k count=1",
    "ln -s ../lib lib",
    "install -d build/bin",
    "rmdir empty_dir",
    "unlink stale.sock",
    "rm -rf /tmp/pytest-of-u",
    "git rm -r --cached node_modules",
]


@pytest.mark.parametrize("line", BENIGN)
def test_ordinary_work_is_allowed(line: str, ctx: Context) -> None:
    assert decide(line, ctx) is Outcome.ALLOW, run(line, ctx)


DANGEROUS = [
    ("rm -rf /", Outcome.DENY),
    ("rm -rf ~", Outcome.DENY),
    ("rm -rf ~/", Outcome.DENY),
    ("rm -rf /*", Outcome.DENY),
    ("rm -rf .", Outcome.DENY),
    ("rm -rf .git", Outcome.DENY),
    ("rm -rf /usr/local/lib", Outcome.DENY),
    ("rm -rf ~/Documents", Outcome.DENY),
    ("rm -rf /etc/nginx", Outcome.DENY),
    ("rm -rf --no-preserve-root /", Outcome.DENY),
    ("find / -name '*.log' -delete", Outcome.DENY),
    ("find ~ -delete", Outcome.DENY),
    ("shred -u ~/.ssh/known_hosts", Outcome.DENY),
    ("mv ./data /dev/null", Outcome.REQUIRE_APPROVAL),
    ("chmod -R 777 /", Outcome.DENY),
    ("chown -R nobody /etc", Outcome.DENY),
    ("dd if=/dev/zero of=/dev/sda", Outcome.DENY),
    ("mkfs.ext4 /dev/sda1", Outcome.DENY),
    ("wipefs -a /dev/sda", Outcome.DENY),
    ("tee /etc/sudoers.d/agent", Outcome.REQUIRE_APPROVAL),
    ("cp evil.yml .github/workflows/deploy.yml", Outcome.REQUIRE_APPROVAL),
]


@pytest.mark.parametrize(("line", "outcome"), DANGEROUS)
def test_dangerous_work_is_gated(line: str, outcome: Outcome, ctx: Context) -> None:
    v = evaluate(policy(), run(line, ctx))
    assert v.outcome is outcome, (line, run(line, ctx))
    for m in v.deciding:
        assert m.reason and m.alternative


def test_redirect_fields_do_not_confuse(ctx: Context) -> None:
    e = one("rm -rf build", ctx, "fs.delete", redirects=(Redirect(">", "/dev/null"),), via=("sudo",))
    assert e.via == ("sudo",)
    assert e.evidence == "rm -rf build"


def test_parse_args_helper() -> None:
    a = fs.parse_args(("cp", "-t", "dest", "-rv", "--suffix=.bak", "a", "--", "-b"), short_value="t")
    assert a.value("-t") == "dest" and a.has("-r", "-v") and a.value("--suffix") == ".bak"
    assert [w for _, w in a.operands] == ["a", "-b"]


def test_file_ops_is_memoised_per_command(ctx: Context) -> None:
    cmd = cmd_of("rm -rf build", ctx)
    assert fs.file_ops(cmd, ctx) is fs.file_ops(cmd, ctx)
    other = cmd_of("rm -rf build", ctx)
    assert fs.file_ops(other, ctx) is not fs.file_ops(cmd, ctx)


# -- end to end through the shell layer (runs once every domain module exists) ---------------------


def shell(line: str, ctx: Context) -> list[Effect]:
    try:
        from ringfence.analyze import analyze_shell

        return analyze_shell(line, ctx)
    except ModuleNotFoundError as exc:  # a sibling domain not written yet
        pytest.skip(f"shell layer incomplete: {exc}")


@pytest.mark.parametrize(
    ("line", "outcome"),
    [
        ("sudo rm -rf /", Outcome.DENY),
        ("bash -c 'rm -rf ~'", Outcome.DENY),
        ("r''m -r''f /", Outcome.DENY),
        ("find / -exec rm -rf {} \\;", Outcome.DENY),
        ('DIR=; rm -rf "$DIR"/*', Outcome.DENY),
        ("ls | xargs rm -rf", Outcome.REQUIRE_APPROVAL),
        ("cat disk.img > /dev/sda", Outcome.DENY),
        ("echo 'x' | sudo tee -a /etc/hosts", Outcome.REQUIRE_APPROVAL),
        ("echo 'x' >> ~/.bashrc", Outcome.REQUIRE_APPROVAL),
        ("cd build && rm -rf *", Outcome.ALLOW),
        ("rm -rf node_modules && npm install", Outcome.ALLOW),
        ("find . -name '*.pyc' -exec rm {} +", Outcome.ALLOW),
        ("echo 'rm -rf /'", Outcome.ALLOW),
        ("ls 2>/dev/null", Outcome.ALLOW),
        ("make clean > /dev/null 2>&1", Outcome.ALLOW),
    ],
)
def test_end_to_end(line: str, outcome: Outcome, ctx: Context) -> None:
    effects = shell(line, ctx)
    assert evaluate(policy(), effects).outcome is outcome, effects


# -- a repository's .git/config --------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "sed -i 's/hooksPath = .githooks/hooksPath = \\/tmp\\/h/' .git/config",
        "tee -a .git/config",
        "cp /tmp/evil-config .git/config",
        "cp /tmp/dir/config .git",
        "mv /tmp/new .git/config",
        "install -m 644 cfg .git/config",
        "ln -sf /tmp/cfg .git/config",
        "tee vendor/lib/.git/config",
        "cp cfg .git/modules/lib/config",
    ],
)
def test_git_config_writes_need_approval(line: str, ctx: Context) -> None:
    w = one(line, ctx, "fs.write")
    assert w.attrs["git_config"] is True
    v = evaluate(policy(), run(line, ctx))
    assert v.outcome is Outcome.REQUIRE_APPROVAL and v.rule_ids == ("fs.git-config-write",)
    assert v.tier is RiskTier.MEDIUM


@pytest.mark.parametrize(
    "line",
    [
        "sed -n '1,20p' .git/config",
        "cp .git/config /tmp/config.bak",
        "cp config.yaml config/",
        "sed -i 's/a/b/' src/config",
        "tee .gitconfig.example",
        "cp hooks.cfg .github/config",
    ],
)
def test_not_git_config_writes(line: str, ctx: Context) -> None:
    assert all(not e.attrs.get("git_config") for e in run(line, ctx))
    assert decide(line, ctx) is Outcome.ALLOW


@pytest.mark.parametrize(
    ("line", "outcome"),
    [
        ("echo '[core]\\n\\tfsmonitor = sh -c evil' >> .git/config", Outcome.REQUIRE_APPROVAL),
        ("printf '[alias]\\n\\tst = !sh x\\n' > .git/config", Outcome.REQUIRE_APPROVAL),
        ("sudo sed -i 's/x/y/' .git/config", Outcome.REQUIRE_APPROVAL),
        ("cat .git/config", Outcome.ALLOW),
        ("git config user.email dev@example.com", Outcome.ALLOW),
        ("echo x > .git/hooks/pre-push", Outcome.DENY),
    ],
)
def test_git_config_end_to_end(line: str, outcome: Outcome, ctx: Context) -> None:
    effects = shell(line, ctx)
    assert evaluate(policy(), effects).outcome is outcome, effects
