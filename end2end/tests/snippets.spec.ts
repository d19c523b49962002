import { expect, test } from "./fixtures";
import { register } from "./session";

const markdown = [
  "Here is the fix:",
  "",
  "```rust",
  'fn main() { println!("hi"); }',
  "```",
  "",
  "and the test:",
  "",
  "~~~python title=test_x.py",
  "assert 1 + 1 == 2",
  "~~~",
].join("\n");

test("pasted Markdown with two fenced blocks yields two snippets", async ({ page }) => {
  await register(page);
  await page.goto("/snippets");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Markdown").fill(markdown);
  await page.getByRole("button", { name: "Extract snippets" }).click();

  const snippets = page.getByRole("list", { name: "Snippets" }).getByRole("listitem");
  await expect(snippets).toHaveCount(2);
  await expect(snippets.nth(0)).toContainText("rust");
  await expect(snippets.nth(0)).toContainText("lines 3–5");
  await expect(snippets.nth(0).locator("code")).toHaveText('fn main() { println!("hi"); }');
  await expect(snippets.nth(1)).toContainText("python");
  await expect(snippets.nth(1).locator("code")).toHaveText("assert 1 + 1 == 2");
  await expect(page.getByRole("heading", { name: "2 snippets" })).toBeVisible();
});
