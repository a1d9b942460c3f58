// A pending browser confirmation (`kinko login`, `kinko token create --browser`): answer
// the request this page shows with a fresh assertion over the challenge Kinko binds to it.
// Each page gets this file and, after it, its own script calling KinkoConfirm.wire with its
// ids, API and wording (served as one: kinko.web.confirmation.page_script); this file
// does the rest: the challenge, a check that it is for what the page shows,
// navigator.credentials.get, the approval, and what the person is told.
"use strict";

window.KinkoConfirm = (function () {
  // options: button, result, deny (element ids); api (the purpose's API prefix);
  // shows(request) (the challenge is for what the page shows); mismatch (else, why not);
  // done(answer) (what to say once approved).
  function wire(options) {
    const W = window.KinkoWebAuthn;
    const button = document.getElementById(options.button);
    if (!button) { return; }

    function show(text, failed) {
      const box = document.getElementById(options.result);
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
          options.api + "/challenge", { user_code: data.code }, data.csrf,
        );
        if (issued.request.user_code !== data.code || !options.shows(issued.request)) {
          throw new Error(options.mismatch);
        }
        const assertion = await navigator.credentials.get({
          publicKey: W.requestOptions(issued.options),
        });
        const done = await W.postJSON(options.api + "/approve", {
          user_code: data.code, challenge_id: issued.challenge_id,
          credential: W.assertionJSON(assertion),
        }, data.csrf);
        const deny = document.getElementById(options.deny);
        if (deny) { deny.disabled = true; }
        show(options.done(done), false);
      } catch (error) {
        show(W.explain(error, data.rpId), true);
        button.disabled = false;
      }
    }

    button.addEventListener("click", approve);
  }

  return { wire: wire };
}());
