"""Attack 5 of issue 13, replayed: one shell operator tries to play every role.

Before, `--as USER` let whoever ran the CLI act as anyone: create people, propose a role
as one admin and approve it as the other, point a process at a weaker policy. Now the CLI
acts for a person only with that person's own credential, through the API of a real
`kinko serve` (processes on a free loopback port, on SQLite and on PostgreSQL): each step
of the attack is refused, and the legitimate path — a second admin who signs in with
`kinko login` in the browser (device flow, their security key) — still works.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.serve import KINKO, Served, free_port, served

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
SAMPLE = Path(__file__).parents[2] / "src" / "kinko" / "policy" / "default_policy.yaml"


@pytest.fixture
def kinko(tmp_path: Path, empty_database_url: str) -> Iterator[Served]:
    """A served exchange whose first admin, sec1, enrolled a security key; then sec2, the
    second admin, through the first setup's exception (sec1 alone may grant it once)."""
    with served(tmp_path, empty_database_url) as k:
        secret = k.init("sec1")
        assert k.start().poll() is None, "kinko serve did not start"
        k.enrol("sec1", secret)
        k.enrol("sec2", invite(k, "sec2", by="sec1"))
        second = run(k, "role", "propose", "sec2", "security_admin", "--reason", "2nd", who="sec1")
        assert second.returncode == 0 and ": approved" in flat(second), flat(second)
        yield k


