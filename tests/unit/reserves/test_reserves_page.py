"""The browser page's verifier (JavaScript, run here in Node) agrees with the Python one:
the same proofs hold, the same attacks are refused with the same message."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from kinko.cli.main import app
from kinko.core.errors import IntegrityError
from kinko.reserves.verify import verify_document
from tests.unit.reserves.sample import log_roots, sample

PAGE = Path(__file__).parents[3] / "src" / "kinko" / "reserves" / "verify.html"
HARNESS = """
const cases = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
(async () => {
  const out = [];
  for (const c of cases) {
    try { const r = await verifyProof(c.doc, c.vkey); out.push({ ok: true, values: r.values }); }
    catch (e) { out.push({ ok: false, message: e.message }); }
  }
  console.log(JSON.stringify(out));
})();
"""
S = sample()
Change = Callable[[dict[str, Any]], object]


def _btc(doc: dict[str, Any]) -> dict[str, Any]:
    leaf: dict[str, Any] = next(x for x in doc["leaves"] if x["asset"] == "bitcoin:BTC")
    return leaf


def _step(doc: dict[str, Any], level: int) -> dict[str, Any]:
    step: dict[str, Any] = _btc(doc)["path"][level]
    return step


CHANGES: list[Change] = [
    lambda d: None,
    lambda d: _step(d, 0).update(sum="-7"),
    lambda d: _step(d, 0).update(sum=str(1 << 128)),
    lambda d: _step(d, 1).update(sum=str(int(_step(d, 1)["parent"]) + 1)),
    lambda d: _step(d, 0).update(parent=str(int(_step(d, 0)["parent"]) - 1)),
    lambda d: _btc(d).update(value=str(int(_btc(d)["value"]) - 1)),
    lambda d: _step(d, 0).update(hash=_step(d, 0)["hash"][:-2]),
    lambda d: d.update(account="bob"),
    lambda d: d["leaves"].append(copy.deepcopy(_btc(d))),
    lambda d: d["snapshot"]["roots"]["assets"].pop(),
    lambda d: d["audit"].update(index=0),
    lambda d: d.update(key=d["key"][:62]),
    lambda d: _btc(d).update(index=1 << 30),
    lambda d: d.update(format="v0"),
    lambda d: d.pop("controls"),
]


def _script() -> str:
    text = PAGE.read_text(encoding="utf-8")
    start, end = text.index("// BEGIN VERIFIER"), text.index("// END VERIFIER")
    return text[start:end]


def _python(doc: dict[str, Any], vkey: str) -> dict[str, Any]:
    try:
        result = verify_document(doc, vkey)
    except IntegrityError as exc:
        return {"ok": False, "message": exc.message}
    values = [{"asset": a, "value": str(v), "total": str(t)} for a, v, t in result.values]
    return {"ok": True, "values": values}


def _node(cases: list[dict[str, Any]], tmp_path: Path) -> list[dict[str, Any]]:
    node = shutil.which("node")
    assert node is not None, "the page's tests need Node.js (20 or later) on PATH"
    script, data = tmp_path / "verify.js", tmp_path / "cases.json"
    script.write_text(_script() + HARNESS, encoding="utf-8")
    data.write_text(json.dumps(cases), encoding="utf-8")
    out = subprocess.run([node, str(script), str(data)], capture_output=True, text=True, check=True)
    results: list[dict[str, Any]] = json.loads(out.stdout)
    return results


def test_the_page_and_the_python_verifier_agree(tmp_path: Path) -> None:
    cases = []
    for change in CHANGES:
        doc = S.document("alice")
        change(doc)
        cases.append({"doc": doc, "vkey": S.vkey})
    other_vkey, other_audit = log_roots(S.roots, digest="00" * 32)
    doc = S.document("alice")
    doc["audit"] = other_audit.to_json()
    cases += [{"doc": doc, "vkey": other_vkey}, {"doc": S.document("carol"), "vkey": other_vkey}]
    expected = [_python(c["doc"], c["vkey"]) for c in cases]
    assert expected[0]["ok"] and not any(e["ok"] for e in expected[1:])
    assert _node(cases, tmp_path) == expected


def test_kinko_reserves_page_writes_the_packaged_page(tmp_path: Path) -> None:
    out = tmp_path / "verify.html"
    result = CliRunner().invoke(app, ["reserves", "page", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == PAGE.read_bytes()
    missing = tmp_path / "no-such-dir" / "verify.html"
    result = CliRunner().invoke(app, ["reserves", "page", "--out", str(missing)])
    assert result.exit_code == 2
    assert "out: cannot write" in result.output
