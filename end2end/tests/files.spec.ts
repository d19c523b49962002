import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "./fixtures";
import { register } from "./session";

const LIB_RS = `/// Reads the settings.
pub fn parse_http_config(input: &str) -> Config {
    Config::from(input)
}
`;

/** A small project folder on disk, as a user would pick it. */
function folder(): string {
  const root = mkdtempSync(path.join(tmpdir(), "kiln-folder-"));
  const dir = path.join(root, "demo");
  mkdirSync(path.join(dir, "src"), { recursive: true });
  writeFileSync(path.join(dir, "src", "lib.rs"), LIB_RS);
  writeFileSync(path.join(dir, "src", "util.py"), "def load_user_profile(user_id):\n    return {'id': user_id}\n");
  writeFileSync(path.join(dir, "README.md"), "# Demo\n\nA tiny project.\n");
  return dir;
}

async function expectNoViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** The file page loads the file in the browser after hydrating: wait for its handlers. */
async function fileReady(page: Page) {
  await hydrated(page);
  await expect(page.locator(".editor")).toHaveAttribute("data-ready", "true");
  await expect(page.locator(".history")).toHaveAttribute("data-ready", "true");
}

test("upload a folder, watch it index, search, edit, resolve a conflict, restore", async ({ page, context }) => {
  await register(page);
  const name = `Files ${Date.now()}`;
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create project" }).click();
  await page.getByRole("link", { name }).click();
  await page.getByRole("link", { name: "Files", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Files", level: 1 })).toBeVisible();
  await hydrated(page);

  // Upload: one line per file with what the server did.
  await page.getByLabel("A folder").setInputFiles(folder());
  const uploads = page.locator(".uploads li");
  await expect(uploads).toHaveCount(3);
  await expect(uploads.filter({ hasText: "created" })).toHaveCount(3);
  await expect(page.locator(".tree-file")).toHaveCount(3);
  // Indexing finishes on its own; the page follows it.
  await expect(page.locator(".index-summary")).toContainText("0 queued · 3 indexed");
  await expectNoViolations(page);

  // Search a symbol by another spelling of its name, open the hit.
  await page.getByRole("link", { name: "Search the code" }).click();
  await hydrated(page);
  await page.getByLabel("Words or identifiers").fill("parseHttpConfig");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByRole("status")).toHaveText("1 result");
  await expect(page.locator(".hit mark").first()).toHaveText("parse");
  await expectNoViolations(page);
  await page.locator(".hit-link").click();
  await expect(page.getByRole("heading", { name: "demo/src/lib.rs", level: 1 })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Symbols" }).getByRole("link", { name: "parse_http_config" })).toBeVisible();
  await expect(page.locator("#L2")).toContainText("pub fn parse_http_config");
  await fileReady(page);
  await expectNoViolations(page);
  const fileUrl = page.url().split("#")[0];

  // Edit and save.
  const editor = page.getByLabel(/Content \(editing version/);
  await editor.fill(LIB_RS.replace("Reads the settings.", "Reads the HTTP settings."));
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Saved as version 2.")).toBeVisible();
  await expect(page.locator(".code")).toContainText("Reads the HTTP settings.");

  // A second tab opened now, then the first saves again: the second's save conflicts.
  const second = await context.newPage();
  await second.goto(fileUrl);
  await fileReady(second);
  await expect(second.getByLabel("Content (editing version 2)")).toBeVisible();
  await page.getByLabel("Content (editing version 2)").fill("// first tab\n" + LIB_RS);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("Saved as version 3.")).toBeVisible();

  await second.getByLabel("Content (editing version 2)").fill("// second tab\n" + LIB_RS);
  await second.getByRole("button", { name: "Save", exact: true }).click();
  const conflict = second.locator(".conflict");
  await expect(conflict).toContainText("Someone else saved this file first");
  await expect(conflict.locator(".conflict-mine")).toContainText("// second tab");
  await expect(conflict.locator(".conflict-theirs")).toContainText("// first tab");
  await second.getByRole("button", { name: "Save my version anyway" }).click();
  await expect(second.getByText("Saved as version 4.")).toBeVisible();
  await expect(second.locator(".code")).toContainText("// second tab");

  // History: see what changed since version 1, then bring version 1 back.
  await page.reload();
  await fileReady(page);
  const history = page.getByRole("table");
  await expect(history.locator("tbody tr")).toHaveCount(4);
  await history.locator("tr[data-version='1']").getByRole("button", { name: "Changes since" }).click();
  await expect(page.locator(".diff")).toContainText("Version 1 → 4");
  await expect(page.locator(".diff .diff-added")).toContainText(["// second tab"]);
  await page.getByRole("button", { name: "Restore version 1" }).click();
  await expect(page.locator(".file-meta")).toContainText("version 5");
  await expect(page.locator(".code")).toContainText("Reads the settings.");
  await expect(page.locator(".code")).not.toContainText("second tab");
});

test("a file the parser cannot read is indexed and says why it has no outline", async ({ page }) => {
  await register(page);
  const name = `Outlines ${Date.now()}`;
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create project" }).click();
  await page.getByRole("link", { name }).click();
  await page.getByRole("link", { name: "Files", exact: true }).click();
  await hydrated(page);

  const root = mkdtempSync(path.join(tmpdir(), "kiln-outlines-"));
  const dir = path.join(root, "app");
  mkdirSync(dir);
  writeFileSync(path.join(dir, "models.py"), "class Invoice:\n    def total(self):\n        return 0\n");
  writeFileSync(path.join(dir, "broken.py"), "def broken(:\n    pass\n");
  await page.getByLabel("A folder").setInputFiles(dir);
  await expect(page.locator(".uploads li").filter({ hasText: "created" })).toHaveCount(2);
  await expect(page.locator(".index-summary")).toContainText("0 queued · 2 indexed");
  await expect(page.locator(".outline-summary")).toContainText("1 indexed without an outline: 1 the parser could not read");
  const broken = page.locator(".tree-file[data-path='app/broken.py']");
  await expect(broken).toContainText("no outline: the parser could not read this file");
  await expect(page.locator(".tree-file[data-path='app/models.py']")).not.toContainText("no outline");

  await broken.getByRole("link", { name: "broken.py" }).click();
  await expect(page.locator(".outline-note")).toContainText("No outline: the parser could not read this file");
  await expect(page.locator(".outline-note")).toContainText("broken.py:1:");
});