def run(
    k: Served, *args: str, who: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return k.kinko(*args, env={**(k.as_(who) if who else {}), **env})


def flat(done: subprocess.CompletedProcess[str]) -> str:
    return " ".join((done.stdout + done.stderr).split())


def invite(k: Served, username: str, *, by: str) -> str:
    done = run(k, "user", "add", username, who=by)
    assert done.returncode == 0, flat(done)
    found = re.search(r"secret \(shown once\): (\S+)", flat(done))
    assert found is not None
    return found.group(1)


def proposal_in(done: subprocess.CompletedProcess[str]) -> str:
    found = re.search(r"prp_[0-9a-z]+", done.stdout)
    assert found is not None and "pending" in done.stdout, flat(done)
    return found.group(0)


def roles(k: Served) -> dict[str, list[str]]:
    listed = run(k, "user", "list", "--json")
    assert listed.returncode == 0, flat(listed)
    return {u["username"]: [g["role"] for g in u["roles"]] for u in json.loads(listed.stdout)}


def test_one_shell_operator_cannot_play_every_role(kinko: Served, tmp_path: Path) -> None:
    k = kinko
    # The operator holds sec1's credential and a shell. They create people whose
    # authenticators they hold (inviting is one admin's job: that is allowed) ...
    for name in ("mallory", "trent"):
        k.enrol(name, invite(k, name, by="sec1"))

    # ... but nobody can be named as the actor any more.
    grant = run(k, "role", "propose", "mallory", "security_admin", "--reason", "x", who="sec1")
    mallory_admin = proposal_in(grant)
    as_other = run(k, "role", "approve", mallory_admin, "--as", "sec2", who="sec1")
    assert as_other.returncode == 2 and "No such option: --as" in flat(as_other)
    # Their own vote on their own proposal, or the vote of someone without the role.
    own = run(k, "role", "approve", mallory_admin, who="sec1")
    assert own.returncode == 1 and "four eyes" in flat(own)
    hers = run(k, "role", "approve", mallory_admin, who="mallory")
    assert hers.returncode == 1 and "the person this is about cannot approve it" in flat(hers)
    # Nor by a token: a privileged one needs a fresh WebAuthn step-up, not a shell.
    token = run(k, "token", "create", "sec1", "t", "--permission", "roles:approve", who="sec1")
    assert token.returncode == 1 and "WebAuthn" in flat(token)
    # Approvers and requesters are four eyes too.
    trent = proposal_in(run(k, "role", "propose", "trent", "approver", "--reason", "x", who="sec1"))
    assert run(k, "role", "approve", trent, who="sec1").returncode == 1
    # The commands that skipped the role check now get the server's.
    for args in (
        ("user", "add", "eve"),
        ("user", "suspend", "sec2", "--reason", "x"),
        ("token", "create", "trent", "t", "--permission", "users:write"),
    ):
        refused = run(k, *args, who="mallory")
        assert refused.returncode == 1, (args, flat(refused))
    # An admin cannot suspend the other admin alone either: never fewer than two.
    lone = run(k, "user", "suspend", "sec2", "--reason", "x", who="sec1")
    assert lone.returncode == 2 and "fewer than two active security_admins" in flat(lone)
    # Without a credential the CLI acts for nobody.
    assert run(k, "user", "add", "eve").returncode == 1

    # A weaker policy: proposed, it waits for a second admin; a server pointed at it
    # does not start.
    weak = tmp_path / "weak.yaml"
    text = SAMPLE.read_text(encoding="utf-8").replace('"2026-11-21.1"', '"weak-1"')
    weak.write_text(text.replace("max: 200000000 ", "max: 20000000000 ", 1), encoding="utf-8")
    policy = run(k, "policy", "propose", str(weak), "--reason", "busy", who="sec1")
    assert "loosens btc-hot-max" in flat(policy)
    assert run(k, "role", "approve", proposal_in(policy), who="sec1").returncode == 1
    other = k.start(port=free_port(), env={"KINKO_POLICY_PATH": str(weak)})
    assert other.wait(60) == 1
    assert "policy weak-1" in k.output(other) and "was not approved" in k.output(other)

    # Nothing changed: nobody got a role, both admins are active.
    held = roles(k)
    assert held["mallory"] == [] and held["trent"] == []
    assert held["sec1"] == held["sec2"] == ["security_admin"]


def test_the_second_admin_signs_in_with_the_browser_and_approves(
    kinko: Served, tmp_path: Path
) -> None:
    k = kinko
    k.enrol("trent", invite(k, "trent", by="sec1"))
    trent = proposal_in(
        run(k, "role", "propose", "trent", "approver", "--reason", "new", who="sec1")
    )
    config = tmp_path / "sec2-config"

    # `kinko login` prints a page and a code; sec2 confirms it in the browser.
    login = subprocess.Popen(
        [KINKO, "login", "--addr", k.url],
        env={**k.env, "XDG_CONFIG_HOME": str(config)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    user_code = wait_for_code(login)
    browser = k.sign_in("sec2")
    with k.api(browser) as client:
        issued = client.post("/v1/auth/device/challenge", json={"user_code": user_code})
        assert issued.status_code == 200, issued.text
        assert issued.json()["request"]["client"].startswith("kinko-cli ")
        approved = client.post(
            "/v1/auth/device/approve",
            json={
                "user_code": user_code,
                "challenge_id": issued.json()["challenge_id"],
                "credential": k.assertion("sec2", issued.json()["options"]),
            },
        )
        assert approved.status_code == 200, approved.text
    out, err = login.communicate(timeout=60)
    assert login.returncode == 0, out + err
    assert f"Signed in to {k.url} as sec2" in " ".join(out.split())
    stored = config / "kinko" / "session.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600

    as_sec2 = {"XDG_CONFIG_HOME": str(config)}  # the stored session; no KINKO_TOKEN
    me = k.kinko("whoami", "--json", env=as_sec2)
    assert me.returncode == 0 and json.loads(me.stdout)["username"] == "sec2"
    # Her vote is her security key's, bound to this proposal (a session alone is refused).
    bare = k.kinko("role", "approve", trent, env=as_sec2)
    assert bare.returncode == 1 and "kinko approval challenge proposal" in flat(bare)
    challenge = k.kinko("approval", "challenge", "proposal", trent, "--json", env=as_sec2)
    assert challenge.returncode == 0, flat(challenge)
    shown = json.loads(challenge.stdout)
    answer = tmp_path / "vote.json"
    credential = k.assertion("sec2", shown["options"])
    answer.write_text(json.dumps({"challenge_id": shown["challenge_id"], "credential": credential}))
    done = k.kinko("role", "approve", trent, "--assertion", str(answer), env=as_sec2)
    assert done.returncode == 0 and ": approved" in flat(done), flat(done)
    assert roles(k)["trent"] == ["approver"]
    out_ = k.kinko("logout", env=as_sec2)
    assert out_.returncode == 0 and not stored.exists()
    assert k.kinko("whoami", env=as_sec2).returncode == 1

    # A sign-in denied in the browser ends `kinko login` with exit 1.
    login = subprocess.Popen(
        [KINKO, "login", "--addr", k.url],
        env={**k.env, "XDG_CONFIG_HOME": str(config)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    user_code = wait_for_code(login)
    with k.api(k.sign_in("sec2")) as client:
        denied = client.post("/v1/auth/device/deny", json={"user_code": user_code})
        assert denied.status_code == 200, denied.text
    out, err = login.communicate(timeout=60)
    assert login.returncode == 1 and "denied" in err, out + err
    assert not stored.exists()


def wait_for_code(login: subprocess.Popen[str]) -> str:
    """The user code `kinko login` prints (on stderr) before it starts polling."""
    assert login.stderr is not None
    seen = ""
    for _ in range(20):
        line = login.stderr.readline()
        seen += line
        found = re.search(r"The code is ([A-Z]{4}-[A-Z]{4})", seen)
        if found:
            assert "/console/device?code=" in seen, seen
            return found.group(1)
    raise AssertionError(f"no code from kinko login: {seen}")
