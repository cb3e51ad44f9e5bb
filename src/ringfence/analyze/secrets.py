"""Secrets: reading, writing and sending secrets files, credential stores and the environment.

Sees every command. What a path *is* comes from :func:`files.is_secret_path`
(``.env*`` but not templates, private keys, ``~/.ssh``, ``~/.aws``, ``~/.kube/config``,
registry tokens, ...). This module decides what a command *does* with one:

- ``secrets.read`` — a reading command names it (``cat``, ``less``, ``head``, ``grep PAT
  .env``, ``jq . creds.json``, ``awk PROG f``, ``sed`` without ``-i``, ``cp``/``scp``/
  ``rsync`` from it, ``source``, editors, archivers, ``openssl``/``gpg``); the whole
  environment is dumped (``env``, ``printenv``, ``set``, ``export -p``, ``ps e``,
  ``/proc/*/environ``: a separate effect with ``environment_dump``, and ``other_process``
  when it is not the agent's own environment); a CLI prints a credential
  (``gh auth token``, ``gcloud auth print-access-token``, ``aws configure get …secret…``,
  ``kubectl get secret -o yaml``, ``vault kv get``, ``sops -d``, ...); a secret variable
  is printed (``echo $GITHUB_TOKEN``, ``printf '%s' "$AWS_SECRET_ACCESS_KEY"``,
  ``printenv NPM_TOKEN``, ``declare -p DB_PASSWORD``: attribute ``variable``, see
  :func:`is_secret_variable`) unless the output goes to a file. Passing the variable to
  a program (``curl -H "Authorization: Bearer $GITHUB_TOKEN"``) is ordinary use.
- ``secrets.write`` — a command writes, moves, truncates or deletes one (``cp``/``mv``/
  ``tee``/``sed -i``/``install``/``ln``/``dd``/``rm`` via :func:`fs.file_ops`,
  ``curl -o .env``, ``gpg -o``), or generates a key outside the workspace
  (``ssh-keygen -f ~/.ssh/id_x``, ``openssl … -keyout``).
- ``secrets.exfil`` — a command sends one over the network (``curl -d @.env``,
  ``-F f=@key``, ``-T``, ``wget --post-file``, ``scp``/``rsync`` to a host, ``nc host < .env``,
  httpie ``@file``, ``aws s3 cp`` to a bucket, ``rclone``, ``gh gist create``, mail
  attachments, ``sftp`` batches, ``docker cp``/``kubectl cp`` into a container or pod);
  attribute ``destination``. (``git add .env`` is reported by the git domain, with
  ``destination="git"``.)

Commands that merely *use* a secret the intended way (``docker run --env-file .env``,
``node --env-file=.env``, ``ssh -i key``, ``curl --cert``) are not flagged. A pipeline
such as ``cat .env | curl -d @- URL`` is a ``secrets.read`` here (the ``cat``); correlating
it with the upload is left to the shell layer, which sees the pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ringfence.analyze import files, fs
from ringfence.analyze.command import Command
from ringfence.analyze.context import Context
from ringfence.analyze.files import words
from ringfence.analyze.fs import Target, make_target, parse_args
from ringfence.analyze.registry import effect
from ringfence.model import Effect

COMMANDS: frozenset[str] | None = None

_READERS = frozenset(
    words("""
        cat tac nl less more most head tail bat batcat strings xxd od hexdump hd base64 base32 basenc
        uuencode cut sort uniq paste fold column iconv pr fmt rev expand unexpand diff cmp comm sdiff
        colordiff vimdiff diff3 vim vi nvim view nano emacs code subl micro pico gedit kate hx helix
        mcedit tar zip 7z 7za gzip bzip2 xz zstd look split xclip xsel wl-copy zcat bzcat xzcat zless
        zmore dos2unix
    """)
)
_PATTERN_FIRST = frozenset(
    words("""
        grep egrep fgrep zgrep rg ag ack ack-grep
    """)
)
_AWKS = frozenset({"awk", "gawk", "mawk", "nawk"})
_JQS = frozenset({"jq", "gojq", "jaq", "yq", "dasel"})
_SOURCES = frozenset({"source", "."})
_GPGS = frozenset({"gpg", "gpg2"})
_STDIN_SENDERS = frozenset(
    words("""
        nc ncat netcat socat telnet ssh sendmail mail mailx mutt curl wget http https xh xhs
    """)
)
_URL_RE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_REMOTE_RE = re.compile(r"^(?:[A-Za-z0-9_.+-]+@)?[A-Za-z0-9_.-]+::?(?!//)")


@dataclass(slots=True)
class _Found:
    """What one command does with secrets, gathered before effects are built."""

    reads: list[str] = field(default_factory=list)
    writes: list[tuple[str, str]] = field(default_factory=list)  # (path, operation)
    exfil: list[str] = field(default_factory=list)
    destination: str | None = None
    dumps: list[str] = field(default_factory=list)  # environments printed
    other_process: bool = False  # ...of another process (``/proc/1/environ``, ``ps e``)
    printed: list[str] = field(default_factory=list)  # credential sources printed
    variables: list[str] = field(default_factory=list)  # secret variables printed

    def read(self, t: Target | None, ctx: Context) -> None:
        if t is None or t.path is None or not files.is_secret_path(t.path, ctx):
            return
        if _is_environ(t.path):
            self.dump(t.path, other_process=t.path.split("/")[2] not in ("self", "thread-self"))
        else:
            self.reads.append(t.path)

    def dump(self, source: str, *, other_process: bool) -> None:
        self.dumps.append(source)
        self.other_process = self.other_process or other_process

    def write(self, t: Target | None, ctx: Context, operation: str) -> None:
        if t is not None and t.path is not None and files.is_secret_path(t.path, ctx, write=True):
            self.writes.append((t.path, operation))

    def send(self, t: Target | None, ctx: Context, destination: str | None) -> None:
        if t is None or t.path is None:
            return
        if files.is_secret_path(t.path, ctx) or files.contains_secrets(t.path, ctx):
            self.exfil.append(t.path)
            if self.destination is None:
                self.destination = destination


def _is_environ(path: str) -> bool:
    parts = path.split("/")
    return len(parts) == 4 and parts[1] == "proc" and parts[3] == "environ"


def _t(cmd: Command, ctx: Context, word: str, index: int = -1) -> Target | None:
    if not word or word == "-":
        return None
    return make_target(cmd, ctx, index, word)


def classify(cmd: Command, ctx: Context) -> Iterator[Effect]:
    if not cmd.argv:
        return
    found = _Found()
    _from_file_ops(cmd, ctx, found)
    name = cmd.name
    handler = _HANDLERS.get(name)
    if handler is not None:
        handler(cmd, ctx, found)
    elif name in _READERS:
        for i, w in parse_args(cmd.argv).operands:
            found.read(_t(cmd, ctx, w, i), ctx)
    if name in _STDIN_SENDERS or (name == "openssl" and "s_client" in cmd.args):
        _stdin_upload(cmd, ctx, found)
    yield from _effects(cmd, found)


def _effects(cmd: Command, found: _Found) -> Iterator[Effect]:
    tool = cmd.name
    if found.exfil:
        yield effect("secrets.exfil", cmd, targets=_uniq(found.exfil), destination=found.destination, tool=tool)
    if found.reads or found.printed:
        yield effect(
            "secrets.read",
            cmd,
            targets=_uniq([*found.reads, *found.printed]),
            environment_dump=False,
            operation="read" if found.reads else "credential_print",
            tool=tool,
        )
    if found.variables:
        names = _uniq(found.variables)
        yield effect(
            "secrets.read",
            cmd,
            targets=tuple("$" + n for n in names),
            variable=names[0],
            environment_dump=False,
            operation="variable_print",
            tool=tool,
        )
    if found.dumps:
        yield effect(
            "secrets.read",
            cmd,
            targets=_uniq(found.dumps),
            environment_dump=True,
            other_process=found.other_process,
            operation="environment_dump",
            tool=tool,
        )
    if found.writes:
        yield effect(
            "secrets.write",
            cmd,
            targets=_uniq([p for p, _ in found.writes]),
            operation=found.writes[0][1],
            tool=tool,
        )


def _uniq(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _from_file_ops(cmd: Command, ctx: Context, found: _Found) -> None:
    ops = fs.file_ops(cmd, ctx)
    for op, t in ops.touched():
        if op != "permission":
            found.write(t, ctx, op)
    for t in ops.reads:
        found.read(t, ctx)


def _stdin_upload(cmd: Command, ctx: Context, found: _Found) -> None:
    """``nc host 9000 < .env``, ``curl -T - URL < key.pem``: a secret on a sender's stdin."""
    for r in cmd.redirects:
        if r.op in ("<", "<>") and r.fd in (None, 0):
            found.send(_t(cmd, ctx, r.target), ctx, _first_host(cmd))


