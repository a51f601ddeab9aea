// The dev server's mailbox page (/dev/mail): the mail it "sent", newest
// first, links clickable, and mail it did not send shown with the reason.
// A new user reads their confirmation mail there and confirms from it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, newPage, startServer } from './harness.js';

let server;
let browser;

before(async () => {
  // A budget of one mail per address, so the second registration naming
  // the same address is not sent and the page must say so.
  server = await startServer({ ADDRESS_MAIL_LIMIT: '1' });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function register(username, email) {
  const r = await fetch(`${server.base}/api/registration`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      username, full_name: 'Mia Mailbox', email, phone: null, contacts: null, pwd: 'S3cure-Passw0rd!',
    }),
  });
  assert.equal(r.status, 200);
}

test('the confirmation link is opened from the dev mailbox page', async () => {
  const { page, errors, shot } = await newPage(browser, 'mailbox');
  await register('mia', 'mia@example.com');
  await register('mia2', 'mia@example.com');

  await page.goto(`${server.base}/dev/mail`);
  await page.getByRole('heading', { name: 'Dev mailbox' }).waitFor();
  const mails = page.locator('article.mail');
  assert.equal(await mails.count(), 2);
  // Newest first: the second registration's mail, past the address's budget.
  const newest = mails.nth(0);
  assert.match(await newest.textContent(), /Not sent: the address's mail budget \(ADDRESS_MAIL_LIMIT/);
  assert.equal(await newest.getByRole('link').count(), 0);
  const sent = mails.nth(1);
  assert.match(await sent.textContent(), /To mia@example\.com/);
  await shot('mailbox');

  const link = sent.getByRole('link', { name: /\/confirm_email\// });
  assert.ok((await link.getAttribute('href')).startsWith(`${server.base}/confirm_email/`));
  await link.click();
  await page.getByRole('heading', { name: 'Confirm your email' }).waitFor();
  await page.getByRole('button', { name: 'Confirm my email' }).click();
  await page.waitForFunction(
    () => document.querySelector('#status')?.textContent.trim() === 'Your email has been confirmed.',
    null,
    { timeout: 5000 },
  );
  await shot('confirmed-from-mailbox');
  assert.deepEqual(errors, []);
});
