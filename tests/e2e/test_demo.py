"""`kinko demo --no-serve` walks a withdrawal to the chain, shows the signer refusing an
altered bundle and co-signs a cold Bitcoin 2-of-3 withdrawal offline on regtest; running
it again works on the same data directory, lifts the freezes its own drill set and never
one it did not set."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.config import load_settings
from kinko.context import Context, build_context
from kinko.demo.bitcoin import BTC_CUSTOMER, demo_descriptor
from tests.support.cli_api import as_person, route_cli_to_api
from tests.support.identity import make_user

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
runner = CliRunner()
ENV: dict[str, str | None] = {
    "COLUMNS": "400",
    "KINKO_LOG_JSON": "false",
    "KINKO_CONFIG": None,
    "KINKO_POLICY_PATH": None,
}


def kinko(data: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    result = runner.invoke(app, ["--data-dir", str(data), *args], env={**ENV, **(env or {})})
    assert "Traceback" not in result.output, result.output
    return result


class People:
    """The demo's people acting on the CLI with their own sessions, through the API of a
    server on the demo's data (in this process: tests/support/cli_api.py)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, config_home: Path) -> None:
        self.monkeypatch, self.config_home = monkeypatch, config_home
        self.ctx: Context | None = None

    def env(self, data: Path, username: str) -> dict[str, str]:
        if self.ctx is None:
            self.ctx = build_context(load_settings(overrides={"data_dir": data}))
            route_cli_to_api(self.ctx, self.monkeypatch, self.config_home)
        return as_person(self.ctx, username)

    def add(self, data: Path, username: str, role: str) -> dict[str, str]:
        """A person of the test's own (the demo has no operator), acting as themselves."""
        self.env(data, "sec1")
        assert self.ctx is not None
        make_user(self.ctx, username, [role], with_authenticator=False)
        return as_person(self.ctx, username)

    def close(self) -> None:
        if self.ctx is not None:
            self.ctx.db.dispose()