def _first_host(cmd: Command) -> str | None:
    for a in cmd.args:
        if not a.startswith("-") and not a.isdigit():
            return a
    return None


# -- readers ------------------------------------------------------------------------------


_PATTERN_SHORT_VALUE = {"rg": "efmABCgtTMjErd", "ag": "ABCmGg", "ack": "ABCmg", "ack-grep": "ABCmg"}


def _pattern_first(cmd: Command, ctx: Context, found: _Found, start: int = 1) -> None:
    a = parse_args(
        cmd.argv,
        short_value=_PATTERN_SHORT_VALUE.get(cmd.name, "efmABCdD"),
        start=start,
        long_value=frozenset(
            words("""
                --regexp --file --max-count --after-context --before-context --context --glob --iglob
                --type --type-not --max-depth --replace --encoding --threads --max-columns --pre
            """)
        ),
    )
    for opt in ("-f", "--file"):
        for v in a.values.get(opt, []):
            found.read(_t(cmd, ctx, v), ctx)
    operands = a.operands
    listing = a.has("--files", "--type-list")
    if not listing and not a.has("-e", "--regexp", "-f", "--file"):
        operands = operands[1:]
    for i, w in operands:
        found.read(_t(cmd, ctx, w, i), ctx)


def _awk(cmd: Command, ctx: Context, found: _Found) -> None:
    a = parse_args(cmd.argv, short_value="fFv", long_value=frozenset({"--file", "--field-separator", "--assign"}))
    operands = a.operands
    if a.has("-f", "--file"):
        for v in a.values.get("-f", []) + a.values.get("--file", []):
            found.read(_t(cmd, ctx, v), ctx)
    else:
        operands = operands[1:]
    for i, w in operands:
        if "=" not in w:  # var=value operands are assignments
            found.read(_t(cmd, ctx, w, i), ctx)


