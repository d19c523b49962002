import { expect, test } from "./fixtures";
import { PASSWORD, register, uniqueEmail } from "./session";

test("register, log out, log in again and see only your own projects", async ({ browser }) => {
  const alice = await browser.newContext();
  const page = await alice.newPage();
  const email = await register(page, uniqueEmail("alice"));
  const mine = `Alice's ${Date.now()}`;
  await page.getByLabel("Name").fill(mine);
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page.getByRole("link", { name: mine })).toBeVisible();

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login/);
  // Logged out means logged out: the projects page sends us back to log in.
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=%2F$/);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toContainText("invalid email or password");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("link", { name: mine })).toBeVisible();

  // Another user sees none of it.
  const bob = await browser.newContext();
  const bobPage = await bob.newPage();
  await register(bobPage, uniqueEmail("bob"));
  await expect(bobPage.getByText("No projects yet")).toBeVisible();
  await expect(bobPage.getByText(mine)).toHaveCount(0);
  await alice.close();
  await bob.close();
});

test("a second user cannot open the first user's project URL", async ({ browser }) => {
  const alice = await browser.newContext();
  const page = await alice.newPage();
  await register(page, uniqueEmail("owner"));
  const name = `Private ${Date.now()}`;
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create project" }).click();
  await page.getByRole("link", { name }).click();
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  const url = page.url();
  expect(url).toMatch(/\/projects\/[^/]+$/);

  const mallory = await browser.newContext();
  const other = await mallory.newPage();
  await register(other, uniqueEmail("mallory"));
  const response = await other.goto(url);
  expect(response?.status()).toBe(403);
  await expect(other.getByRole("alert")).toContainText("belongs to another account");
  await expect(other.getByText(name)).toHaveCount(0);
  await alice.close();
  await mallory.close();
});

test("a visitor is sent to log in and then lands where they were going", async ({ page }) => {
  const email = uniqueEmail("returning");
  await register(page, email);
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login/);

  await page.goto("/account");
  await expect(page).toHaveURL(/\/login\?next=%2Faccount$/);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator(".account-email")).toHaveText(email);
});

test("changing the password keeps you logged in and the new one works", async ({ page }) => {
  const email = await register(page, uniqueEmail("changer"));
  await page.goto("/account");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Current password").fill(PASSWORD);
  await page.getByLabel("New password").fill("an even better passphrase");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("status")).toContainText("Password changed");

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("an even better passphrase");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Projects", level: 1 })).toBeVisible();
});
