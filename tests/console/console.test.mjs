// Browser test of the jobs console: Debian's chromium, driven by playwright-core (no downloaded browser).
// Run by tests/http/console.rs with the server's URL and a running backup's job id:
//   CONSOLE_URL=http://127.0.0.1:PORT/ CONSOLE_USER=root@sys CONSOLE_PASSWORD= JOB_ID=... SCREENSHOT=target/console.png
// Logs in, sees the backup's progress move, cancels it from its button (confirming the dialog), sees it
// reach canceled, and writes screenshots of the jobs page and the job page.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { chromium } from "playwright-core";

const url = process.env.CONSOLE_URL;
const user = process.env.CONSOLE_USER || "root@sys";
const password = process.env.CONSOLE_PASSWORD || "";
const jobId = process.env.JOB_ID;
const screenshot = process.env.SCREENSHOT || "target/console.png";
if (!url || !jobId) {
  console.error("CONSOLE_URL and JOB_ID are required");
  process.exit(2);
}

function step(msg) {
  console.log(`[console test] ${msg}`);
}

async function waitFor(what, seconds, fn) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

const profile = mkdtempSync(join(tmpdir(), "tenantry-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
  viewport: { width: 1440, height: 900 },
  deviceScaleFactor: 1,
});
let failed = false;
try {
  const page = context.pages()[0] || (await context.newPage());
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));

  step(`open ${url}`);
  await page.goto(url);
  await page.locator("#login-form").waitFor({ state: "visible", timeout: 15000 });
  step("log in");
  await page.fill("#login-user", user);
  await page.fill("#login-password", password);
  await page.click("#login-submit");
  await page.locator("#view-jobs").waitFor({ state: "visible", timeout: 15000 });
  await page.locator("#live:not(.lost)").waitFor({ state: "visible", timeout: 15000 });

  const row = page.locator(`#jobs-body tr[data-id="${jobId}"]`);
  await row.waitFor({ state: "visible", timeout: 15000 });
  const stateOf = async () => (await row.locator("[data-role=state]").textContent()).trim();
  const pctOf = async () => parseFloat(await row.locator("[data-role=pct]").textContent());

  await waitFor("the backup to run", 20, async () => (await stateOf()) === "running");
  const first = await waitFor("some progress", 20, async () => {
    const p = await pctOf();
    return p > 0 ? p : null;
  });
  step(`progress at ${first}%`);
  const moved = await waitFor("the progress to move", 20, async () => {
    const p = await pctOf();
    return p > first ? p : null;
  });
  step(`progress moved to ${moved}% without reloading the page`);
  // Let the bars settle (they animate for under a second) before the picture.
  await page.waitForTimeout(1100);
  await page.screenshot({ path: screenshot, fullPage: false });
  step(`screenshot of the jobs page: ${screenshot}`);

  step("cancel from the row's button");
  await row.locator("button[data-action=cancel]").click();
  const dialog = page.locator("#confirm");
  await dialog.waitFor({ state: "visible", timeout: 5000 });
  const question = await page.locator("#confirm-text").textContent();
  if (!question.includes(jobId)) throw new Error(`the dialog names the job: ${question}`);
  await page.screenshot({ path: join(dirname(screenshot), "console-confirm.png") });
  await page.click("#confirm-yes");
  await waitFor("the backup to be canceled", 30, async () => (await stateOf()) === "canceled");
  step("the row reads canceled");
  if (await row.locator("button[data-action]").count()) throw new Error("a canceled job offers no actions");

  step("open the job page");
  await row.locator(".job-desc").click();
  await page.locator("#view-job").waitFor({ state: "visible", timeout: 10000 });
  await waitFor("the job page to show the job", 10, async () =>
    (await page.locator("#job-state").textContent()).trim() === "canceled");
  const statement = await page.locator("#job-statement").textContent();
  if (!/BACKUP/i.test(statement)) throw new Error(`the job page shows the statement: ${statement}`);
  const timeline = await page.locator("#job-timeline").textContent();
  for (const s of ["running", "cancel-requested", "canceled"]) {
    if (!timeline.includes(s)) throw new Error(`the timeline shows ${s}: ${timeline}`);
  }
  const phases = await page.locator("#job-phases").textContent();
  if (!phases.includes("BACKUP_DATA")) throw new Error(`the phases show BACKUP_DATA: ${phases}`);
  await page.screenshot({ path: join(dirname(screenshot), "console-job.png"), fullPage: true });
  if (consoleErrors.length) throw new Error(`errors in the page: ${consoleErrors.join("; ")}`);
  step("ok");
} catch (e) {
  failed = true;
  console.error(`[console test] FAILED: ${e && e.stack ? e.stack : e}`);
  try {
    const page = context.pages()[0];
    if (page) await page.screenshot({ path: join(dirname(screenshot), "console-failure.png"), fullPage: true });
  } catch (_) { /* best effort */ }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
