// Enrolment: the one-time secret opens a registration ceremony
// (navigator.credentials.create) whose result the server verifies and stores; it then
// signs the person in (the session cookie comes with the answer).
"use strict";

(function () {
  const W = window.KinkoWebAuthn;
  const form = document.getElementById("enrol");
  if (!form) { return; }

  function say(id, text) {
    const box = document.getElementById(id);
    box.textContent = text;
    box.hidden = !text;
  }

  async function enrol(event) {
    event.preventDefault();
    say("enrol-error", "");
    const problem = W.wrongPlace(form.dataset.origin);
    if (problem) { say("enrol-error", problem); return; }
    const body = {
      username: form.username.value.trim(),
      enrolment_secret: form.enrolment_secret.value.trim(),
    };
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const begun = await W.postJSON("/v1/auth/enrol/webauthn/begin", body);
      say("enrol-status", W.say("touch_key"));
      const created = await navigator.credentials.create({
        publicKey: W.creationOptions(begun.options),
      });
      const done = await W.postJSON("/v1/auth/enrol/webauthn/finish", Object.assign({}, body, {
        challenge_id: begun.challenge_id, credential: W.registrationJSON(created),
      }));
      say("enrol-status", W.say("enrolled", { username: done.username }));
      window.location.assign("/console/");
    } catch (error) {
      say("enrol-status", "");
      say("enrol-error", W.explain(error, form.dataset.rpId));
      button.disabled = false;
    }
  }

  form.addEventListener("submit", enrol);
}());