_JQ_TWO = frozenset({"--arg", "--argjson", "--slurpfile", "--rawfile"})
_JQ_ONE = frozenset(
    words("""
        --indent -L --from-file -f -o --output-format -p --input-format -I --output --front-matter
    """)
)


def _jq(cmd: Command, ctx: Context, found: _Found) -> None:
    argv = cmd.argv
    i, n = 1, len(argv)
    if cmd.name == "yq" and n > 1 and argv[1] in ("eval", "e", "eval-all", "ea"):
        i = 2
    operands: list[tuple[int, str]] = []
    have_filter = False
    while i < n:
        a = argv[i]
        if a in ("--args", "--jsonargs"):
            break
        if a in _JQ_TWO and i + 2 < n:
            if a in ("--slurpfile", "--rawfile"):
                found.read(_t(cmd, ctx, argv[i + 2], i + 2), ctx)
            i += 3
            continue
        if a in _JQ_ONE and i + 1 < n:
            if a in ("-f", "--from-file"):
                have_filter = True
            i += 2
            continue
        if not a.startswith("-") or a == "-":
            operands.append((i, a))
        i += 1
    for k, w in operands[0 if have_filter else 1 :]:
        found.read(_t(cmd, ctx, w, k), ctx)


def _source(cmd: Command, ctx: Context, found: _Found) -> None:
    if len(cmd.argv) > 1:
        found.read(_t(cmd, ctx, cmd.argv[1], 1), ctx)


def _generated(cmd: Command, ctx: Context, found: _Found, t: Target | None) -> None:
    """A key written by a generator counts when it lands outside the workspace (or in ``.env``)."""
    if t is None or t.path is None:
        return
    if files.inside_workspace(t.path, ctx) and not t.path.rsplit("/", 1)[-1].startswith(".env"):
        return
    found.write(t, ctx, "generate")


_OPENSSL_READ = ("-in", "-key", "-inkey", "-CAkey", "-signkey", "-kfile", "-passin", "-prvkey")
_OPENSSL_WRITE = ("-out", "-keyout")


def _openssl(cmd: Command, ctx: Context, found: _Found) -> None:
    args = cmd.args
    for k, a in enumerate(args[:-1]):
        value = args[k + 1]
        if a == "-passin" and value.startswith("file:"):
            found.read(_t(cmd, ctx, value[5:]), ctx)
        elif a in _OPENSSL_READ:
            found.read(_t(cmd, ctx, value, k + 2), ctx)
        elif a in _OPENSSL_WRITE:
            _generated(cmd, ctx, found, _t(cmd, ctx, value, k + 2))


def _ssh_keygen(cmd: Command, ctx: Context, found: _Found) -> None:
    a = parse_args(cmd.argv, short_value="fNtbCFROnPIsVZaDEGJjMSrUwWz")
    path = a.value("-f")
    if a.has("-y"):
        found.read(_t(cmd, ctx, path or ""), ctx)
        return
    if a.has("-l", "-B", "-F", "-R", "-H", "-Q", "-r", "-e", "-i", "-D", "-L", "-k", "-A", "-Y"):
        return
    if path is None:
        kind = (a.value("-t") or "ed25519").lower()
        path = f"~/.ssh/id_{kind}"
    _generated(cmd, ctx, found, _t(cmd, ctx, path))


def _gpg(cmd: Command, ctx: Context, found: _Found) -> None:
    a = parse_args(
        cmd.argv,
        short_value="rRuoz",
        long_value=frozenset(
            words("""
                --recipient --local-user --output --homedir --default-key --passphrase --passphrase-file
                --trust-model --keyring --cipher-algo --compress-algo --digest-algo --keyserver
            """)
        ),
    )
    if a.has("--export-secret-keys", "--export-secret-subkeys", "--export-secret-key"):
        found.printed.append("gpg secret keys")
    for v in a.values.get("--passphrase-file", []):
        found.read(_t(cmd, ctx, v), ctx)
    out = a.value("-o", "--output")
    if out is not None:
        found.write(_t(cmd, ctx, out), ctx, "write")
    for i, w in a.operands:
        found.read(_t(cmd, ctx, w, i), ctx)


# -- senders ------------------------------------------------------------------------------

_CURL_SHORT_VALUE = "dFTHouXAebxwEmrKUzCYytQPDc"
_CURL_LONG_VALUE = frozenset(
    words("""
        --data --data-ascii --data-binary --data-raw --data-urlencode --json --form --form-string
        --upload-file --header --output --user --request --user-agent --referer --cookie --cookie-jar
        --proxy --write-out --cert --key --cacert --capath --max-time --connect-timeout --retry
        --retry-delay --retry-max-time --range --config --proxy-user --resolve --connect-to --url
        --time-cond --continue-at --limit-rate --max-filesize --interface --dns-servers --oauth2-bearer
        --pass --cert-type --key-type --output-dir --trace --trace-ascii --stderr --dump-header
        --aws-sigv4 --variable --telnet-option --quote --mail-from --mail-rcpt --ftp-port --netrc-file
        --unix-socket --noproxy --proto --request-target --socks5 --socks5-hostname --ciphers
        --speed-limit --speed-time --max-redirs --expect100-timeout
    """)
)


def _data_file(value: str) -> str | None:
    """The file an upload option reads: ``@f``, ``name@f``, ``name=@f``, ``name=<f``."""
    if value.startswith("@"):
        return value[1:].split(";", 1)[0]
    for marker in ("=@", "=<"):
        if marker in value:
            return value.split(marker, 1)[1].split(";", 1)[0]
    head, at, rest = value.partition("@")
    if at and head and "=" not in head and re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+", head):
        return rest
    return None


