import { expect, test } from "./fixtures";
import { register } from "./session";

test("create, edit and pause a project: all three on its timeline; delete removes it", async ({ page }) => {
  await register(page);
  const name = `Timeline ${Date.now()}`;
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create project" }).click();
  await page.getByRole("link", { name }).click();
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");

  const timeline = page.getByRole("list", { name: "Timeline" }).getByRole("listitem");
  await expect(timeline).toHaveCount(1);
  await expect(timeline.first()).toContainText("created");

  const renamed = `${name} (renamed)`;
  await page.getByLabel("Name", { exact: true }).fill(renamed);
  await page.getByLabel("Description").fill("now with a description");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("heading", { name: renamed, level: 1 })).toBeVisible();
  // The timeline grows in place, without a reload.
  await expect(timeline).toHaveCount(2);
  await expect(timeline.first()).toContainText("Project updated");
  await expect(timeline.first()).toContainText("name");
  await expect(timeline.first()).toContainText("description");

  await page.getByRole("button", { name: "Pause" }).click();
  await expect(timeline).toHaveCount(3);
  await expect(timeline.first()).toContainText("Status changed from active to paused");
  await expect(page.locator(".status").first()).toHaveText("paused");
  await expect(page.getByRole("button", { name: "Activate" })).toBeVisible();

  await page.getByLabel(/Delete ".*" and everything in it/).check();
  await page.getByRole("button", { name: "Delete project" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: "Projects", level: 1 })).toBeVisible();
  await expect(page.getByRole("link", { name: renamed })).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole("link", { name: renamed })).toHaveCount(0);
});
