"""``kinko inspect run --format json,html,pdf,oscal``, ``inspect verify`` and ``inspect
history`` (issue #16 points 4 and 5) on both databases: every format written and
readable, the files signed by the audit log's key and the report's digest proven in the
log; verify accepts the genuine files and refuses a byte-altered one, one signed by
another key, and one whose proof is of another run. Days derive from the real time."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from kinko.audit.note import generate_signer, sign_note
from kinko.context import Context
from kinko.inspection import oscal_report, signing
from tests.integration.inspection.test_cli_snapshots import as_json, kinko
from tests.integration.inspection.test_runs import BAD_DAY, DAYS, END, record, vkey
from tests.unit.inspection.seed import snapshot

__all__ = ["vkey"]  # the fixture, shared with test_runs


def run(ctx: Context, out: Path, framework: str = "jp", formats: str = "json") -> dict[str, str]:
    code, output = kinko(
        ctx, "inspect", "run", "--framework", framework, "--from", DAYS[0].isoformat(),
        "--to", END.isoformat(), "--format", formats, "--out", str(out), "--json",
    )  # fmt: skip
    assert code == 0, output
    said: dict[str, str] = as_json(output)
    return said


def check(ctx: Context, path: Path, key: str, *extra: str) -> tuple[int, dict[str, object]]:
    code, output = kinko(ctx, "inspect", "verify", str(path), "--vkey", key, *extra, "--json")
    return code, as_json(output)


def test_every_format_is_written_signed_proven_and_verified_offline(
    ctx: Context, vkey: str, tmp_path: Path
) -> None:
    record(ctx, [snapshot(d, cold=94_900_000 if d == BAD_DAY else 97_000_000) for d in DAYS])
    out = tmp_path / "reports"
    said = run(ctx, out, formats="json,html,pdf,oscal")
    stem = out / f"inspection-jp-{DAYS[0]}-{END}"
    files = [Path(p) for p in said["files"]]
    assert [p.name for p in files] == [
        stem.name + suffix for suffix in (".json", ".html", ".pdf", ".oscal.json")
    ]
    assert files[2].read_bytes().startswith(b"%PDF-")
    assert "自己点検報告書" in files[1].read_text("utf-8")
    oscal = oscal_report.validate(files[3].read_bytes())  # trestle's model and validators
    [result] = oscal.results
    states = {f.target.target_id: f.target.status.state.value for f in result.findings}
    assert states["cus-01_obj"] == "not-satisfied"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*(p.name for p in files), stem.name + ".sig", stem.name + ".proof"]
    )

    # Offline: the verifier key alone, each file.
    key_file = tmp_path / "audit-log.vkey"
    key_file.write_text(vkey + "\n", encoding="utf-8")
    for path in files:
        code, verdict = check(ctx, path, str(key_file))
        assert code == 0, verdict
        assert verdict["report"] == files[0].name and verdict["digest"] == said["digest"]
        assert verdict["audit_seq"] == said["audit_seq"]
    assert check(ctx, files[0], vkey)[1]["evidence_proofs"] == len(DAYS)

    # One byte altered: refused, for the JSON and for the PDF.
    for path in (files[0], files[2]):
        original = path.read_bytes()
        path.write_bytes(
            original.replace(b"0.051000", b"0.041000", 1)
            if path == files[0]
            else original[:-2] + bytes([original[-2] ^ 1]) + original[-1:]
        )
        code, verdict = check(ctx, path, vkey)
        assert code == 1 and "altered" in str(verdict["message"]), verdict
        path.write_bytes(original)

    # Signed by another key of the same name: refused.
    other_skey, other_vkey = generate_signer(ctx.settings.audit_origin)
    from kinko.audit.note import Signer

    sig = stem.with_suffix(".sig")
    genuine = sig.read_text("utf-8")
    text = genuine[: genuine.rindex("\n\n") + 1]
    sig.write_text(sign_note(text, Signer.parse(other_skey)), encoding="utf-8")
    code, verdict = check(ctx, files[0], vkey)
    assert code == 1 and "not signed by" in str(verdict["message"]), verdict
    code, verdict = check(ctx, files[0], other_vkey)  # the other key's checkpoint: refused
    assert code == 1, verdict
    sig.write_text(genuine, encoding="utf-8")

    # A proof of another run (another digest): refused.
    proof = json.loads(stem.with_suffix(".proof").read_bytes())
    entry = json.loads(proof["entry"])
    entry["details"]["digest"] = "0" * 64
    proof["entry"] = json.dumps(entry)
    bad = tmp_path / "other.proof"
    bad.write_text(json.dumps(proof), encoding="utf-8")
    code, verdict = check(ctx, files[0], vkey, "--proof", str(bad))
    assert code == 1, verdict


def test_history_shows_each_run_and_its_change(ctx: Context, vkey: str, tmp_path: Path) -> None:
    record(ctx, [snapshot(d) for d in DAYS if d != BAD_DAY])
    first = run(ctx, tmp_path / "a")
    record_more = [snapshot(BAD_DAY, cold=94_900_000)]
    from kinko.inspection.snapshots import SnapshotService

    SnapshotService(ctx).import_documents(
        {"snapshots": [{"digest": s.digest, "document": s.to_json()} for s in record_more]},
        actor="local:tester",
        source="late.json",
    )
    second = run(ctx, tmp_path / "b")
    run(ctx, tmp_path / "c", framework="kr")
    code, output = kinko(ctx, "inspect", "history", "--framework", "jp", "--json")
    assert code == 0, output
    runs = as_json(output)["runs"]
    assert [r["digest"] for r in runs] == [first["digest"], second["digest"]]
    assert runs[0]["change"] is None and runs[0]["summary"] == first["summary"]
    assert runs[1]["change"]["fail"] == 1  # the late snapshot shows the bad day
    assert runs[1]["change"]["insufficient_evidence"] < 0
    code, output = kinko(ctx, "inspect", "history")
    assert code == 0 and "3 inspection runs" in output and "(+1)" in output
    page = tmp_path / "trend.html"  # findings over time as a chart
    code, output = kinko(ctx, "inspect", "history", "--html", str(page), "--json")
    assert code == 0 and as_json(output)["html"] == str(page)
    html = page.read_text(encoding="utf-8")
    assert html.count("<title>fail: ") == 1  # one run had a failure: one red segment
    assert html.count('class="chart"') == 1 and first["digest"] in html
    assert "1 (+1)" in html  # the second jp run's failure, as a change
    ET.fromstring(html.split("\n", 1)[1])  # well-formed (XHTML)
    code, output = kinko(ctx, "inspect", "history", "--html", str(tmp_path), "--json")
    assert code == 2 and as_json(output)["field"] == "--html"


def test_verify_and_history_refuse_bad_input_naming_the_option(
    ctx: Context, vkey: str, tmp_path: Path
) -> None:
    record(ctx, [snapshot(d) for d in DAYS])
    report = Path(run(ctx, tmp_path)["report"])
    cases = [
        ([str(report)], "--vkey"),
        ([str(report), "--vkey", "not-a-key.txt"], "--vkey"),
        ([str(tmp_path / "missing.json"), "--vkey", vkey], "REPORT"),
        ([str(report), "--vkey", vkey, "--proof", str(tmp_path / "none")], "--proof"),
    ]
    for args, option in cases:
        code, output = kinko(ctx, "inspect", "verify", *args, "--json")
        assert code == 2 and as_json(output)["field"] == option, (args, output)
    code, output = kinko(ctx, "inspect", "history", "--framework", "nist", "--json")
    assert code == 2 and as_json(output)["field"] == "--framework"
    assert signing.stem_of(report.name) == report.name.removesuffix(".json")
