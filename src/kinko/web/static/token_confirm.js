// Confirm a new API token (`kinko token create`): a fresh assertion over a challenge that
// Kinko binds to exactly this token's terms (owner, name, permissions, assets, lifetime,
// allowlist, this request) and a one-time nonce.
"use strict";

(function () {
  const W = window.KinkoWebAuthn;
  const button = document.getElementById("token-confirm");
  if (!button) { return; }

  function show(text, failed) {
    const box = document.getElementById("token-result");
    box.textContent = text;
    box.className = failed ? "error" : "ok";
    box.hidden = false;
  }

  async function confirm() {
    const data = button.dataset;
    const problem = W.wrongPlace(data.origin);
    if (problem) { show(problem, true); return; }
    button.disabled = true;
    try {
      const issued = await W.postJSON(
        "/v1/tokens/requests/challenge", { user_code: data.code }, data.csrf,
      );
      const shown = document.getElementById("token-name").textContent;
      if (issued.request.user_code !== data.code || issued.request.token.name !== shown) {
        throw new Error("the server's challenge is for another token than this page shows");
      }
      const assertion = await navigator.credentials.get({
        publicKey: W.requestOptions(issued.options),
      });
      const done = await W.postJSON("/v1/tokens/requests/approve", {
        user_code: data.code, challenge_id: issued.challenge_id,
        credential: W.assertionJSON(assertion),
      }, data.csrf);
      const deny = document.getElementById("token-deny");
      if (deny) { deny.disabled = true; }
      show("Confirmed: token " + done.token.name + " is created for " + done.approved_by
        + ". Go back to your terminal (it prints the token once); you can close this page.",
        false);
    } catch (error) {
      show(W.explain(error, data.rpId), true);
      button.disabled = false;
    }
  }

  button.addEventListener("click", confirm);
}());
