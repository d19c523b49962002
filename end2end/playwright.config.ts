import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { defineConfig } from "@playwright/test";

// The server under test: the release `kiln` binary on a fresh embedded SurrealKV
// database (the engine users run), on its own port so it never collides with a
// `make run` instance.
const repo = path.resolve(__dirname, "..");
const addr = process.env.KILN_E2E_ADDR ?? "127.0.0.1:3107";
const bin = process.env.KILN_BIN ?? path.join(repo, "target/release/kiln");
const data = mkdtempSync(path.join(tmpdir(), "kiln-e2e-"));
// Plugins installed by the tests stay with this run, not in the user's plugins dir.
const installedPlugins = mkdtempSync(path.join(tmpdir(), "kiln-e2e-plugins-"));
// The language model: a fake OpenAI-compatible server (fake-llm.mjs).
const llmPort = process.env.FAKE_LLM_PORT ?? "3108";

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  // The administrator account is created first, by its own project.
  projects: [
    { name: "setup", testMatch: /.*\.setup\.ts/ },
    { name: "chromium", dependencies: ["setup"] },
  ],
  use: {
    baseURL: `http://${addr}`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  webServer: [
  {
    command: "node fake-llm.mjs",
    cwd: __dirname,
    url: `http://127.0.0.1:${llmPort}/health`,
    reuseExistingServer: false,
    timeout: 30_000,
    env: { FAKE_LLM_PORT: llmPort },
  },
  {
    command: `${bin} serve`,
    cwd: repo,
    url: `http://${addr}/health/ready`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      DATABASE_URL: `rocksdb://${data}`,
      LEPTOS_SITE_ADDR: addr,
      KILN_PLUGINS_DIR: installedPlugins,
      LEPTOS_SITE_ROOT: "target/site",
      LEPTOS_OUTPUT_NAME: "kiln",
      RUST_LOG: "warn",
      // Every test registers its own accounts from one address.
      RATE_LIMIT_AUTH_PER_MINUTE: "10000",
      RATE_LIMIT_IP_PER_MINUTE: "100000",
      KILN_LLM_BASE_URL: `http://127.0.0.1:${llmPort}/v1`,
      LLM_MODEL: "fake-model",
    },
  },
  ],
});
