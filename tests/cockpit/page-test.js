// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Drives Ferry's Cockpit page in headless Chromium (playwright-core with the
// Debian chromium; no browser download).  Run by tests/test_cockpit.py:
//
//   COCKPIT_URL    the page, http://127.0.0.1:PORT/cockpit/@localhost/ferry/index.html
//   FERRY_DOMAIN   the running domain to migrate
//   FERRY_DEST     the destination (the second host's bus address)
//   USER_DATA_DIR  a fresh, empty browser profile directory
//   SCREENSHOT     where to write a screenshot taken during perform
//   SCREENSHOT_DONE where to write a screenshot once the migration completed
//
// Prints one line per step; exits 0 when every check passed, 1 otherwise.

"use strict";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

let chromium;
try {
    ({ chromium } = require("playwright-core"));
} catch (e) {
    console.error("FAIL: playwright-core is not installed in tests/cockpit/node_modules " +
                  "(run scripts/setup.sh): " + e.message);
    process.exit(1);
}

function need(name) {
    const v = process.env[name];
    if (!v) {
        console.error("FAIL: environment variable " + name + " is not set");
        process.exit(1);
    }
    return v;
}

const url = need("COCKPIT_URL");
const domain = need("FERRY_DOMAIN");
const dest = need("FERRY_DEST");
const userDataDir = need("USER_DATA_DIR");
const screenshot = process.env.SCREENSHOT;
const screenshotDone = process.env.SCREENSHOT_DONE;

const t0 = Date.now();
function step(msg) {
    console.log("[page-test +" + ((Date.now() - t0) / 1000).toFixed(2) + "s] " + msg);
}

function sleep(ms) {
    return new Promise(resolve => setTimeout(resolve, ms));
}

async function main() {
    const consoleErrors = [];
    const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1280, height: 900 },
        args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync"],
    });
    try {
        const page = context.pages()[0] || await context.newPage();
        page.setDefaultTimeout(30000);
        page.on("console", m => {
            if (m.type() === "error")
                consoleErrors.push(m.text());
            if (m.type() === "error" || m.type() === "warning")
                step("browser console " + m.type() + ": " + m.text());
        });
        page.on("pageerror", e => {
            consoleErrors.push(String(e));
            step("page error: " + e);
        });

        step("opening " + url);
        await page.goto(url);
        await page.locator("body[data-ready='true']").waitFor({ timeout: 30000 });

        // the domain is listed, with its state and backend
        const domains = page.getByRole("table", { name: "Domains" });
        const drow = domains.getByRole("row").filter({ has: page.getByRole("rowheader", { name: domain, exact: true }) });
        await drow.waitFor();
        await drow.getByRole("cell", { name: "running", exact: true }).waitFor();
        step("domain row: " + (await drow.innerText()).replace(/\s+/g, " "));

        // the Migrate dialog
        await drow.getByRole("button", { name: "Migrate" }).click();
        const dialog = page.getByRole("dialog");
        await dialog.waitFor();
        await dialog.getByLabel("Destination").fill(dest);
        await dialog.getByLabel("Max bandwidth (MiB/s)").fill("16");
        step("dialog filled: destination " + dest + ", 16 MiB/s");
        await dialog.getByRole("button", { name: "Migrate", exact: true }).click();
        await dialog.waitFor({ state: "hidden" });
        step("dialog closed: Migrate accepted");

        // the migration: phase perform and a rising progress bar
        const migrations = page.getByRole("table", { name: "Migrations" });
        const mrow = migrations.getByRole("row").filter({ has: page.getByRole("rowheader", { name: domain, exact: true }) }).first();
        await mrow.waitFor();
        const phase = mrow.locator(".ferry-phase");
        const state = mrow.locator(".ferry-state");
        const bar = mrow.getByRole("progressbar");
        await mrow.getByRole("button", { name: "Cancel", exact: true }).waitFor();
        await page.waitForFunction(el => el.textContent === "perform", await phase.elementHandle(), { timeout: 60000 });
        step("phase perform, state " + await state.textContent());

        const values = [];
        let rises = 0;
        const deadline = Date.now() + 60000;
        while (rises < 2) {
            if (Date.now() > deadline)
                throw new Error("progress did not rise twice during perform: " + values.join(" "));
            const p = await phase.textContent();
            const v = Number(await bar.getAttribute("aria-valuenow"));
            if (!(v >= 0 && v <= 100))
                throw new Error("aria-valuenow out of range: " + v);
            if (values.length && v < values[values.length - 1])
                throw new Error("progress went backwards: " + values.join(" ") + " " + v);
            if (!values.length || v !== values[values.length - 1]) {
                if (values.length && p === "perform")
                    rises++;
                values.push(v);
                step("progress " + v + " % (phase " + p + ", rate " +
                     await mrow.locator(".ferry-rate").textContent() + ", remaining " +
                     await mrow.locator(".ferry-remaining").textContent() + ")");
            }
            if (p !== "perform" && rises < 2)
                throw new Error("phase left perform (" + p + ") before progress rose twice: " + values.join(" "));
            await sleep(100);
        }
        // the details panel follows the migration the dialog started
        const details = page.getByRole("region", { name: /^Migration \d+: / });
        await details.getByText("Phase timeline").waitFor();
        if (screenshot) {
            // a picture with some progress in it (for docs/), still in perform
            const until = Date.now() + 4000;
            while (Date.now() < until && await phase.textContent() === "perform" &&
                   Number(await bar.getAttribute("aria-valuenow")) < 30)
                await sleep(100);
            await page.screenshot({ path: screenshot, fullPage: true });
            step("screenshot during perform: " + screenshot);
        }

        // completion and the statistics
        await page.waitForFunction(el => ["completed", "failed", "cancelled"].includes(el.textContent),
                                   await state.elementHandle(), { timeout: 90000 });
        const final = await state.textContent();
        if (final !== "completed") {
            const text = await details.innerText().catch(() => "");
            throw new Error("migration ended " + final + ": " + text);
        }
        step("state completed, phase " + await phase.textContent());
        if (Number(await bar.getAttribute("aria-valuenow")) !== 100)
            throw new Error("progress of a completed migration is not 100");
        const stats = details.locator("dl.ferry-statistics");
        await details.getByRole("heading", { name: "Statistics" }).waitFor();
        await stats.getByText("Total time", { exact: true }).waitFor();
        step("statistics: " + (await stats.innerText()).replace(/\s*\n\s*/g, " | "));
        if (await mrow.getByRole("button").count() !== 0)
            throw new Error("a completed migration still has buttons");
        const timeline = await details.locator(".ferry-timeline").innerText();
        for (const p of ["begin", "prepare", "perform", "finish", "confirm", "done"]) {
            if (!timeline.includes(p))
                throw new Error("phase timeline lacks " + p + ": " + timeline);
        }
        if (screenshotDone) {
            await sleep(500);    // the progress bar's width transition
            await page.screenshot({ path: screenshotDone, fullPage: true });
            step("screenshot after completion: " + screenshotDone);
        }
        if (await page.getByRole("alert").count() !== 0)
            throw new Error("unexpected alert: " + await page.getByRole("alert").first().innerText());
        if (consoleErrors.length)
            throw new Error("errors in the browser console: " + consoleErrors.join(" || "));
        step("OK");
    } finally {
        await context.close();
    }
}

main().then(() => process.exit(0), e => {
    console.error("FAIL: " + (e && e.stack ? e.stack : e));
    process.exit(1);
});
