import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "./fixtures";
import { ADMIN_EMAIL, logIn, register } from "./session";

const dist = path.resolve(__dirname, "../../plugins/dist");

test("an administrator disables, re-enables and installs plugins", async ({ page }, testInfo) => {
  await logIn(page, ADMIN_EMAIL);
  await page.getByRole("link", { name: "Plugins" }).click();
  await expect(page.getByRole("heading", { name: "Plugins", level: 1 })).toBeVisible();
  const rust = page.locator('tr[data-plugin="kiln.parser.rust"]');
  await expect(rust).toContainText("language-parser");
  await expect(rust.locator(".status")).toHaveText("active");

  const axe = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(axe.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);

  await page.getByRole("button", { name: "Disable kiln.parser.rust" }).click();
  await expect(rust.locator(".status")).toHaveText("disabled");
  await page.getByRole("button", { name: "Enable kiln.parser.rust" }).click();
  await expect(rust.locator(".status")).toHaveText("active");

  // Upload a plugin: a manifest naming the component and its hash.
  const wasm = readFileSync(path.join(dist, "kiln_parser_markdown.wasm"));
  const id = `e2e.markdown.${testInfo.workerIndex}.${Date.now()}`;
  const manifest = [
    `id = "${id}"`,
    `version = "1.0.0"`,
    `kind = "language-parser"`,
    `api = "0.1.0"`,
    `wasm = "notes.wasm"`,
    `sha256 = "${createHash("sha256").update(wasm).digest("hex")}"`,
    `extensions = ["md", "markdown", "mdown"]`,
  ].join("\n");
  await page.getByLabel("Manifest (kiln-plugin.toml)").setInputFiles({
    name: "kiln-plugin.toml",
    mimeType: "application/toml",
    buffer: Buffer.from(manifest),
  });
  await page.getByLabel("Component (.wasm)").setInputFiles({ name: "notes.wasm", mimeType: "application/wasm", buffer: wasm });
  await page.getByRole("button", { name: "Install" }).click();
  await expect(page.getByRole("status")).toHaveText(`Installed ${id}.`);
  const installed = page.locator(`tr[data-plugin="${id}"]`);
  await expect(installed).toContainText("installed");
  await expect(installed.locator(".status")).toHaveText("active");

  // A tampered component is refused with the reason.
  await page.getByLabel("Manifest (kiln-plugin.toml)").setInputFiles({
    name: "kiln-plugin.toml",
    mimeType: "application/toml",
    buffer: Buffer.from(manifest.replace(id, `${id}.2`)),
  });
  await page.getByLabel("Component (.wasm)").setInputFiles({
    name: "notes.wasm",
    mimeType: "application/wasm",
    buffer: Buffer.concat([wasm, Buffer.from("x")]),
  });
  await page.getByRole("button", { name: "Install" }).click();
  await expect(page.getByRole("alert")).toContainText("sha256");
});

test("other users neither see nor reach the plugin page", async ({ page }) => {
  await register(page);
  await expect(page.getByRole("link", { name: "Plugins" })).toHaveCount(0);
  const reply = await page.goto("/admin/plugins");
  expect(reply?.status()).toBe(403);
  await expect(page.getByRole("alert")).toContainText("administrator");
});
