// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Drives Ferry's Cockpit page in headless Chromium (playwright-core with the
// Debian chromium; no browser download).  Run by tests/e2e/test_cockpit.py:
//
//   SCENARIO       migrate (default), cancel, postcopy, auto, unprivileged or shell
//   SHELL_URL      (shell) the page in Cockpit's shell
//   COCKPIT_URL    the page, http://127.0.0.1:PORT/cockpit/@localhost/ferry/index.html
//   FERRY_DOMAIN   the running domain to migrate
//   FERRY_DEST     the destination (the second host's bus address)
//   USER_DATA_DIR  a fresh, empty browser profile directory
//   SCREENSHOT     (migrate) where to write a screenshot taken during perform
//   SCREENSHOT_DONE (migrate) where to write one once the migration completed
//   STARTED_FILE   (unprivileged) where the test writes the time (ms since
//                  the epoch) its own Migrate call returned, after this
//                  script printed "READY"
//
// Prints one line per step; exits 0 when every check passed, 1 otherwise.
// Any error in the browser console fails every scenario.

"use strict";

const fs = require("fs");

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const PHASES = ["begin", "prepare", "perform", "finish", "confirm", "done"];
const FINAL = ["completed", "failed", "cancelled"];
// DESIGN §2: authorization failures are AccessDenied or a NotAuthorized
const AUTH_ERROR = /org\.freedesktop\.DBus\.Error\.AccessDenied|\.NotAuthorized\b/;

