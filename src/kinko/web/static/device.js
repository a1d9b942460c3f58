// Device login: approve `kinko login` with a fresh assertion over a challenge that Kinko
// binds to this request (its code, the device, you, a one-time nonce).
"use strict";

(function () {
  const W = window.KinkoWebAuthn;
  const button = document.getElementById("device-approve");
  if (!button) { return; }

  function show(text, failed) {
    const box = document.getElementById("device-result");
    box.textContent = text;
    box.className = failed ? "error" : "ok";
    box.hidden = false;
  }

  async function approve() {
    const data = button.dataset;
    const problem = W.wrongPlace(data.origin);
    if (problem) { show(problem, true); return; }
    button.disabled = true;
    try {
      const issued = await W.postJSON(
        "/v1/auth/device/challenge", { user_code: data.code }, data.csrf,
      );
      if (issued.request.user_code !== data.code) {
        throw new Error("the server's challenge is for another code than this page shows");
      }
      const assertion = await navigator.credentials.get({
        publicKey: W.requestOptions(issued.options),
      });
      const done = await W.postJSON("/v1/auth/device/approve", {
        user_code: data.code, challenge_id: issued.challenge_id,
        credential: W.assertionJSON(assertion),
      }, data.csrf);
      const deny = document.getElementById("device-deny");
      if (deny) { deny.disabled = true; }
      show("Approved: " + done.client + " is signed in as " + done.approved_by
        + ". Go back to your terminal; you can close this page.", false);
    } catch (error) {
      show(W.explain(error, data.rpId), true);
      button.disabled = false;
    }
  }

  button.addEventListener("click", approve);
}());
