"""SigmaHQ's public rules for each mapped source load unchanged and fire on realistic
samples written from the vendor's documented schema (tests/fixtures/sources/README.md),
record by record, and stay silent on the benign samples (issue #15, point 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kinko.monitor.engine import Engine
from kinko.monitor.rules import parse_texts
from kinko.monitor.sources import SOURCES, parse_source

FIXTURES = Path(__file__).parents[3] / "fixtures"
SIGMA = FIXTURES / "sigma"
SAMPLES = FIXTURES / "sources"

# source -> (the SigmaHQ rule folders for its logsource, attack file with the rules each
# record must fire — file stems, in record order —, benign file)
CASES: dict[str, tuple[list[str], str, list[set[str]], str]] = {
    "cloudtrail": (
        ["rules/cloud/aws/cloudtrail"],
        "cloudtrail/attack.json",
        [
            {"aws_cloudtrail_console_login_success_without_mfa"},
            {"aws_cloudtrail_disable_logging"},
            {"aws_cloudtrail_console_login_failed_authentication"},
            {"aws_update_login_profile"},
        ],
        "cloudtrail/benign.jsonl",
    ),
    "okta": (
        ["rules/identity/okta"],
        "okta/attack.jsonl",
        [
            {"okta_user_session_start_via_anonymised_proxy"},
            {"okta_mfa_reset_or_deactivated"},
            {"okta_admin_role_assigned_to_user_or_group"},
            {"okta_api_token_created"},
            {"okta_fastpass_phishing_detection"},
        ],
        "okta/benign.jsonl",
    ),
    "entra-signin": (
        ["rules/cloud/azure/signin_logs"],
        "entra/signin-attack.json",
        [
            {"azure_mfa_denies"},
            {"azure_user_login_blocked_by_conditional_access"},
            {"azure_ad_sign_ins_from_noncompliant_devices"},
            {"azure_ad_suspicious_signin_bypassing_mfa"},
        ],
        "entra/signin-benign.jsonl",
    ),
    "entra-audit": (
        ["rules/cloud/azure/audit_logs"],
        "entra/audit-attack.json",
        [
            {"azure_ad_user_added_to_admin_role"},
            {"azure_mfa_disabled"},
            {"azure_app_privileged_permissions"},
        ],
        "entra/audit-benign.jsonl",
    ),
    "github": (
        ["rules/application/github/audit"],
        "github/attack.jsonl",
        [
            {"github_new_secret_created"},
            {"github_disable_high_risk_configuration"},
            {"github_push_protection_bypass_detected"},
            {"github_self_hosted_runner_changes_detected"},
        ],
        "github/benign.jsonl",
    ),
    "workspace-login": (
        ["rules/cloud/gcp/gworkspace/login"],
        "workspace/attack.jsonl",
        [{"gcp_gworkspace_govattack"}, {"gcp_gworkspace_out_of_domain_email_forwarding"}],
        "workspace/benign.jsonl",
    ),
    "auditd": (
        ["rules/linux/auditd", "rules-emerging-threats/2026/Exploits/CVE-2026-31431"],
        "auditd/attack.log",
        [
            {"lnx_auditd_web_rce"},  # a shell run by the web server's user (euid 33)
            set(),  # its EXECVE record: `sh -c "id ; uname -a"` (hex-encoded by auditd)
            {"lnx_auditd_web_rce", "lnx_auditd_susp_exe_folders"},  # a binary from /tmp
            {"lnx_auditd_capabilities_discovery"},
            {"lnx_auditd_create_account"},
        ],
        "auditd/benign.log",
    ),
    "sshd": (
        [
            "rules/linux/builtin/sshd",
            "rules-emerging-threats/2018/Exploits/CVE-2018-15473",
            "rules-emerging-threats/2023/Exploits/CVE-2023-2283",
        ],
        "sshd/attack.jsonl",
        [set()] * 6  # password guessing: the pack's rule, not SigmaHQ's (keywords)
        + [{"lnx_sshd_susp_ssh"}, {"lnx_sshd_exploit_cve_2018_15473"}],
        "sshd/benign.jsonl",
    ),
    "kubernetes": (
        ["rules/application/kubernetes/audit"],
        "kubernetes/attack.jsonl",
        [
            {"kubernetes_audit_exec_into_container"},
            {"kubernetes_audit_secrets_enumeration"},
            {"kubernetes_audit_rolebinding_modification"},
            {"kubernetes_audit_pod_in_system_namespace"},
        ],
        "kubernetes/benign.jsonl",
    ),
}


def _rules(folders: list[str]) -> tuple[Engine, dict[str, str]]:
    paths = sorted(p for folder in folders for p in (SIGMA / folder).rglob("*.yml"))
    assert paths, folders
    texts = [(str(p), p.read_text(encoding="utf-8")) for p in paths]
    ruleset = parse_texts(texts)  # unchanged SigmaHQ YAML: loading refuses nothing
    names = {}
    for path in paths:
        (rule,) = parse_texts([(str(path), path.read_text(encoding="utf-8"))]).detections
        names[rule.id] = path.stem
    return Engine(ruleset), names


@pytest.mark.parametrize("name", sorted(CASES))
def test_sigmahq_rules_fire_record_by_record_on_the_vendors_schema(name: str) -> None:
    folders, attack, expected, _ = CASES[name]
    engine, names = _rules(folders)
    events = parse_source(SOURCES[name], (SAMPLES / attack).read_text(encoding="utf-8"))
    assert len(events) == len(expected)
    fired = [{names[a.rule_id] for a in engine.process(event)} for event in events]
    assert fired == expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_sigmahq_rules_stay_silent_on_a_benign_sample(name: str) -> None:
    folders, _, _, benign = CASES[name]
    engine, _ = _rules(folders)
    events = parse_source(SOURCES[name], (SAMPLES / benign).read_text(encoding="utf-8"))
    assert len(events) >= 3
    assert engine.process_many(events) == []


def test_rules_of_one_source_never_see_another_sources_events() -> None:
    # the Okta rules meet the Entra sign-ins (and everything else) without firing: a rule
    # applies only to events of its logsource
    okta_engine, _ = _rules(CASES["okta"][0])
    for name, (_, attack, _, _) in CASES.items():
        if name == "okta":
            continue
        events = parse_source(SOURCES[name], (SAMPLES / attack).read_text(encoding="utf-8"))
        assert okta_engine.process_many(events) == []