@pytest.fixture
def people(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[People]:
    found = People(monkeypatch, tmp_path / "config")
    yield found
    found.close()


def demo(data: Path) -> str:
    result = kinko(data, "demo", "--no-serve")
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # Rich wraps to the terminal width


def freezes(data: Path) -> list[dict[str, str]]:
    result = kinko(data, "freeze", "list", "--json")
    assert result.exit_code == 0, result.output
    listed: list[dict[str, str]] = json.loads(result.output)["freezes"]
    return listed


def freeze(data: Path, wallet: str, reason: str, people: People) -> str:
    done = kinko(data, "freeze", "wallet", wallet, "--reason", reason, env=people.env(data, "sec1"))
    assert done.exit_code == 0, done.output
    return next(f["id"] for f in freezes(data) if f["target"] == wallet)


def regtest_funding(sats: int) -> str:
    """A synthetic transaction paying the demo's regtest wallet (as the demo funds it)."""
    from embit.script import Script
    from embit.transaction import Transaction, TransactionInput, TransactionOutput

    from kinko.chains.bitcoin import BitcoinAdapter

    adapter = BitcoinAdapter("regtest", descriptor=demo_descriptor())
    assert adapter.wallet is not None
    tx = Transaction(
        vin=[TransactionInput(bytes(range(32)), 0)],
        vout=[TransactionOutput(sats, Script(adapter.wallet.script_pubkey(0, 7)))],
    )
    return bytes(tx.serialize()).hex()


def request(
    data: Path, people: People, asset: str, amount: str, to: str, *more: str
) -> dict[str, str]:
    done = kinko(
        data,
        "withdraw",
        "request",
        "--asset",
        asset,
        "--amount",
        amount,
        "--to",
        to,
        "--json",
        *more,
        env=people.env(data, "alice"),
    )
    assert done.exit_code == 0, done.output
    view: dict[str, str] = json.loads(done.output)
    return view


def state(data: Path, withdrawal_id: str) -> str:
    return str(json.loads(kinko(data, "withdraw", "show", withdrawal_id, "--json").output)["state"])


def assert_walked(out: str, *, eth: bool = True) -> None:
    if eth:
        assert "bob approves with a WebAuthn assertion over the digest → pending_approval" in out
        # carol's approval completes the quorum: the approval service itself has it signed
        # and broadcast (nobody settles or executes); the altered one fails at the signer.
        assert "carol approves with a WebAuthn assertion over the digest → broadcast" in out
        assert "signed and broadcast: txid 0x" in out
        assert "carol approves with a WebAuthn assertion over the digest → failed" in out
        assert "confirmed" in out
        assert "kinko cosign (offline) REFUSED: the audit log recorded digest" in out
        assert "online signer REFUSED: the audit log recorded digest" in out
        assert "security event signer.refused (severity critical); wallet wal_eth_hot frozen" in out
        assert "lift the freeze" in out
    assert "3. a cold Bitcoin 2-of-3 withdrawal on regtest, co-signed offline" in out
    assert out.count("▶ imported UTXO") == 2
    assert "1 change output to the wallet" in out
    assert "bob approves the BTC withdrawal over its digest → pending_approval" in out
    assert "carol approves the BTC withdrawal over its digest → approved" in out
    assert "bundle exported with the PSBT and the wallet descriptor" in out
    assert "key holder 1 verifies the bundle offline and adds a partial signature" in out
    assert "key holder 2 verifies the bundle offline and adds a partial signature" in out
    assert "wal_btc_regtest: P2WSH 2-of-3 on regtest" in out
    assert "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080 (regtest) allow-listed" in out
    assert "regtest PSBT built from the imported UTXOs" in out
    assert "2-of-3 reached: finalised regtest transaction" in out
    assert "mainnet" not in out


def test_demo_walks_and_refuses_and_is_rerunnable(tmp_path: Path, people: People) -> None:
    data = tmp_path / "data"
    out = demo(data)
    assert "created users" in out
    assert_walked(out)
    assert freezes(data) == []  # the drill's freeze is lifted
    assert not (data / "demo-freezes.json").exists()
    # it says where to go next, with commands for this data directory
    assert "demo-login" in out and "/docs" in out
    assert f"--data-dir {data} withdraw list" in out
    # the CLI on the demo's data decides as the demo did
    book = json.loads(kinko(data, "addressbook", "list", "--json").output)["entries"]
    assert book and all(e["effective"] for e in book)  # no cooling-off left
    wallets = json.loads(kinko(data, "wallet", "list", "--json").output)
    assert {a for w in wallets for a in w["assets"]} == {"ethereum:ETH", "bitcoin:BTC"}
    assert kinko(data, "custody", "status").exit_code == 0
    screened = kinko(data, "screen", "address", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
    assert screened.exit_code == 0 and "CLEAR" in screened.output  # the demo's lists are fresh

    # alice's own API token for the CLI: private, and it is hers
    token_file = data / "demo-alice.token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    people.env(data, "alice")  # the CLI's requests go to an API on the demo's data
    me = kinko(data, "whoami", "--json", env={"KINKO_TOKEN": token_file.read_text().strip()})
    assert me.exit_code == 0, me.output
    assert (json.loads(me.stdout)["username"], json.loads(me.stdout)["kind"]) == ("alice", "token")
    # The user's own withdrawals: one on the regtest wallet, one on the in-process chain.
    funding = tmp_path / "funding.hex"
    funding.write_text(regtest_funding(400_000), encoding="utf-8")
    imported = kinko(
        data,
        "withdraw",
        "utxo-import",
        "--wallet",
        "wal_btc_regtest",
        "--tx",
        str(funding),
        "--vout",
        "0",
        env=people.add(data, "ops", "operator"),
    )
    assert imported.exit_code == 0, imported.output
    btc = request(data, people, "BTC", "0.001", BTC_CUSTOMER, "--wallet", "wal_btc_regtest")
    eth = request(data, people, "ETH", "2", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
    assert (btc["state"], eth["state"]) == ("pending_approval", "pending_approval")
    # The user freezes the warm wallet; a drill was interrupted after it froze the hot one.
    mine = freeze(data, "wal_eth_warm", "my own drill", people)
    drill = freeze(data, "wal_eth_hot", "digest_mismatch", people)
    (data / "demo-freezes.json").write_text(json.dumps([drill]), encoding="utf-8")
    out = demo(data)
    assert "reusing users" in out
    assert_walked(out)
    assert [f["id"] for f in freezes(data)] == [mine]  # only the demo's own was lifted
    # the regtest one stays; the one built on the old in-process chain is closed, and said so
    assert state(data, btc["id"]) == "pending_approval"
    assert state(data, eth["id"]) == "cancelled"
    assert re.search(r"closed \d+ open withdrawal\(s\) of earlier runs", out)

    # Frozen by the user, the hot wallet stays frozen: the Ethereum acts are skipped.
    hot = freeze(data, "wal_eth_hot", "stop the hot wallet", people)
    out = demo(data)
    assert "skipped: wal_eth_hot is frozen (wallet wal_eth_hot frozen by" in out
    assert "never lifts a freeze it did not set" in out
    assert_walked(out, eth=False)
    assert "signed and broadcast" not in out
    assert sorted(f["id"] for f in freezes(data)) == sorted([mine, hot])