let chromium;
try {
    ({ chromium } = require("playwright-core"));
} catch (e) {
    console.error("FAIL: playwright-core is not installed in tests/e2e/cockpit/node_modules " +
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

const scenario = process.env.SCENARIO || "migrate";
const url = need("COCKPIT_URL");
const domain = need("FERRY_DOMAIN");
const userDataDir = need("USER_DATA_DIR");

const t0 = Date.now();
function step(msg) {
    console.log("[page-test +" + ((Date.now() - t0) / 1000).toFixed(2) + "s] " + msg);
}

function sleep(ms) {
    return new Promise(resolve => setTimeout(resolve, ms));
}

function flat(text) {
    return text.replace(/\s*\n\s*/g, " | ").replace(/\s+/g, " ");
}

// ------------------------------------------------------------ page helpers

function domainRow(page, name) {
    return page.getByRole("table", { name: "Domains" }).getByRole("row")
            .filter({ has: page.getByRole("rowheader", { name, exact: true }) });
}

function migrationRow(page, name) {
    return page.getByRole("table", { name: "Migrations" }).getByRole("row")
            .filter({ has: page.getByRole("rowheader", { name, exact: true }) }).first();
}

function details(page) {
    return page.getByRole("region", { name: /^Migration \d+: / });
}

// wait until locator's text is one of values; returns it
async function waitText(page, locator, values, timeout) {
    await locator.waitFor({ timeout });
    await page.waitForFunction(([el, vs]) => vs.includes(el.textContent),
                               [await locator.elementHandle(), values], { timeout });
    return locator.textContent();
}

async function openPage(page) {
    step("opening " + url);
    await page.goto(url);
    await page.locator("body[data-ready='true']").waitFor({ timeout: 30000 });
    const row = domainRow(page, domain);
    await row.getByRole("cell", { name: "running", exact: true }).waitFor();
    step("domain row: " + flat(await row.innerText()));
    return row;
}

async function migrateViaDialog(page, row, fields) {
    await row.getByRole("button", { name: "Migrate" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    await dialog.getByLabel("Destination").fill(fields.destination);
    if (fields.bandwidth)
        await dialog.getByLabel("Max bandwidth (MiB/s)").fill(String(fields.bandwidth));
    if (fields.downtime)
        await dialog.getByLabel("Max downtime (ms)").fill(String(fields.downtime));
    if (fields.postcopy)
        await dialog.getByLabel("Post-copy").selectOption(fields.postcopy);
    step("dialog filled: " + JSON.stringify(fields));
    await dialog.getByRole("button", { name: "Migrate", exact: true }).click();
    return dialog;
}

// the progressbar's aria-valuenow must rise `rises` times while the phase
// reads perform; never go backwards, stay in 0..100
async function watchProgress(mrow, rises) {
    const phase = mrow.locator(".ferry-phase");
    const bar = mrow.getByRole("progressbar");
    const values = [];
    let seen = 0;
    const deadline = Date.now() + 60000;
    while (seen < rises) {
        if (Date.now() > deadline)
            throw new Error("progress did not rise " + rises + " times during perform: " + values.join(" "));
        const p = await phase.textContent();
        const v = Number(await bar.getAttribute("aria-valuenow"));
        if (!(v >= 0 && v <= 100))
            throw new Error("aria-valuenow out of range: " + v);
        if (values.length && v < values[values.length - 1])
            throw new Error("progress went backwards: " + values.join(" ") + " " + v);
        if (!values.length || v !== values[values.length - 1]) {
            if (values.length && p === "perform")
                seen++;
            values.push(v);
            step("progress " + v + " % (phase " + p + ", state " +
                 await mrow.locator(".ferry-state").textContent() + ", rate " +
                 await mrow.locator(".ferry-rate").textContent() + ", remaining " +
                 await mrow.locator(".ferry-remaining").textContent() + ")");
        }
        if (p !== "perform" && seen < rises)
            throw new Error("phase left perform (" + p + ") before progress rose " + rises + " times: " + values.join(" "));
        await sleep(100);
    }
    return values;
}

async function checkCompleted(page, mrow, mode) {
    const state = mrow.locator(".ferry-state");
    const final = await waitText(page, state, FINAL, 120000);
    if (final !== "completed")
        throw new Error("migration ended " + final + ": " + flat(await details(page).innerText().catch(() => "")));
    step("state completed, phase " + await mrow.locator(".ferry-phase").textContent());
    if (Number(await mrow.getByRole("progressbar").getAttribute("aria-valuenow")) !== 100)
        throw new Error("progress of a completed migration is not 100");
    const d = details(page);
    await d.getByRole("heading", { name: "Statistics" }).waitFor();
    const stats = d.locator("dl.ferry-statistics");
    await stats.getByText("Total time", { exact: true }).waitFor();
    const text = flat(await stats.innerText());
    step("statistics: " + text);
    if (mode && !text.includes("Mode | " + mode))
        throw new Error("statistics do not say mode " + mode + ": " + text);
    if (await mrow.getByRole("button").count() !== 0)
        throw new Error("a completed migration still has buttons");
    const timeline = await d.locator(".ferry-timeline").innerText();
    for (const p of PHASES) {
        if (!timeline.includes(p))
            throw new Error("phase timeline lacks " + p + ": " + timeline);
    }
}

async function noAlerts(page) {
    const alerts = page.getByRole("alert");
    if (await alerts.count() !== 0)
        throw new Error("unexpected alert: " + flat(await alerts.first().innerText()));
}

// ------------------------------------------------------------ scenarios

const scenarios = {
    // Migrate dialog -> perform with a rising progress bar -> completed
    // with statistics
    async migrate(page) {
        const row = await openPage(page);
        const dialog = await migrateViaDialog(page, row, { destination: need("FERRY_DEST"), bandwidth: 16 });
        await dialog.waitFor({ state: "hidden" });
        step("dialog closed: Migrate accepted");
        const mrow = migrationRow(page, domain);
        await mrow.getByRole("button", { name: "Cancel", exact: true }).waitFor();
        await waitText(page, mrow.locator(".ferry-phase"), ["perform"], 60000);
        step("phase perform, state " + await mrow.locator(".ferry-state").textContent());
        await watchProgress(mrow, 2);
        await details(page).getByText("Phase timeline").waitFor();
        const screenshot = process.env.SCREENSHOT;
        if (screenshot) {
            // a picture with some progress in it (for docs/), still in perform
            const until = Date.now() + 4000;
            while (Date.now() < until && await mrow.locator(".ferry-phase").textContent() === "perform" &&
                   Number(await mrow.getByRole("progressbar").getAttribute("aria-valuenow")) < 30)
                await sleep(100);
            await page.screenshot({ path: screenshot, fullPage: true });
            step("screenshot during perform: " + screenshot);
        }
        await checkCompleted(page, mrow);
        const done = process.env.SCREENSHOT_DONE;
        if (done) {
            await sleep(500);    // the progress bar's width transition
            await page.screenshot({ path: done, fullPage: true });
            step("screenshot after completion: " + done);
        }
        await noAlerts(page);
    },

    // Cancel during perform: the migration ends cancelled
    async cancel(page) {
        const row = await openPage(page);
        const dialog = await migrateViaDialog(page, row, { destination: need("FERRY_DEST"), bandwidth: 4 });
        await dialog.waitFor({ state: "hidden" });
        const mrow = migrationRow(page, domain);
        await waitText(page, mrow.locator(".ferry-phase"), ["perform"], 60000);
        await watchProgress(mrow, 1);
        await mrow.getByRole("button", { name: "Cancel", exact: true }).click();
        step("clicked Cancel");
        const final = await waitText(page, mrow.locator(".ferry-state"), FINAL, 60000);
        if (final !== "cancelled")
            throw new Error("migration ended " + final + " after Cancel");
        step("state cancelled, phase " + await mrow.locator(".ferry-phase").textContent());
        if (await mrow.getByRole("button").count() !== 0)
            throw new Error("a cancelled migration still has buttons");
        const d = details(page);
        await d.getByRole("heading", { name: "Error" }).waitFor();
        step("details: " + flat(await d.locator(".pf-c-alert").innerText()));
        await noAlerts(page);
    },

    // post-copy manual on a guest that dirties faster than the capped link:
    // Start post-copy completes it
    async postcopy(page) {
        const row = await openPage(page);
        const dialog = await migrateViaDialog(page, row, {
            destination: need("FERRY_DEST"), bandwidth: 8, postcopy: "manual"
        });
        await dialog.waitFor({ state: "hidden" });
        const mrow = migrationRow(page, domain);
        await waitText(page, mrow.locator(".ferry-phase"), ["perform"], 60000);
        const start = mrow.getByRole("button", { name: "Start post-copy", exact: true });
        await start.waitFor();
        // a few pre-copy passes that do not converge first
        // (the details panel is rebuilt on each change: poll a locator)
        const term = name => details(page).locator("dt", { hasText: new RegExp("^" + name + "$") })
                .locator("xpath=following-sibling::dd");
        const deadline = Date.now() + 60000;
        while (Number(await term("Iteration").textContent()) < 3) {
            if (Date.now() > deadline)
                throw new Error("no third pre-copy pass: iteration " + await term("Iteration").textContent());
            await sleep(100);
        }
        step("iteration " + await term("Iteration").textContent() + ", state " +
             await mrow.locator(".ferry-state").textContent() + ", converging " + await term("Converging").textContent() +
             ", dirty rate " + await term("Dirty rate").textContent());
        await start.click();
        step("clicked Start post-copy");
        await checkCompleted(page, mrow, "postcopy");
        await noAlerts(page);
    },

    // post-copy auto: ferryd's policy switches to post-copy by itself and
    // says why in a PolicyAction signal, which the details list
    async auto(page) {
        const row = await openPage(page);
        const dialog = await migrateViaDialog(page, row, {
            destination: need("FERRY_DEST"), bandwidth: 8, downtime: 50, postcopy: "auto"
        });
        await dialog.waitFor({ state: "hidden" });
        const mrow = migrationRow(page, domain);
        await waitText(page, mrow.locator(".ferry-phase"), ["perform"], 60000);
        await checkCompleted(page, mrow, "postcopy");
        const policy = details(page).getByRole("list", { name: "Policy actions" });
        await policy.waitFor();
        const text = flat(await policy.innerText());
        step("policy actions: " + text);
        if (!/start-postcopy: pre-copy is not converging/.test(text))
            throw new Error("the policy action and its reason are not shown: " + text);
        await noAlerts(page);
    },

    // in Cockpit's shell: the menu has "Migrations", and the page works
    // in the shell's frame (SHELL_URL, e.g. http://127.0.0.1:PORT/ferry)
    async shell(page) {
        const shellUrl = need("SHELL_URL");
        step("opening " + shellUrl);
        await page.goto(shellUrl);
        const link = page.getByRole("link", { name: "Migrations", exact: true });
        await link.waitFor();
        step("menu entry: " + await link.getAttribute("href"));
        const frame = page.frameLocator("iframe[name$='/ferry']");
        await frame.locator("body[data-ready='true']").waitFor({ timeout: 30000 });
        await frame.getByRole("table", { name: "Domains" }).getByRole("row")
                .filter({ has: frame.getByRole("rowheader", { name: domain, exact: true }) })
                .getByRole("cell", { name: "running", exact: true }).waitFor();
        step("the page in the shell's frame lists " + domain);
        if (await frame.getByRole("alert").count() !== 0)
            throw new Error("unexpected alert: " + flat(await frame.getByRole("alert").first().innerText()));
    },

    // a user without rights: sees domains and migrations; Migrate and
    // Cancel show ferryd's "not authorized" in an alert; a migration
    // started elsewhere appears within a second and its progress moves
    async unprivileged(page) {
        const row = await openPage(page);
        const dialog = await migrateViaDialog(page, row, { destination: need("FERRY_DEST"), bandwidth: 4 });
        const dalert = dialog.getByRole("alert");
        await dalert.waitFor();
        const dtext = flat(await dalert.innerText());
        step("Migrate refused: " + dtext);
        if (!AUTH_ERROR.test(dtext) || !dtext.includes("org.ferryvm.ferry1.migrate"))
            throw new Error("the alert does not carry ferryd's not-authorized message: " + dtext);
        await dialog.getByRole("button", { name: "Cancel", exact: true }).click();
        await dialog.waitFor({ state: "hidden" });
        await sleep(300);
        if (await migrationRow(page, domain).count() !== 0)
            throw new Error("a migration exists though Migrate was refused");

        // the test starts a migration as root now
        const startedFile = need("STARTED_FILE");
        console.log("READY");
        const mrow = migrationRow(page, domain);
        await mrow.waitFor({ timeout: 30000 });
        const seen = Date.now();
        let started = null;
        for (let i = 0; i < 200 && started === null; i++) {
            try {
                started = Number(fs.readFileSync(startedFile, "utf8"));
            } catch (e) {
                await sleep(50);
            }
        }
        if (!started)
            throw new Error("the test never wrote " + startedFile);
        step("migration started elsewhere appeared " + (seen - started) + " ms after its Migrate call returned");
        if (seen - started > 1000)
            throw new Error("a migration started elsewhere took " + (seen - started) + " ms to appear");
        await waitText(page, mrow.locator(".ferry-phase"), ["perform"], 60000);
        await watchProgress(mrow, 2);

        await mrow.getByRole("button", { name: "Cancel", exact: true }).click();
        const alert = page.locator("#alerts").getByRole("alert");
        await alert.waitFor();
        const text = flat(await alert.innerText());
        step("Cancel refused: " + text);
        if (!AUTH_ERROR.test(text) || !text.includes("org.ferryvm.ferry1.control"))
            throw new Error("the alert does not carry ferryd's not-authorized message: " + text);
        const state = await mrow.locator(".ferry-state").textContent();
        if (FINAL.includes(state))
            throw new Error("the migration ended (" + state + ") though Cancel was refused");
        step("migration still " + state);
    },
};

async function main() {
    const run = scenarios[scenario];
    if (!run)
        throw new Error("unknown SCENARIO " + scenario);
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
            // in the shell, the shell's own pages complain about what this
            // machine lacks (systemd, ...): only the errors of ours count
            const ours = scenario !== "shell" || (m.location().url || "").includes("/ferry/");
            if (m.type() === "error" && ours)
                consoleErrors.push(m.text() + " (" + (m.location().url || "?") + ")");
            if (m.type() === "error" || m.type() === "warning")
                step("browser console " + m.type() + ": " + m.text());
        });
        page.on("pageerror", e => {
            consoleErrors.push(String(e));
            step("page error: " + e);
        });
        step("scenario " + scenario);
        await run(page);
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
