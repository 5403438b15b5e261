"""The README and docs/ say only what runs (issue 8, item 16).

Every ``console`` block of the docs is replayed on the demo catalogue, command by command, as a
shell would run it: variables (``B=…``, ``CART=$(curl … | python3 -c …)``), pipes through
``python3 -c``, ``tee`` and ``tail``. ``curl`` is played through the app's test client (so no
server or port is needed), but its URL must be the one ``make run`` serves. Where the docs show
a status line (``HTTP/1.1 409 CONFLICT``) the reply must have that status, otherwise a 2xx; an
error ``code`` shown must be the one returned, and every JSON field named in a shown reply must
exist in the real one. Flask commands must be written as they run from a fresh checkout
(``.venv/bin/flask --app wsgi …``) and name commands that exist.
"""
from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask.cli import FlaskGroup

from shop.seed.demo import seed_demo

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SERVED = "http://127.0.0.1:5000"  # what `make run` serves (Makefile HOST and PORT)
STATUS_LINE = re.compile(r"^HTTP/1\.1 (\d{3})\b")


def console_blocks(path: Path) -> list[str]:
    return re.findall(r"```console\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


def _complete(command: str) -> bool:
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command)
    except ValueError:  # an open quote: the command goes on on the next line
        return False
    return True


def commands(block: str) -> list[tuple[str, str]]:
    """(command, the output shown after it) for each ``$ `` line of a console block."""
    lines, found, i = block.splitlines(), [], 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            i += 1
            continue
        command = lines[i][2:]
        while not _complete(command) and i + 1 < len(lines):
            i += 1
            command += "\n" + lines[i]
        i += 1
        output = []
        while i < len(lines) and not lines[i].startswith("$ "):
            output.append(lines[i])
            i += 1
        found.append((command, "\n".join(output)))
    return found


def expand(command: str, env: dict[str, str]) -> str:
    """Replace ``$NAME`` and ``${NAME}`` outside single quotes, as the shell does."""
    out, quoted, i = [], False, 0
    while i < len(command):
        ch = command[i]
        if ch == "'":
            quoted = not quoted
        if ch == "$" and not quoted:
            match = re.match(r"\$(?:\{(\w+)\}|(\w+))", command[i:])
            if match:
                name = match.group(1) or match.group(2)
                assert name in env, f"${name} is used before it is set: {command}"
                out.append(env[name])
                i += match.end()
                continue
        out.append(ch)
        i += 1
    return "".join(out)


