"use strict";
document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const message = document.getElementById("message");
  message.textContent = "";
  try {
    const response = await fetch("/login", {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        username: document.getElementById("username").value,
        password: document.getElementById("password").value,
      }),
    });
    const data = await response.json();
    if (!response.ok) { throw new Error(data.error || response.statusText); }
    window.location = data.redirect;
  } catch (error) {
    message.textContent = error.message;
  }
});
