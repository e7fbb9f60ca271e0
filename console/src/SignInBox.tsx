// Asks for an API key or token when the server refused a call as unauthenticated; it is kept in localStorage.
import { type FormEvent, useState } from "react";
import { signIn, useAuth } from "./api";

export function SignInBox() {
  const auth = useAuth();
  const [token, setToken] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (token.trim() !== "") signIn(token);
  };
  return (
    <section className="sign-in" aria-labelledby="sign-in-title">
      <h2 id="sign-in-title">Sign in</h2>
      <p>
        {auth.signedIn
          ? "The server did not accept the stored token. Paste another one."
          : "This server needs a token. Paste an API key or an access token; it stays in this browser."}
      </p>
      <form onSubmit={submit} className="sign-in-form">
        <label htmlFor="token-input">API key or token</label>
        <input
          id="token-input"
          data-testid="token-input"
          type="password"
          autoComplete="off"
          // biome-ignore lint/a11y/noAutofocus: the box appears because the page cannot go on without it
          autoFocus
          value={token}
          onChange={(e) => setToken(e.target.value)}
        />
        <button type="submit" data-testid="sign-in" disabled={token.trim() === ""}>
          Sign in
        </button>
      </form>
    </section>
  );
}