def _curl(cmd: Command, ctx: Context, found: _Found) -> None:
    a = parse_args(cmd.argv, short_value=_CURL_SHORT_VALUE, long_value=_CURL_LONG_VALUE)
    dest = a.value("--url") or next((w for _, w in a.operands), None)
    for opt in ("-d", "--data", "--data-ascii", "--data-binary", "--json", "-H", "--header"):
        for v in a.values.get(opt, []):
            if v.startswith("@"):
                found.send(_t(cmd, ctx, v[1:]), ctx, dest)
    for opt in ("--data-urlencode", "-F", "--form"):
        for v in a.values.get(opt, []):
            path = _data_file(v)
            if path:
                found.send(_t(cmd, ctx, path), ctx, dest)
    for v in a.values.get("-T", []) + a.values.get("--upload-file", []):
        if v not in ("-", "."):
            found.send(_t(cmd, ctx, v), ctx, dest)
    for v in a.values.get("-o", []) + a.values.get("--output", []):
        found.write(_t(cmd, ctx, v), ctx, "download")


def _wget(cmd: Command, ctx: Context, found: _Found) -> None:
    a = parse_args(
        cmd.argv,
        short_value="OoaiPUeTtwlQDA",
        long_value=frozenset(
            words("""
                --post-file --body-file --output-document --output-file --header --user-agent
                --directory-prefix --method --input-file
            """)
        ),
    )
    dest = next((w for _, w in a.operands), None)
    for opt in ("--post-file", "--body-file"):
        for v in a.values.get(opt, []):
            found.send(_t(cmd, ctx, v), ctx, dest)
    for v in a.values.get("-O", []) + a.values.get("--output-document", []):
        found.write(_t(cmd, ctx, v), ctx, "download")


_HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


def _httpie(cmd: Command, ctx: Context, found: _Found) -> None:
    a = parse_args(
        cmd.argv,
        short_value="aAov",
        long_value=frozenset({"--auth", "--output", "--session", "--auth-type", "--verify", "--cert"}),
    )
    words = [w for _, w in a.operands]
    if words and words[0].upper() in _HTTP_METHODS:
        words = words[1:]
    if not words:
        return
    dest, items = words[0], words[1:]
    for item in items:
        path = _data_file(item)
        if path:
            found.send(_t(cmd, ctx, path), ctx, dest)


def _is_remote(word: str) -> bool:
    if _URL_RE.match(word):
        return True
    if word.startswith(("/", ".", "~")):
        return False
    return bool(_REMOTE_RE.match(word))


def _copy_remote(cmd: Command, ctx: Context, found: _Found, short_value: str, long_value: frozenset[str]) -> None:
    """``scp``/``rsync``: local secrets sent to a host, or a host's file written onto a secret."""
    a = parse_args(cmd.argv, short_value=short_value, long_value=long_value)
    if len(a.operands) < 2:
        return
    *sources, (di, dest) = a.operands
    dest_remote = _is_remote(dest)
    for i, w in sources:
        if _is_remote(w):
            if not dest_remote:
                found.write(_t(cmd, ctx, dest, di), ctx, "download")
            continue
        t = _t(cmd, ctx, w, i)
        if dest_remote:
            found.send(t, ctx, dest)
        else:
            found.read(t, ctx)
            found.write(_t(cmd, ctx, dest, di), ctx, "write")


def _scp(cmd: Command, ctx: Context, found: _Found) -> None:
    _copy_remote(cmd, ctx, found, "cFiJlmoPSXD", frozenset())


_RSYNC_LONG_VALUE = frozenset(
    words("""
        --rsh --filter --exclude --include --exclude-from --include-from --files-from --password-file
        --log-file --chmod --chown --rsync-path --backup-dir --suffix --port --timeout --bwlimit
        --compare-dest --copy-dest --link-dest --partial-dir --max-size --min-size --temp-dir
        --block-size --remote-option --out-format --info --debug
    """)
)


def _rsync(cmd: Command, ctx: Context, found: _Found) -> None:
    _copy_remote(cmd, ctx, found, "efBTM", _RSYNC_LONG_VALUE)


def _mail(cmd: Command, ctx: Context, found: _Found) -> None:
    a = parse_args(cmd.argv, short_value="aAsbcrSqe" if cmd.name != "mutt" else "aAsbcFeiH")
    dest = next((w for _, w in a.operands), None)
    for opt in ("-a", "-A"):
        for v in a.values.get(opt, []):
            found.send(_t(cmd, ctx, v), ctx, dest)


_SOCAT_FILE_RE = re.compile(r"^(?:FILE|OPEN|GOPEN|CREATE|READ):([^,]+)", re.IGNORECASE)
_SOCAT_NET_RE = re.compile(r"^(?:TCP|TCP4|TCP6|UDP|UDP4|UDP6|SSL|OPENSSL|SCTP|SOCKS4A?|PROXY)[:-]", re.IGNORECASE)


def _socat(cmd: Command, ctx: Context, found: _Found) -> None:
    words = [w for w in cmd.args if not w.startswith("-") or w == "-"]
    net = next((w for w in words if _SOCAT_NET_RE.match(w)), None)
    if net is None:
        return
    for w in words:
        m = _SOCAT_FILE_RE.match(w)
        if m:
            found.send(_t(cmd, ctx, m.group(1)), ctx, net)


