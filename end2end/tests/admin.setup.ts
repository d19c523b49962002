import { expect, test as setup } from "@playwright/test";
import { ADMIN_EMAIL, PASSWORD } from "./session";

// Runs before every other test against the fresh database: the installation's first
// account becomes its administrator.
setup("the first account is the administrator", async ({ request }) => {
  const reply = await request.post("/api/auth/register", {
    data: { email: ADMIN_EMAIL, password: PASSWORD },
  });
  expect(reply.status()).toBe(201);
  expect((await reply.json()).user.is_admin).toBe(true);
});
