// Console sign-in: WebAuthn ceremony (navigator.credentials.get) and TOTP, over the JSON API.
"use strict";

// The sign-in page loads webauthn.js (KinkoWebAuthn: the JSON calls, the page's words).
function kinko() { return window.KinkoWebAuthn; }

// Where the sign-in page was asked for (the server checked it is a console path).
function afterSignIn() {
  const form = document.getElementById("webauthn-login");
  const next = form ? form.dataset.next : "";
  return next && next.startsWith("/console/") && !next.startsWith("//") ? next : "/console/";
}

function showError(message) {
  const box = document.getElementById("login-error");
  box.textContent = message;
  box.hidden = false;
}

async function webauthnLogin(event) {
  event.preventDefault();
  const username = event.target.username.value;
  try {
    const webauthn = kinko();
    const begun = await webauthn.postJSON("/v1/auth/login/webauthn/begin", { username });
    const assertion = await navigator.credentials.get({
      publicKey: webauthn.requestOptions(begun.options),
    });
    const credential = webauthn.assertionJSON(assertion);
    await webauthn.postJSON(
      "/v1/auth/login/webauthn/finish", { challenge_id: begun.challenge_id, credential },
    );
    window.location.assign(afterSignIn());
  } catch (error) {
    showError(kinko().explain(error) || kinko().say("sign_in_failed"));
  }
}

async function totpLogin(event) {
  event.preventDefault();
  try {
    await kinko().postJSON("/v1/auth/login/totp", {
      username: event.target.username.value, code: event.target.code.value,
    });
    window.location.assign(afterSignIn());
  } catch (error) {
    showError(error.message || kinko().say("sign_in_failed"));
  }
}

const webauthnForm = document.getElementById("webauthn-login");
if (webauthnForm) { webauthnForm.addEventListener("submit", webauthnLogin); }
const totpForm = document.getElementById("totp-login");
if (totpForm) { totpForm.addEventListener("submit", totpLogin); }