_PUT_RE = re.compile(r"^\s*(?:m?put|reput)\s+(?:-\w+\s+)*(\S+)", re.MULTILINE)


def _ftp_like(cmd: Command, ctx: Context, found: _Found) -> None:
    """``sftp``/``ftp``/``lftp``: ``put FILE`` in a batch on stdin or in ``-e``/``-c``."""
    texts = [cmd.stdin or ""]
    args = cmd.args
    texts += [args[k + 1] for k, a in enumerate(args[:-1]) if a in ("-e", "-c")]
    dest = next((w for w in args if not w.startswith("-") and ("@" in w or "." in w)), None)
    for text in texts:
        for m in _PUT_RE.finditer(text):
            found.send(_t(cmd, ctx, m.group(1)), ctx, dest)


_AWS_FLAGS = frozenset(
    words("""
        --recursive --dryrun --quiet --no-progress --follow-symlinks --no-follow-symlinks
        --only-show-errors --delete --exact-timestamps --size-only --no-guess-mime-type
        --force-glacier-transfer --ignore-glacier-warnings --no-paginate --debug --no-verify-ssl
        --no-sign-request --no-cli-pager
    """)
)


def _positionals(words: tuple[str, ...], flags: frozenset[str]) -> list[str]:
    """Positional words of an ``aws``/``gsutil``-style tail where every other ``--opt`` takes a value."""
    out: list[str] = []
    skip = False
    for w in words:
        if skip:
            skip = False
        elif w.startswith("--"):
            skip = "=" not in w and w not in flags
        elif w.startswith("-") and len(w) > 1:
            continue
        else:
            out.append(w)
    return out


def _cloud_copy(cmd: Command, ctx: Context, found: _Found, verb_at: int) -> None:
    pos = _positionals(cmd.argv[verb_at + 1 :], _AWS_FLAGS)
    if len(pos) < 2:
        return
    *sources, dest = pos
    if _is_remote(dest):
        for s in sources:
            if not _is_remote(s):
                found.send(_t(cmd, ctx, s), ctx, dest)
    else:
        if any(_is_remote(s) for s in sources):
            found.write(_t(cmd, ctx, dest), ctx, "download")
        for s in sources:
            found.read(_t(cmd, ctx, s), ctx)


def _index_of(argv: tuple[str, ...], *path: str) -> int | None:
    """Index of the last word of the subcommand ``path`` (``s3 cp``), options skipped."""
    k = 0
    for i, w in enumerate(argv[1:], start=1):
        if w == path[k]:
            k += 1
            if k == len(path):
                return i
        elif not w.startswith("-") and k > 0:
            return None
    return None


def _aws(cmd: Command, ctx: Context, found: _Found) -> None:
    argv = cmd.argv
    for verb in ("cp", "mv", "sync"):
        at = _index_of(argv, "s3", verb)
        if at is not None:
            _cloud_copy(cmd, ctx, found, at)
            return
    args = cmd.args
    if "put-object" in args:
        for k, a in enumerate(args[:-1]):
            if a == "--body":
                found.send(_t(cmd, ctx, args[k + 1]), ctx, "s3")
    _aws_prints(cmd, found)


def _gsutil(cmd: Command, ctx: Context, found: _Found) -> None:
    for verb in ("cp", "mv", "rsync"):
        at = _index_of(cmd.argv, verb)
        if at is not None:
            _cloud_copy(cmd, ctx, found, at)
            return


def _rclone(cmd: Command, ctx: Context, found: _Found) -> None:
    for verb in ("copy", "copyto", "move", "moveto", "sync", "copyurl"):
        at = _index_of(cmd.argv, verb)
        if at is not None:
            _cloud_copy(cmd, ctx, found, at)
            return


def _gh(cmd: Command, ctx: Context, found: _Found) -> None:
    args = cmd.args
    if args[:2] in (("gist", "create"), ("gist", "edit")):
        for i, w in parse_args(cmd.argv, short_value="dfa", start=3).operands:
            found.send(_t(cmd, ctx, w, i), ctx, "gist")
    elif args[:2] == ("release", "upload"):
        for i, w in parse_args(cmd.argv, start=3).operands[1:]:
            found.send(_t(cmd, ctx, w.split("#", 1)[0], i), ctx, "github release")
    elif args[:1] == ("api",):
        a = parse_args(
            cmd.argv,
            short_value="FfHXpq",
            long_value=frozenset({"--input", "--field", "--raw-field"}),
            start=2,
        )
        for v in a.values.get("--input", []):
            found.send(_t(cmd, ctx, v), ctx, "github api")
        for v in a.values.get("-F", []) + a.values.get("--field", []):
            path = _data_file(v)
            if path:
                found.send(_t(cmd, ctx, path), ctx, "github api")
    elif args[:2] == ("auth", "token") or (args[:2] == ("auth", "status") and ("-t" in args or "--show-token" in args)):
        found.printed.append("gh auth token")


def _az(cmd: Command, ctx: Context, found: _Found) -> None:
    args = cmd.args
    if args[:3] == ("storage", "blob", "upload"):
        for k, a in enumerate(args[:-1]):
            if a in ("--file", "-f"):
                found.send(_t(cmd, ctx, args[k + 1]), ctx, "azure storage")
    elif args[:2] == ("account", "get-access-token") or args[:3] in (
        ("keyvault", "secret", "show"),
        ("keyvault", "secret", "download"),
    ):
        found.printed.append("az " + " ".join(args[:3]))


