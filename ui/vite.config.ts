/// <reference types="vitest/config" />
// Vite builds the webview into ui/dist, which tauri.conf.json serves as the frontend.
// CSS stays in files (the window's CSP has no 'unsafe-inline'), and Vitest runs only the
// pure-logic tests beside the code, in Node with the clock in UTC so time formatting is stable.
import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
    env: { TZ: "UTC" },
  },
});
