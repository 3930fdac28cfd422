// Entry point: mounts the app, and if even that fails, says so in words instead of leaving
// a white window. Everything is built with DOM calls and classes: the window's CSP allows
// no inline scripts or styles.

import "./app.css";
import { mount } from "svelte";
import App from "./App.svelte";

function showFatal(target: HTMLElement, error: unknown): void {
  const box = document.createElement("div");
  box.className = "fatal";
  const title = document.createElement("h1");
  title.textContent = "Sightline could not start its window";
  const detail = document.createElement("p");
  detail.textContent = error instanceof Error ? error.message : String(error);
  const hint = document.createElement("p");
  hint.textContent = "Your data is untouched. Restart the app; if this keeps happening, please report it.";
  box.append(title, detail, hint);
  target.replaceChildren(box);
}

const target = document.getElementById("app") ?? document.body;
try {
  mount(App, { target });
} catch (e) {
  console.error(e);
  showFatal(target, e);
}
