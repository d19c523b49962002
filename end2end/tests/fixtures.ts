import { expect, test as base } from "@playwright/test";

export { expect };
export type { Page } from "@playwright/test";

/**
 * Playwright's `test`, failing any test in whose browser context a page threw: a
 * hydration panic leaves a page that looks right and does nothing, which no assertion
 * about the page's text would notice.
 */
export const test = base.extend<{ uncaughtErrors: void }>({
  uncaughtErrors: [
    async ({ context }, use) => {
      const errors: string[] = [];
      context.on("weberror", (error) => errors.push(`${error.page()?.url()}: ${error.error().message}`));
      await use();
      expect(errors, "uncaught errors in the browser").toEqual([]);
    },
    { auto: true },
  ],
});
