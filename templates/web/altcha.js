// The sign-up form's proof of work (ALTCHA challenge, v1 format): fetch a challenge from the endpoint the
// form posts to, find the number n whose SHA-256 of salt + n is the challenge, and put the signed answer
// in the form's "altcha" field. Until then the button waits; the status line says what is happening.
"use strict";
(function () {
  async function hex(text) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  async function solve(form) {
    const field = form.querySelector("[name=altcha]");
    const button = form.querySelector("button[type=submit]");
    const status = form.querySelector("[data-altcha-status]");
    button.disabled = true;
    const challenge = await (await fetch(new URL("altcha-challenge", form.action))).json();
    for (let n = 0; n <= challenge.maxNumber; n += 1) {
      if ((await hex(challenge.salt + n)) === challenge.challenge) {
        field.value = btoa(JSON.stringify({algorithm: challenge.algorithm, challenge: challenge.challenge,
                                          number: n, salt: challenge.salt, signature: challenge.signature}));
        break;
      }
    }
    button.disabled = false;
    if (status) status.textContent = "Ready.";
  }
  document.querySelectorAll("form:has([name=altcha])").forEach((form) => { solve(form); });
})();
