// Four-eyes approval: Kinko issues a one-time challenge that commits to this vote (the
// kind, the id, you, and the digest of the content this page shows: docs/identity.md,
// "A step-up authorises one vote"); the security key signs it and the answer goes to the
// step's own approve route with the session's CSRF token. No inline script (strict CSP).
"use strict";

(function () {
  const webauthn = window.KinkoWebAuthn;  // webauthn.js, loaded before this script

  async function approve(event) {
    const button = event.currentTarget;
    const data = button.dataset;
    button.disabled = true;
    try {
      const begun = await webauthn.postJSON("/v1/auth/step-up/begin", {
        purpose: "approve", approval: { kind: data.kind, subject: data.subject },
      }, data.csrf);
      if (begun.terms.content !== data.digest) {
        throw new Error(webauthn.say("other_content"));
      }
      const assertion = await navigator.credentials.get({
        publicKey: webauthn.requestOptions(begun.options),
      });
      const body = {
        step_up: { challenge_id: begun.challenge_id, credential: webauthn.assertionJSON(assertion) },
      };
      const reason = document.getElementById("approval-reason");
      if (reason) { body.reason = reason.value; }
      const answer = await webauthn.postJSON(data.url, body, data.csrf);
      const done = answer.state
        ? webauthn.say("proposal_now", { state: webauthn.word(answer.state) })
        : webauthn.say("approved");
      webauthn.showResult("approve-result", done, false);
    } catch (error) {
      webauthn.showResult("approve-result", webauthn.explain(error), true);
      button.disabled = false;
    }
  }

  const button = document.getElementById("approve-button");
  if (button) { button.addEventListener("click", approve); }
}());
