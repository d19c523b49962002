import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "./fixtures";
import { register } from "./session";

const UPLOAD_RS = `/// Sends a file, trying again when the network fails.
pub fn upload_with_retry(attempts: u32) {
    for _ in 0..attempts {}
}
`;

function folder(): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), "kiln-chat-")), "demo");
  mkdirSync(path.join(dir, "src"), { recursive: true });
  writeFileSync(path.join(dir, "src", "upload.rs"), UPLOAD_RS);
  return dir;
}

async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** A project with src/upload.rs indexed, and a new thread open in it. */
async function threadWithCode(page: Page, title: string): Promise<string> {
  await register(page);
  const name = `Chat ${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create project" }).click();
  await page.getByRole("link", { name }).click();
  await page.getByRole("link", { name: "Files", exact: true }).click();
  await hydrated(page);
  await page.getByLabel("A folder").setInputFiles(folder());
  await expect(page.locator(".index-summary")).toContainText("0 queued · 1 indexed");
  await page.goBack();
  await page.getByRole("link", { name: "Chat", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Chat", level: 1 })).toBeVisible();
  const crumbs = page.getByRole("navigation", { name: "Breadcrumb" });
  await expect(crumbs.getByRole("link", { name })).toBeVisible();
  await hydrated(page);
  await page.getByLabel("Title (optional)").fill(title);
  await page.getByRole("button", { name: "Start a thread" }).click();
  await expect(page.getByRole("heading", { name: title || "New chat", level: 1 })).toBeVisible();
  await expect(crumbs.getByRole("link", { name })).toHaveAttribute("href", /^\/projects\/[^/]+$/);
  await hydrated(page);
  await expect(page.locator(".connection")).toHaveAttribute("data-connected", "true");
  return page.url();
}

async function ask(page: Page, question: string) {
  const composer = page.getByLabel("Ask about this project's code");
  await composer.fill(question);
  await composer.press("Enter");
  await expect(composer).toHaveValue("");
  await expect(composer).toBeFocused();
}

test("ask about uploaded code, watch the reply stream, follow a citation", async ({ page }) => {
  await threadWithCode(page, "Retries");
  await ask(page, "Where do we retry **failed** uploads?");
  // The question shows as Markdown at once, not after a reload.
  await expect(page.locator(".message-user").last().locator(".markdown strong")).toHaveText("failed");
  const reply = page.locator(".message-assistant").last();
  // The finished reply is rendered Markdown (streaming in place is the next tests').
  await expect(reply).toHaveAttribute("data-status", "complete");
  await expect(reply.locator(".markdown code").first()).toHaveText("upload_with_retry");
  await expect(reply.locator(".markdown pre")).toContainText("fn upload_with_retry");
  // Highlighted like the file viewer.
  await expect(reply.locator(".markdown pre .tok-kw").first()).toHaveText("fn");
  await expect(page.locator('[aria-live="polite"]').last()).toHaveText("The assistant has replied.");
  await reply.getByText(/Code used/).click();
  await reply.getByRole("link", { name: /src\/upload\.rs:1/ }).click();
  await expect(page).toHaveURL(/\/files\/.+#L1-L\d+$/);
  // The cited lines are marked once the file has loaded.
  await expect(page.locator("#L1")).toHaveAttribute("data-cited", "true");
  await expect(page.locator("#L2")).toContainText("upload_with_retry");
});

test("stop a reply, then regenerate it as a second version", async ({ page }) => {
  await threadWithCode(page, "Stopping");
  await ask(page, "Answer slowly please");
  const reply = page.locator(".message-assistant").last();
  await expect(reply.locator(".plain")).toContainText("word3");
  await expect(page).toHaveTitle("Stopping · Kiln");
  // Send waits for the reply, and says so; the question being answered stays as it is.
  await expect(page.locator("#composer-help")).toHaveText(/The assistant is replying/);
  await expect(page.getByRole("button", { name: "Send" })).toBeDisabled();
  await expect(page.locator(".message-user").last().getByRole("button", { name: "Edit" })).toBeDisabled();
  // Stop stays put while the text streams: keyboard focus survives several chunks,
  // and a click held as long as a person's lands.
  const stop = reply.getByRole("button", { name: "Stop" });
  await stop.focus();
  await expect(reply.locator(".plain")).toContainText("word8");
  await expect(stop).toBeFocused();
  await stop.click({ delay: 150 });
  await expect(reply).toHaveAttribute("data-status", "stopped");
  await expect(reply.locator(".stopped")).toHaveText("stopped");
  await expect(page.locator("#composer-help")).toHaveText(/Enter sends/);
  const partial = await reply.locator(".markdown, .plain").first().innerText();
  expect(partial).not.toContain("word299");
  await reply.getByRole("button", { name: "Regenerate" }).click();
  const again = page.locator(".message-assistant").last();
  await expect(again.locator(".branches")).toContainText("2/2");
  await again.getByRole("button", { name: "Stop" }).click();
  await expect(again).toHaveAttribute("data-status", "stopped");
  await again.getByRole("button", { name: "Previous version" }).click();
  await expect(page.locator(".message-assistant").last().locator(".branches")).toContainText("1/2");
});

test("edit a message and see its history", async ({ page }) => {
  await threadWithCode(page, "Edits");
  await ask(page, "First wording");
  const question = page.locator(".message-user").last();
  await expect(page.locator(".message-assistant").last()).toHaveAttribute("data-status", "complete");
  await question.getByRole("button", { name: "Edit" }).click();
  await question.getByLabel("Edit your message").fill("Second wording");
  await question.getByRole("button", { name: "Save", exact: true }).click();
  await expect(question.locator(".markdown, .plain").first()).toHaveText("Second wording");
  await question.getByText("edited").click();
  await expect(question.locator(".history .previous")).toHaveText("First wording");
  // Reloaded, the thread with an edited message hydrates (it used to throw) and works.
  await page.reload();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const reloaded = page.locator(".message-user").last();
  await reloaded.getByText("edited").click();
  await expect(reloaded.locator(".history .previous")).toHaveText("First wording");
  await expect(page.locator(".connection")).toHaveAttribute("data-connected", "true");
  await ask(page, "Still answering after a reload?");
  await expect(page.locator(".message-assistant").last()).toHaveAttribute("data-status", "complete");
});

test("a second tab sees the reply live, and a dropped connection resumes", async ({ page, context }) => {
  const url = await threadWithCode(page, "Two tabs");
  const other = await context.newPage();
  // The second tab's socket goes through a route the test can cut.
  let cut: (() => Promise<void>) | undefined;
  await other.routeWebSocket(/\/api\/threads\/.+\/ws$/, (ws) => {
    const server = ws.connectToServer();
    cut = async () => {
      await ws.close({ code: 4000, reason: "cut by the test" }).catch(() => {});
      await server.close().catch(() => {});
    };
  });
  await other.goto(url);
  await hydrated(other);
  await expect(other.locator(".connection")).toHaveAttribute("data-connected", "true");

  await ask(page, "Tell me slowly");
  const mirrored = other.locator(".message-assistant").last();
  await expect(mirrored.locator(".plain")).toContainText("word2");
  await cut!();
  // The drop shows, with the button; the page reconnects by itself within a second.
  await expect(other.getByRole("button", { name: "Reconnect" })).toBeVisible();
  await expect(other.locator(".connection")).toHaveAttribute("data-connected", "true");
  // The reply goes on where it stopped: whole, each word once.
  await expect(mirrored).toHaveAttribute("data-status", "complete", { timeout: 30_000 });
  const text = await mirrored.locator(".markdown").innerText();
  const words = text.trim().split(/\s+/);
  expect(words).toEqual(Array.from({ length: 300 }, (_, i) => `word${i}`));
});

test("archive and un-archive a thread; the chat page has no WCAG A/AA violations", async ({ page }) => {
  const url = await threadWithCode(page, "Archiving");
  const a11y = async () => {
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  };
  // A neighbour in the list, below "Archiving" once that has a message.
  await page.getByRole("link", { name: "Chat", exact: true }).click();
  await hydrated(page);
  await page.getByLabel("Title (optional)").fill("Neighbour");
  await page.getByRole("button", { name: "Start a thread" }).click();
  await expect(page.getByRole("heading", { name: "Neighbour", level: 1 })).toBeVisible();
  await page.goto(url);
  await hydrated(page);
  await expect(page.locator(".connection")).toHaveAttribute("data-connected", "true");
  await ask(page, "Hello there");
  await expect(page.locator(".message-assistant").last()).toHaveAttribute("data-status", "complete");
  await a11y();
  await page.getByRole("link", { name: "Chat", exact: true }).click();
  await hydrated(page);
  await a11y();
  const thread = page.locator(".thread", { hasText: "Archiving" });
  await thread.getByText("Manage").click();
  await thread.getByRole("button", { name: "Archive" }).click();
  await expect(page.locator(".thread", { hasText: "Archiving" })).toHaveCount(0);
  // The open panel went with its thread; the neighbour that moved up is closed.
  await expect(page.locator(".thread", { hasText: "Neighbour" }).locator("details")).not.toHaveAttribute("open");
  await page.getByRole("link", { name: "Archived" }).click();
  const archived = page.locator(".thread", { hasText: "Archiving" });
  await expect(archived).toBeVisible();
  await page.goto(url);
  await hydrated(page);
  await expect(page.getByLabel("Ask about this project's code")).toBeDisabled();
  await expect(page.locator("#composer-help")).toHaveText(/This thread is archived/);
  await expect(page.locator(".archived-note").getByRole("button", { name: "Un-archive" })).toBeVisible();
  await page.goBack();
  await hydrated(page);
  await archived.getByText("Manage").click();
  await archived.getByRole("button", { name: "Un-archive" }).click();
  await page.getByRole("link", { name: "Active" }).click();
  await expect(page.locator(".thread", { hasText: "Archiving" })).toBeVisible();
});

test("the first question names a new thread; deleting it tells another open tab", async ({ page, context }) => {
  const url = await threadWithCode(page, "");
  await ask(page, "How are uploads retried?\nMore detail below.");
  await expect(page.getByRole("heading", { name: "How are uploads retried?", level: 1 })).toBeVisible();
  // The lines as typed, not joined into one.
  await expect(page.locator(".message-user").last().locator(".markdown br")).toHaveCount(1);
  await expect(page.locator(".message-assistant").last()).toHaveAttribute("data-status", "complete");
  const other = await context.newPage();
  await other.goto(url);
  await hydrated(other);
  await expect(other.locator(".connection")).toHaveAttribute("data-connected", "true");

  await page.getByRole("link", { name: "Chat", exact: true }).click();
  await hydrated(page);
  const thread = page.locator(".thread", { hasText: "How are uploads retried?" });
  await thread.getByText("Manage").click();
  await thread.getByLabel(/I understand/).check();
  await thread.getByRole("button", { name: "Delete thread" }).click();
  await expect(page.locator(".thread", { hasText: "How are uploads retried?" })).toHaveCount(0);

  // The other tab learns it at once and stops trying to reconnect.
  await expect(other.locator(".connection")).toContainText("This thread was deleted.");
  await expect(other.getByRole("button", { name: "Reconnect" })).toHaveCount(0);
  await expect(other.getByLabel("Ask about this project's code")).toBeDisabled();
  await expect(other.locator("#composer-help")).toHaveText("This thread was deleted.");
});
