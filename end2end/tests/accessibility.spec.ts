import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "./fixtures";
import { register } from "./session";

async function expectNoViolations(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

for (const path of ["/login", "/register"]) {
  test(`${path} has no WCAG A/AA violations`, async ({ page }) => {
    await page.goto(path);
    await expectNoViolations(page);
  });
}

test("the signed-in pages have no WCAG A/AA violations", async ({ page }) => {
  await register(page);
  for (const path of ["/", "/snippets", "/account"]) {
    await page.goto(path);
    await expectNoViolations(page);
  }
  const name = `A11y ${Date.now()}`;
  await page.goto("/");
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create project" }).click();
  await page.getByRole("link", { name }).click();
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  await expectNoViolations(page);
});
