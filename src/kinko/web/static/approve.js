// Withdrawal approval: Kinko issues a one-time challenge that commits to this withdrawal
// (its id, the digest shown on the page, its expiry and a server nonce: docs/bundle.md);
// the security key signs it and the assertion is posted with the session's CSRF token.
// No inline script (strict CSP).
"use strict";

(function () {
  const webauthn = window.KinkoWebAuthn;  // webauthn.js, loaded before this script

  function show(text, failed) {
    const box = document.getElementById("approve-result");
    box.textContent = text;
    box.className = failed ? "error" : "ok";
    box.hidden = false;
  }

  async function approve(event) {
    const button = event.currentTarget;
    const data = button.dataset;
    button.disabled = true;
    const base = "/v1/withdrawals/" + encodeURIComponent(data.approve);
    const headers = { "Content-Type": "application/json", "X-CSRF-Token": data.csrf };
    try {
      const issued = await fetch(base + "/approval-challenge", {
        method: "POST", credentials: "same-origin", headers: headers, body: "{}",
      });
      const challenge = await issued.json();
      if (!issued.ok) {
        throw new Error(challenge.localised || challenge.message || webauthn.say("no_challenge"));
      }
      if (challenge.digest !== data.digest) {
        throw new Error(webauthn.say("other_digest"));
      }
      const options = challenge.options;
      const assertion = await navigator.credentials.get({
        publicKey: {
          challenge: webauthn.b64urlToBytes(options.challenge),
          rpId: options.rpId,
          userVerification: options.userVerification,
          timeout: options.timeout,
          allowCredentials: options.allowCredentials.map(
            (c) => ({ type: c.type, id: webauthn.b64urlToBytes(c.id) }),
          ),
        },
      });
      const body = { assertion: webauthn.assertionJSON(assertion) };
      const response = await fetch(base + "/approve", {
        method: "POST", credentials: "same-origin", headers: headers, body: JSON.stringify(body),
      });
      const answer = await response.json();
      if (!response.ok) {
        throw new Error(answer.localised || answer.message || webauthn.say("approval_refused"));
      }
      show(webauthn.say("withdrawal_now", { state: webauthn.word(answer.state) }), false);
    } catch (error) {
      show(webauthn.explain(error), true);
      button.disabled = false;
    }
  }

  document.querySelectorAll("button[data-approve]").forEach((button) => {
    button.addEventListener("click", approve);
  });
}());