# -- credential printers and environment dumps ----------------------------------------------


def _aws_prints(cmd: Command, found: _Found) -> None:
    args = cmd.args
    at = _index_of(cmd.argv, "configure", "get")
    if at is not None:
        key = next((w for w in cmd.argv[at + 1 :] if not w.startswith("-")), "")
        if re.search(r"secret|session_token|access_key", key, re.IGNORECASE):
            found.printed.append(f"aws configure {key}")
    elif _index_of(cmd.argv, "configure", "export-credentials") is not None:
        found.printed.append("aws credentials")
    elif _index_of(cmd.argv, "secretsmanager", "get-secret-value") is not None:
        found.printed.append("aws secretsmanager")
    elif any(a.startswith("get-parameter") for a in args) and "--with-decryption" in args:
        found.printed.append("aws ssm parameter")


def _gcloud(cmd: Command, ctx: Context, found: _Found) -> None:
    args = cmd.args
    if any(a in ("print-access-token", "print-identity-token", "print-refresh-token") for a in args):
        found.printed.append("gcloud auth token")
    elif _index_of(cmd.argv, "secrets", "versions", "access") is not None:
        found.printed.append("gcloud secret")
    elif _index_of(cmd.argv, "storage", "cp") is not None:
        _gsutil(Command(argv=("gsutil", *args[1:]), cwd=cmd.cwd), ctx, found)


_KUBECTL_GLOBAL_VALUE = frozenset(
    words("""
        -n --namespace --context --kubeconfig --cluster --user -s --server --token --as --as-group
        --request-timeout --cache-dir -v --certificate-authority --client-certificate --client-key
    """)
)
_KUBE_SECRET_OUTPUT = re.compile(r"^(yaml|json|jsonpath.*|go-template.*|template.*|custom-columns.*)$")


def _kubectl(cmd: Command, ctx: Context, found: _Found) -> None:
    args = cmd.args
    at = _subcommand(cmd.argv, _KUBECTL_GLOBAL_VALUE)
    if at is not None and cmd.argv[at] == "cp":
        _container_copy(cmd, ctx, found, at)
    elif "get" in args:
        rest = args[args.index("get") + 1 :]
        resource = next((w for w in rest if not w.startswith("-")), "")
        is_secret = resource.split("/", 1)[0].split(",")[0] in ("secret", "secrets")
        output = None
        for k, a in enumerate(args):
            if a in ("-o", "--output") and k + 1 < len(args):
                output = args[k + 1]
            elif a.startswith(("-o=", "--output=")):
                output = a.split("=", 1)[1]
            elif a.startswith("-o") and len(a) > 2:
                output = a[2:]
        if is_secret and output is not None and _KUBE_SECRET_OUTPUT.match(output):
            found.printed.append(f"kubernetes {resource}")
    elif "view-secret" in args or (
        _index_of(cmd.argv, "config", "view") is not None and ("--raw" in args or "--flatten" in args)
    ):
        found.printed.append("kubernetes credentials")


def _vault(cmd: Command, ctx: Context, found: _Found) -> None:
    args = [a for a in cmd.args if not a.startswith("-")]
    if args[:2] == ["kv", "get"] or args[:1] == ["read"] or args[:2] == ["print", "token"]:
        found.printed.append("vault " + " ".join(args[:3]))


def _simple_printer(cmd: Command, ctx: Context, found: _Found) -> None:
    args = cmd.args
    name = cmd.name
    words = [a for a in args if not a.startswith("-")]
    hit = (
        (name == "op" and words[:1] == ["read"])
        or (name == "op" and words[:2] == ["item", "get"])
        or (name == "pass" and (not words or words[0] == "show" or words[0] not in _PASS_SUBCOMMANDS))
        or (name == "sops" and ("-d" in args or "--decrypt" in args or words[:1] == ["decrypt"]))
        or (name == "doppler" and words[:1] == ["secrets"] and words[1:2] != ["set"])
        or (name == "heroku" and bool(words) and words[0] in ("config", "config:get"))
        or (
            name == "security"
            and bool(words)
            and (
                words[0] == "dump-keychain"
                or (words[0] in ("find-generic-password", "find-internet-password") and ("-w" in args or "-g" in args))
            )
        )
    )
    if hit and not (name == "pass" and not args):
        found.printed.append(f"{name} {' '.join(words[:2])}".strip())


_PASS_SUBCOMMANDS = frozenset(
    words("""
        ls list find search grep insert add edit generate rm remove delete mv rename cp copy git init
        help version otp
    """)
)


def _git(cmd: Command, ctx: Context, found: _Found) -> None:
    if cmd.args[:2] == ("credential", "fill"):
        found.printed.append("git credential")
    elif cmd.args[:1] == ("grep",):
        _pattern_first(cmd, ctx, found, start=2)


def _env_dump(cmd: Command, ctx: Context, found: _Found) -> None:
    name, args = cmd.name, cmd.args
    if name in ("env", "printenv") and all(a in ("-0", "--null") for a in args):
        found.dump("environment", other_process=False)
    elif name == "printenv":
        found.variables.extend(a for a in args if not a.startswith("-") and is_secret_variable(a))
    elif _dumps_variables(name, args):
        found.dump("environment", other_process=False)
    elif name in ("declare", "typeset") and any(a.startswith("-") and "p" in a for a in args):
        found.variables.extend(a for a in args if not a.startswith("-") and is_secret_variable(a))


