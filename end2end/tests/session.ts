import { expect, type Page } from "@playwright/test";

export const PASSWORD = "correct horse battery staple";

/** A fresh address per call, so parallel tests never share an account. */
export function uniqueEmail(prefix = "user"): string {
  return `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.org`;
}

/** Registers through the UI (JavaScript on) and waits for the projects page. */
export async function register(page: Page, email = uniqueEmail()): Promise<string> {
  await page.goto("/register");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "Projects", level: 1 })).toBeVisible();
  await expect(page.locator(".user-email")).toHaveText(email);
  return email;
}

/** The administrator `admin.setup.ts` registers before any other test runs. */
export const ADMIN_EMAIL = "admin@kiln.example.org";

/** Logs in through the UI (JavaScript on) and waits for the projects page. */
export async function logIn(page: Page, email: string): Promise<void> {
  await page.goto("/login");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Projects", level: 1 })).toBeVisible();
}