class Shell:
    """Runs documented commands: ``curl`` through the test client, ``python3``, ``tee``, ``tail``."""

    def __init__(self, client, workdir: Path):
        self.client, self.workdir, self.env = client, workdir, {}
        self.replies = []  # (command, response) of every curl

    def run(self, command: str) -> str:
        assignment = re.fullmatch(r"(\w+)=\$\((.*)\)", command, flags=re.S)
        if assignment:
            self.env[assignment.group(1)] = self.pipeline(assignment.group(2)).strip()
            return ""
        assignment = re.fullmatch(r"(\w+)=(\S+)", command)
        if assignment:
            self.env[assignment.group(1)] = expand(assignment.group(2), self.env)
            return ""
        return self.pipeline(command)

    def pipeline(self, command: str) -> str:
        lexer = shlex.shlex(expand(command, self.env), posix=True, punctuation_chars="|")
        lexer.whitespace_split = True
        stages, current = [], []
        for token in lexer:
            if token == "|":
                stages.append(current)
                current = []
            else:
                current.append(token)
        stages.append(current)
        text = ""
        for stage in stages:
            text = getattr(self, "_" + stage[0].replace("python3", "python"))(stage[1:], text)
        return text

    def _curl(self, args: list[str], _stdin: str) -> str:
        method, headers, data, url, include = None, {}, None, None, False
        items = iter(args)
        for arg in items:
            if arg == "-s":
                continue
            if arg == "-i":
                include = True
            elif arg == "-X":
                method = next(items)
            elif arg == "-H":
                name, value = next(items).split(":", 1)
                headers[name.strip()] = value.strip()
            elif arg in ("-d", "--data"):
                data = next(items)
                if data.startswith("@"):
                    data = (self.workdir / data[1:]).read_text(encoding="utf-8")
            else:
                assert not arg.startswith("-"), f"curl option {arg} is not known to this test"
                url = arg
        assert url and url.startswith(SERVED + "/"), f"{url} is not on {SERVED}, where `make run` serves"
        if data is not None:
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")  # as curl does
        parts = urlsplit(url)
        response = self.client.open(parts.path, method=method or ("POST" if data is not None else "GET"),
                                    query_string=parts.query, headers=headers,
                                    data=data.encode() if data is not None else None,
                                    base_url=SERVED)
        self.replies.append(response)
        body = response.get_data(as_text=True)
        if not include:
            return body
        head = [f"HTTP/1.1 {response.status}"] + [f"{k}: {v}" for k, v in response.headers.items()]
        return "\n".join(head) + "\n\n" + body

    def _python(self, args: list[str], stdin: str) -> str:
        assert args[0] == "-c"
        done = subprocess.run([sys.executable, "-c", args[1]], input=stdin, capture_output=True, text=True,
                              timeout=30, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def _tee(self, args: list[str], stdin: str) -> str:
        (self.workdir / args[0]).write_text(stdin, encoding="utf-8")
        return stdin

    def _tail(self, args: list[str], _stdin: str) -> str:
        count = int(args[0].lstrip("-"))
        lines = (self.workdir / args[1]).read_text(encoding="utf-8").splitlines()
        return "\n".join(lines[-count:]) + "\n"


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def check_reply(command: str, shown: str, response) -> None:
    status = STATUS_LINE.match(shown)
    if status:
        assert response.status_code == int(status.group(1)), (command, response.get_data(as_text=True)[:300])
    else:
        assert 200 <= response.status_code < 300, (command, response.status_code, response.get_data(as_text=True)[:300])
    if response.mimetype != "application/json":
        return
    body = response.get_json()
    code = re.search(r'"code":"(\w+)"', shown)
    if code:
        assert body["error"]["code"] == code.group(1), command
    message = re.search(r'"message":"([^"…]*)"', shown)
    if message:
        assert body["error"]["message"] == message.group(1), command
    missing = set(re.findall(r'"(\w+)":', shown)) - _keys(body)
    assert not missing, f"{command}: the docs show fields the reply does not have: {sorted(missing)}"


@pytest.fixture
def demo(app):
    seed_demo()


@pytest.mark.parametrize("doc", [d for d in DOCS if console_blocks(d)], ids=lambda d: d.name)
def test_documented_commands_run_as_written_on_the_demo(client, demo, doc, tmp_path):
    shell = Shell(client, tmp_path)
    ran = 0
    for block in console_blocks(doc):
        for command, shown in commands(block):
            before = len(shell.replies)
            shell.run(command)
            for response in shell.replies[before:-1]:  # replies consumed by $(…): 2xx
                assert 200 <= response.status_code < 300, command
            if len(shell.replies) > before:
                check_reply(command, shown if "=$(" not in command else "", shell.replies[-1])
            ran += 1
    assert ran >= 10


# ---- flask commands ---------------------------------------------------------------------------

FLASK = re.compile(r"(?<![\w/.-])((?:\.venv/bin/)?flask)\s+(--app\s+wsgi\s+)?([a-z][\w-]*(?:\s+[a-z][\w-]*)?)")


def flask_commands() -> list[tuple[str, str, str]]:
    """(document, prefix as written, command words) for every flask command in the docs."""
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in FLASK.finditer(text):
            prefix = match.group(1) + " " + (match.group(2) or "").strip()
            found.append((doc.name, prefix.strip(), match.group(3)))
    return found


def test_flask_commands_are_written_as_they_run_and_exist(app):
    found = flask_commands()
    assert len(found) >= 8
    wrong = [(doc, f"{prefix} {words}") for doc, prefix, words in found if prefix != ".venv/bin/flask --app wsgi"]
    assert not wrong, f"write `.venv/bin/flask --app wsgi …` (a fresh checkout has no flask on PATH): {wrong}"
    for doc, _prefix, words in found:
        group, *rest = words.split()
        command = app.cli.commands.get(group) or FlaskGroup().commands.get(group)
        assert command is not None, f"{doc}: no flask command {group}"
        if rest and hasattr(command, "commands"):
            assert rest[0] in command.commands, f"{doc}: no flask command {group} {rest[0]}"


def test_documented_maintenance_commands_run_on_the_demo(runner, demo):
    for args in (["seed-demo"], ["check-ledger"], ["release-expired"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output)