def _dumps_variables(name: str, args: tuple[str, ...]) -> bool:
    """``set``, ``export``/``export -p``, ``declare -x``/``-p`` with no names."""
    if name == "set":
        return not args
    if name == "export":
        return all(a == "-p" for a in args)
    return bool(args) and all(a.startswith("-") and set(a[1:]) <= set("xp") for a in args)


# -- secret variables ----------------------------------------------------------------------

# A word of the name that makes the variable a secret when the name ends in it
# (GITHUB_TOKEN, PGPASSWORD, CLIENTSECRET; not MAX_TOKENS or TOKENIZERS_PARALLELISM).
_SECRET_ENDINGS = (
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "APIKEY",
    "ACCESSKEY",
    "SECRETKEY",
    "PRIVATEKEY",
    "CREDENTIAL",
    "CREDENTIALS",
    "CREDS",
)
# ...words that are secret only as a whole word (CR_PAT, DB_PASS, MYSQL_PWD, BASIC_AUTH).
_SECRET_WORDS = frozenset({"PAT", "PASS", "SECRETS"})
# A last word that makes the variable *about* a secret rather than the secret itself:
# TOKEN_COUNT, API_KEY_PATH, AWS_ACCESS_KEY_ID, SSH_AUTH_SOCK, SECRET_NAME.
_ABOUT_A_SECRET = frozenset(
    words("""
        COUNT COUNTS NUM NUMBER LIMIT LIMITS MAX MIN LEN LENGTH SIZE TYPE TYPES KIND NAME NAMES ID IDS
        PATH PATHS FILE FILES DIR DIRECTORY URL URI ENDPOINT HOST HOSTS PORT USER USERNAME ENABLED
        DISABLED REQUIRED MODE EXPIRY EXPIRES EXPIRATION TTL TIMEOUT ALGORITHM ALG VERSION FORMAT
        PREFIX SOCK SOCKET METHOD PROVIDER SCOPE SCOPES AUDIENCE ISSUER LOCATION REGION DOMAIN ARN
        FINGERPRINT HELPER COMMAND CMD PROGRAM LABEL STORE BACKEND
    """)
)
# Qualifiers of *_KEY that name something other than a credential (SORT_KEY, S3_KEY).
_NOT_CREDENTIAL_KEYS = frozenset(
    words("""
        SORT PARTITION CACHE PRIMARY FOREIGN HASH RANGE IDEMPOTENCY LOOKUP ROUTING SHORTCUT HOT MAP
        DICT UNIQUE COMPOSITE S3 OBJECT FILE GROUP ROW COLUMN INDEX REDIS
    """)
)
# Public by definition (NEXT_PUBLIC_*, publishable keys are shipped to browsers).
_PUBLIC_WORDS = frozenset({"PUBLIC", "PUBLISHABLE", "PUB"})
# A path to a credentials file, and the working directories.
_NOT_SECRET_NAMES = frozenset({"GOOGLE_APPLICATION_CREDENTIALS", "PWD", "OLDPWD"})


def is_secret_variable(name: str) -> bool:
    """Whether an environment variable's name says it holds a credential.

    ``GITHUB_TOKEN``, ``AWS_SECRET_ACCESS_KEY``, ``OPENAI_API_KEY``, ``PGPASSWORD``,
    ``DB_PASS``, ``MYSQL_PWD``, ``CR_PAT``, ``BASIC_AUTH``, ``STRIPE_KEY`` are;
    ``TOKEN_COUNT``, ``MAX_TOKENS``, ``AWS_ACCESS_KEY_ID``, ``SSH_AUTH_SOCK``,
    ``API_KEY_PATH``, ``GIT_AUTHOR_NAME``, ``NEXT_PUBLIC_STRIPE_KEY`` are not.
    """
    upper = name.upper()
    if upper in _NOT_SECRET_NAMES:
        return False
    parts = [p for p in upper.split("_") if p]
    if not parts or any(p in _PUBLIC_WORDS for p in parts):
        return False
    if len(parts) > 1 and parts[-1] in _ABOUT_A_SECRET:
        return False
    last = len(parts) - 1
    for i, part in enumerate(parts):
        if part.endswith(_SECRET_ENDINGS) or part in _SECRET_WORDS:
            return True
        if len(parts) > 1 and part == "PWD":
            return True
        if i == last and part == "AUTH":
            return True
        if i == last and i > 0 and part == "KEY" and parts[i - 1] not in _NOT_CREDENTIAL_KEYS:
            return True
    return False


_VAR_REF_RE = re.compile(r"\$(?:\{([^{}]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PEEK_RE = re.compile(r":\s*\d+\s*:\s*(\d+)")  # ${NAME:0:4}, a short prefix


def _printed_variables(word: str) -> Iterator[str]:
    """Variables whose value ``word`` prints: ``$X``, ``${X}``, ``${X%suffix}``, ...

    Not ``${#X}`` (its length), ``${X:+set}`` (a fixed word when set), ``${!X}``
    (indirection) or ``${X:0:4}`` (a few characters, to tell tokens apart).
    """
    for m in _VAR_REF_RE.finditer(word):
        plain, braced = m.group(2), m.group(1)
        if plain is not None:
            yield plain
            continue
        inner = braced or ""
        n = _NAME_RE.match(inner)
        if n is None:
            continue  # ${#X}, ${!X}, ${1}
        rest = inner[n.end() :]
        if rest.startswith((":+", "+")):
            continue
        peek = _PEEK_RE.fullmatch(rest)
        if peek is not None and int(peek.group(1)) <= 8:
            continue
        yield n.group(0)


_PRINTERS = frozenset({"echo", "printf", "print"})
_STDOUT_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>"})
_TERMINALS = frozenset({"/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/fd/1", "/dev/fd/2"})


def _output_to_file(cmd: Command) -> bool:
    """Whether the command's standard output goes to a file rather than to the caller."""
    return any(r.op in _STDOUT_REDIRECTS and r.fd in (None, 1) and r.target not in _TERMINALS for r in cmd.redirects)


def _printer(cmd: Command, ctx: Context, found: _Found) -> None:
    """``echo $GITHUB_TOKEN``, ``printf '%s' "$API_KEY"``: a secret variable printed.

    Only words the shell layer could not resolve count (a variable this same script set
    is known text, and ``'$X'`` in single quotes is literal); ``printf -v`` and output
    sent to a file print nothing. Output piped into another program is still counted:
    the analysis does not see where a pipe leads (``prog <<< "$TOKEN"`` feeds a program
    without printing).
    """
    if not cmd.dynamic or _output_to_file(cmd):
        return
    if cmd.name == "printf" and any(a == "-v" or a.startswith("-v") for a in cmd.args[:2]):
        return
    for i in sorted(cmd.dynamic):
        if 0 < i < len(cmd.argv):
            found.variables.extend(v for v in _printed_variables(cmd.argv[i]) if is_secret_variable(v))


# -- copying into containers --------------------------------------------------------------

_DOCKER_GLOBAL_VALUE = frozenset(
    words("""
        -H --host -c --context --config -l --log-level --tlscacert --tlscert --tlskey
    """)
)
_CONTAINER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)?")


def _container_copy(cmd: Command, ctx: Context, found: _Found, at: int) -> None:
    """``docker cp SRC DEST`` / ``kubectl cp SRC DEST`` from ``argv[at + 1:]``: a local
    secret copied into a container or pod is sent there; a container's file copied
    onto a local secret overwrites it. ``[ns/]pod:path`` and ``container:path`` are remote.
    """
    a = parse_args(
        cmd.argv,
        short_value="cn",
        long_value=frozenset({"--container", "--namespace", "--context", "--kubeconfig", "--retries"}),
        start=at + 1,
    )
    if len(a.operands) != 2:
        return
    (si, src), (di, dest) = a.operands
    src_remote, dest_remote = _in_container(src), _in_container(dest)
    if dest_remote and not src_remote:
        found.send(_t(cmd, ctx, src, si), ctx, dest.split(":", 1)[0])
    elif src_remote and not dest_remote:
        found.write(_t(cmd, ctx, dest, di), ctx, "download")


def _in_container(word: str) -> bool:
    """``container:path`` or ``[namespace/]pod:path``."""
    head, colon, _ = word.partition(":")
    return bool(colon) and _CONTAINER_RE.fullmatch(head) is not None


def _subcommand(argv: tuple[str, ...], value_options: frozenset[str]) -> int | None:
    """Index of the first word after global options (``docker -H h cp``)."""
    i = 1
    while i < len(argv):
        w = argv[i]
        if not w.startswith("-"):
            return i
        i += 2 if w in value_options else 1
    return None


def _docker(cmd: Command, ctx: Context, found: _Found) -> None:
    at = _subcommand(cmd.argv, _DOCKER_GLOBAL_VALUE)
    if at is None:
        return
    if cmd.argv[at] == "container" and at + 1 < len(cmd.argv):
        at += 1
    if cmd.argv[at] == "cp":
        _container_copy(cmd, ctx, found, at)


def _ps(cmd: Command, ctx: Context, found: _Found) -> None:
    if any(not a.startswith("-") and "e" in a and a.isalpha() for a in cmd.args):
        found.dump("processes", other_process=True)


_HANDLERS = {
    **{n: _pattern_first for n in _PATTERN_FIRST},
    **{n: _awk for n in _AWKS},
    **{n: _jq for n in _JQS},
    **{n: _source for n in _SOURCES},
    **{n: _gpg for n in _GPGS},
    **{n: _httpie for n in ("http", "https", "xh", "xhs")},
    **{n: _mail for n in ("mail", "mailx", "mutt")},
    **{n: _ftp_like for n in ("sftp", "ftp", "lftp")},
    **{n: _env_dump for n in ("env", "printenv", "set", "export", "declare", "typeset")},
    **{n: _kubectl for n in ("kubectl", "oc")},
    **{n: _simple_printer for n in ("op", "pass", "sops", "doppler", "heroku", "security")},
    **{n: _printer for n in _PRINTERS},
    **{n: _docker for n in ("docker", "podman", "nerdctl")},
    "openssl": _openssl,
    "ssh-keygen": _ssh_keygen,
    "curl": _curl,
    "wget": _wget,
    "scp": _scp,
    "rsync": _rsync,
    "socat": _socat,
    "aws": _aws,
    "gsutil": _gsutil,
    "rclone": _rclone,
    "gh": _gh,
    "az": _az,
    "gcloud": _gcloud,
    "vault": _vault,
    "git": _git,
    "ps": _ps,
}
