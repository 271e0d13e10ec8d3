// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Ferry's Cockpit page: the domains of this host with a Migrate dialog, the
// migrations with live progress and their controls, and the details of one
// migration.  Everything comes from ferryd's ObjectManager, PropertiesChanged
// and the Migration signals (DESIGN §2, §9); nothing is polled.

(function () {
    "use strict";

    const BUS_NAME = "org.ferryvm.Ferry1";
    const ROOT = "/org/ferryvm/Ferry1";
    const MANAGER = "org.ferryvm.Ferry1.Manager";
    const DOMAIN = "org.ferryvm.Ferry1.Domain";
    const MIGRATION = "org.ferryvm.Ferry1.Migration";

    const FINAL_STATES = ["completed", "failed", "cancelled"];
    const PHASES = ["begin", "prepare", "perform", "finish", "confirm", "done"];
    const MIB = 1024 * 1024;

    const _ = cockpit.gettext;

    let client = null;
    let manager = null;
    let domains = null;
    let migrations = null;

    const domainRows = new Map();     // path -> row record
    const migrationRows = new Map();  // path -> row record
    const policyActions = new Map();  // path -> [{action, reason, time}]
    const finalSignals = new Map();   // path -> {statistics} or {error_name, message}
    let selected = null;              // path of the migration in the details panel
    let userSelected = false;
    let dialogDomain = null;

    function $(id) {
        return document.getElementById(id);
    }

    function el(tag, attrs, children) {
        const e = document.createElement(tag);
        for (const k in attrs || {}) {
            if (k === "text")
                e.textContent = attrs[k];
            else if (k === "class")
                e.className = attrs[k];
            else if (attrs[k] !== undefined && attrs[k] !== null && attrs[k] !== false)
                e.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
        }
        for (const c of children || []) {
            if (c !== null && c !== undefined)
                e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
        }
        return e;
    }

    // ---------------------------------------------------------- formatting

    // a{sv} values arrive as {t: signature, v: value}
    function variant(v) {
        return (v && typeof v === "object" && "v" in v && "t" in v) ? v.v : v;
    }

    function num(v) {
        const n = Number(variant(v));
        return Number.isFinite(n) ? n : 0;
    }

    function fmtBytes(n) {
        n = Number(n) || 0;
        if (n >= 1024 * MIB)
            return (n / (1024 * MIB)).toFixed(2) + " GiB";
        if (n >= MIB)
            return (n / MIB).toFixed(1) + " MiB";
        if (n >= 1024)
            return (n / 1024).toFixed(1) + " KiB";
        return n + " B";
    }

    function fmtRate(n) {
        n = Number(n) || 0;
        if (n <= 0)
            return "—";
        return (n / MIB).toFixed(1) + " MiB/s";
    }

    function fmtMs(ms) {
        ms = Number(ms) || 0;
        if (ms < 1000)
            return ms + " ms";
        const s = ms / 1000;
        if (s < 60)
            return s.toFixed(1) + " s";
        const m = Math.floor(s / 60);
        return m + " min " + Math.round(s - 60 * m) + " s";
    }

    function fmtClock(us) {
        const d = new Date(Number(us) / 1000);
        const pad = (x, w) => String(x).padStart(w || 2, "0");
        return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) +
               "." + pad(d.getMilliseconds(), 3);
    }

    function migrationNumber(path) {
        const n = parseInt(path.substring(path.lastIndexOf("/") + 1), 10);
        return Number.isFinite(n) ? n : 0;
    }

    function isRunning(m) {
        return !!m.State && !FINAL_STATES.includes(m.State);
    }

    function optionValue(m, key) {
        const o = m.Options || {};
        return key in o ? variant(o[key]) : undefined;
    }

    function percent(m) {
        let p = Math.round(100 * (Number(m.Progress) || 0));
        if (m.State === "completed")
            p = 100;
        return Math.max(0, Math.min(100, p));
    }

    // ---------------------------------------------------------- alerts

    function errorText(err) {
        if (!err)
            return _("Unknown error");
        return err.message || err.problem || String(err);
    }

    function showAlert(title, err, container) {
        const box = container || $("alerts");
        const text = errorText(err);
        const alert = el("div", { class: "pf-c-alert pf-m-danger pf-m-inline", role: "alert" }, [
            el("p", { class: "pf-c-alert__title", text: title }),
            el("div", { class: "pf-c-alert__description" }, [
                el("p", { class: "ferry-alert-message", text }),
                err && err.name ? el("p", { class: "ferry-alert-name", text: err.name }) : null,
            ]),
        ]);
        const close = el("button", {
            class: "pf-c-button pf-m-plain pf-c-alert__action",
            type: "button",
            "aria-label": _("Dismiss alert"),
            text: "×",
        });
        close.addEventListener("click", () => alert.remove());
        alert.appendChild(close);
        box.appendChild(alert);
        return alert;
    }

    // cockpit's promises are its own deferreds: wrap them
    function call(path, iface, method, args, type) {
        return new Promise((resolve, reject) => {
            client.call(path, iface, method, args, type ? { type } : undefined)
                    .then(reply => resolve(reply), err => reject(err));
        });
    }

    // a button that calls a method; the button is busy meanwhile and any
    // error lands in an alert
    function actionButton(label, cls, what, fn) {
        const b = el("button", { class: "pf-c-button " + cls, type: "button", text: label });
        b.addEventListener("click", ev => {
            ev.stopPropagation();
            b.disabled = true;
            b.setAttribute("aria-busy", "true");
            fn().catch(err => showAlert(what, err))
                    .finally(() => {
                        b.disabled = false;
                        b.removeAttribute("aria-busy");
                    });
        });
        return b;
    }

    // ---------------------------------------------------------- domains

    function domainRow(path) {
        let r = domainRows.get(path);
        if (r)
            return r;
        r = { path };
        r.name = el("th", { scope: "row", "data-label": "Name" });
        r.state = el("td", { "data-label": "State" });
        r.backend = el("td", { "data-label": "Backend" });
        r.migrate = el("button", { class: "pf-c-button pf-m-secondary", type: "button", text: "Migrate" });
        r.migrate.addEventListener("click", () => openMigrateDialog(path));
        r.tr = el("tr", { "data-path": path }, [r.name, r.state, r.backend,
            el("td", { class: "pf-c-table__action" }, [r.migrate])]);
        domainRows.set(path, r);
        return r;
    }

    function renderDomains() {
        const body = $("domains");
        const list = Object.keys(domains || {}).map(p => domains[p]).filter(d => d.valid !== false && d.Name !== undefined);
        list.sort((a, b) => String(a.Name).localeCompare(String(b.Name)));
        const seen = new Set();
        for (const d of list) {
            const r = domainRow(d.path);
            seen.add(d.path);
            r.name.textContent = d.Name;
            r.state.textContent = d.State || "";
            r.state.title = d.StateReason || "";
            r.backend.textContent = d.Backend || "";
            r.tr.dataset.state = d.State || "";
            r.migrate.disabled = !["running", "paused"].includes(d.State);
            r.migrate.setAttribute("aria-label", "Migrate " + d.Name);
            r.migrate.textContent = "Migrate";
        }
        for (const [p, r] of domainRows) {
            if (!seen.has(p)) {
                r.tr.remove();
                domainRows.delete(p);
            }
        }
        list.forEach((d, i) => {
            const tr = domainRows.get(d.path).tr;
            if (body.children[i] !== tr)
                body.insertBefore(tr, body.children[i] || null);
        });
        $("domains-empty").hidden = list.length > 0;
        $("domains-table").hidden = list.length === 0;
    }

    // ---------------------------------------------------------- the dialog

    function openMigrateDialog(path) {
        const d = domains[path];
        if (!d)
            return;
        dialogDomain = d.Name;
        $("migrate-dialog-title").textContent = "Migrate " + d.Name;
        $("migrate-dialog-alerts").replaceChildren();
        $("migrate-submit").disabled = false;
        $("migrate-dialog").showModal();
        $("migrate-destination").focus();
    }

    function closeMigrateDialog() {
        $("migrate-dialog").close();
        dialogDomain = null;
    }

    function readOptions() {
        // only the options the user gave (DESIGN §2: unknown keys and
        // wrong types are errors, so the types are exact)
        const opts = {};
        const problems = [];
        const postcopy = $("migrate-postcopy").value;
        if (postcopy && postcopy !== "off")
            opts.postcopy = cockpit.variant("s", postcopy);
        const bw = $("migrate-bandwidth").value.trim();
        if (bw !== "") {
            const v = Number(bw);
            if (!Number.isFinite(v) || v <= 0)
                problems.push(_("Max bandwidth must be a positive number of MiB/s"));
            else
                opts["max-bandwidth"] = cockpit.variant("t", Math.round(v * MIB));
        }
        const dt = $("migrate-downtime").value.trim();
        if (dt !== "") {
            const v = Number(dt);
            if (!Number.isInteger(v) || v <= 0)
                problems.push(_("Max downtime must be a positive whole number of milliseconds"));
            else
                opts["max-downtime"] = cockpit.variant("t", v);
        }
        return { opts, problems };
    }

    function submitMigrate(ev) {
        ev.preventDefault();
        const alerts = $("migrate-dialog-alerts");
        alerts.replaceChildren();
        const dest = $("migrate-destination").value.trim();
        const { opts, problems } = readOptions();
        if (!dest)
            problems.unshift(_("Destination is required"));
        if (problems.length) {
            showAlert(_("Cannot migrate"), { message: problems.join("; ") }, alerts);
            return;
        }
        const name = dialogDomain;
        const submit = $("migrate-submit");
        submit.disabled = true;
        call(ROOT, MANAGER, "Migrate", [name, dest, opts], "ssa{sv}")
                .then(([path]) => {
                    closeMigrateDialog();
                    select(path, true);
                })
                .catch(err => {
                    showAlert(cockpit.format(_("Migrating $0 failed"), name), err, alerts);
                })
                .finally(() => {
                    submit.disabled = false;
                });
    }

    // ---------------------------------------------------------- migrations

    function migrationRow(path) {
        let r = migrationRows.get(path);
        if (r)
            return r;
        r = { path };
        r.domain = el("th", { scope: "row", "data-label": "Domain" });
        r.dest = el("td", { "data-label": "Destination", class: "ferry-dest" });
        r.phase = el("td", { "data-label": "Phase", class: "ferry-phase" });
        r.state = el("td", { "data-label": "State", class: "ferry-state" });
        r.indicator = el("div", { class: "pf-c-progress__indicator" });
        r.bar = el("div", {
            class: "pf-c-progress__bar",
            role: "progressbar",
            "aria-valuemin": "0",
            "aria-valuemax": "100",
            "aria-valuenow": "0",
        }, [r.indicator]);
        r.pct = el("span", { class: "pf-c-progress__measure", "aria-hidden": "true" });
        r.progress = el("td", { "data-label": "Progress", class: "ferry-progress-col" }, [
            el("div", { class: "pf-c-progress pf-m-sm pf-m-outside" }, [r.bar, r.pct])]);
        r.rate = el("td", { "data-label": "Rate", class: "ferry-rate" });
        r.remaining = el("td", { "data-label": "Time remaining", class: "ferry-remaining" });
        r.actions = el("div", { class: "ferry-actions" });
        r.buttons = {};
        r.tr = el("tr", { class: "ferry-migration", tabindex: "0", "data-path": path },
                  [r.domain, r.dest, r.phase, r.state, r.progress, r.rate, r.remaining,
                      el("td", { class: "pf-c-table__action" }, [r.actions])]);
        r.tr.addEventListener("click", () => select(path, true));
        r.tr.addEventListener("keydown", ev => {
            if (ev.target === r.tr && (ev.key === "Enter" || ev.key === " ")) {
                ev.preventDefault();
                select(path, true);
            }
        });
        migrationRows.set(path, r);
        return r;
    }

    function wantedButtons(m) {
        const want = [];
        const running = isRunning(m);
        const postcopy = optionValue(m, "postcopy");
        if (running && !["postcopy-active", "postcopy-paused"].includes(m.State))
            want.push("Cancel");
        if (m.State === "active" && m.Mode !== "postcopy" && (postcopy === "manual" || postcopy === "auto"))
            want.push("Start post-copy");
        if (m.State === "postcopy-paused")
            want.push("Recover");
        return want;
    }

    function makeButton(path, label) {
        if (label === "Cancel")
            return actionButton(label, "pf-m-danger", _("Cancel failed"),
                                () => call(path, MIGRATION, "Cancel", []));
        if (label === "Start post-copy")
            return actionButton(label, "pf-m-secondary", _("Starting post-copy failed"),
                                () => call(path, MIGRATION, "StartPostCopy", []));
        return actionButton(label, "pf-m-secondary", _("Recover failed"),
                            () => call(path, MIGRATION, "Recover", [""], "s"));
    }

    function updateMigrationRow(m) {
        const r = migrationRow(m.path);
        const incoming = m.Direction === "incoming";
        r.domain.textContent = m.DomainName || "";
        r.dest.textContent = incoming ? "from " + (m.Source || "") : (m.Destination || "");
        r.phase.textContent = m.Phase || "";
        r.state.textContent = m.State || "";
        r.tr.dataset.state = m.State || "";
        r.tr.dataset.phase = m.Phase || "";
        const p = percent(m);
        if (r.bar.getAttribute("aria-valuenow") !== String(p))
            r.bar.setAttribute("aria-valuenow", String(p));
        r.bar.setAttribute("aria-valuetext", p + " %");
        r.bar.setAttribute("aria-label", "Progress of " + (m.DomainName || "migration"));
        r.indicator.style.width = p + "%";
        r.pct.textContent = p + " %";
        const running = isRunning(m);
        r.rate.textContent = running ? fmtRate(m.TransferRate) : "—";
        r.remaining.textContent = running ? (num(m.TimeRemaining) > 0 ? fmtMs(m.TimeRemaining) : _("unknown")) : "—";
        r.tr.classList.toggle("ferry-running", running);
        r.tr.classList.toggle("ferry-failed", m.State === "failed");

        // buttons: keep the existing elements (a click on one must not
        // be lost to a re-render), add and remove by label
        const want = wantedButtons(m);
        for (const label of Object.keys(r.buttons)) {
            if (!want.includes(label)) {
                r.buttons[label].remove();
                delete r.buttons[label];
            }
        }
        for (const label of want) {
            if (!r.buttons[label]) {
                r.buttons[label] = makeButton(m.path, label);
                r.buttons[label].setAttribute("data-action", label);
            }
        }
        want.forEach((label, i) => {
            if (r.actions.children[i] !== r.buttons[label])
                r.actions.insertBefore(r.buttons[label], r.actions.children[i] || null);
        });
    }

    function validMigrations() {
        return Object.keys(migrations || {}).map(p => migrations[p])
                .filter(m => m.valid !== false && m.State !== undefined);
    }

    function sortedMigrations() {
        const list = validMigrations();
        list.sort((a, b) => {
            const ra = isRunning(a) ? 0 : 1;
            const rb = isRunning(b) ? 0 : 1;
            if (ra !== rb)
                return ra - rb;
            return migrationNumber(b.path) - migrationNumber(a.path);
        });
        return list;
    }

    function renderMigrations() {
        const body = $("migrations");
        const list = sortedMigrations();
        const seen = new Set(list.map(m => m.path));
        for (const m of list)
            updateMigrationRow(m);
        for (const [p, r] of migrationRows) {
            if (!seen.has(p)) {
                r.tr.remove();
                migrationRows.delete(p);
            }
        }
        list.forEach((m, i) => {
            const tr = migrationRows.get(m.path).tr;
            if (body.children[i] !== tr)
                body.insertBefore(tr, body.children[i] || null);
        });
        $("migrations-empty").hidden = list.length > 0;
        $("migrations-table").hidden = list.length === 0;

        if (selected && !seen.has(selected)) {
            selected = null;
            userSelected = false;
        }
        if (!selected && list.length)
            select(list[0].path, false);
        else
            renderDetails();
    }

    function select(path, byUser) {
        selected = path;
        if (byUser)
            userSelected = true;
        for (const [p, r] of migrationRows) {
            r.tr.setAttribute("aria-selected", p === selected ? "true" : "false");
            r.tr.classList.toggle("pf-m-selected", p === selected);
        }
        renderDetails();
    }

    // ---------------------------------------------------------- details

    function detailList(label, pairs) {
        const dl = el("dl", { class: "pf-c-description-list pf-m-horizontal pf-m-compact", "aria-label": label });
        for (const [k, v] of pairs) {
            dl.appendChild(el("div", { class: "pf-c-description-list__group" }, [
                el("dt", { class: "pf-c-description-list__term", text: k }),
                el("dd", { class: "pf-c-description-list__description", text: v }),
            ]));
        }
        return dl;
    }

    const STAT_LABELS = {
        "total-time": "Total time",
        "setup-time": "Setup time",
        downtime: "Downtime",
        "downtime-real": "Downtime (measured)",
        "memory-total": "Memory",
        "memory-transferred": "Memory transferred",
        "memory-remaining": "Memory remaining",
        "pages-transferred": "Pages transferred",
        "pages-zero": "Zero pages",
        iterations: "Iterations",
        "dirty-rate": "Dirty rate",
        "transfer-rate": "Transfer rate",
        "postcopy-requests": "Post-copy requests",
        "postcopy-time": "Post-copy time",
        "disk-total": "Disk",
        "disk-transferred": "Disk transferred",
        mode: "Mode",
        features: "Features",
    };

    function statValue(key, v) {
        v = variant(v);
        if (Array.isArray(v))
            return v.length ? v.join(", ") : "none";
        if (v && typeof v === "object")
            return JSON.stringify(v);
        if (/-time$|^downtime/.test(key))
            return fmtMs(v);
        if (/-rate$/.test(key))
            return fmtRate(v);
        if (/^(memory|disk)-/.test(key))
            return fmtBytes(v);
        return String(v);
    }

    // the Convergence a{sv}: "verdict (reason): figures; suggestion"
    function convergenceText(c) {
        if (!c || c.verdict === undefined)
            return "unknown";
        const get = k => (c[k] === undefined ? "" : String(variant(c[k])));
        let text = get("verdict") + " (" + get("reason") + ")";
        if (get("description"))
            text += ": " + get("description");
        if (get("suggestion") && get("suggestion") !== "none needed")
            text += "; suggestion: " + get("suggestion");
        return text;
    }

    function optionText(key, v) {
        v = variant(v);
        if (/bandwidth$/.test(key))
            return fmtRate(v);
        if (key === "max-downtime")
            return v + " ms";
        if (key === "timeout")
            return v + " s";
        if (Array.isArray(v))
            return v.join(" ");
        return String(v);
    }

    function statisticsPairs(stats) {
        const keys = Object.keys(stats);
        const known = Object.keys(STAT_LABELS).filter(k => keys.includes(k));
        const rest = keys.filter(k => !(k in STAT_LABELS)).sort();
        return known.concat(rest).map(k => [STAT_LABELS[k] || k, statValue(k, stats[k])]);
    }

    function renderDetails() {
        const section = $("details-section");
        const box = $("details");
        const m = selected && migrations ? migrations[selected] : null;
        if (!m || m.State === undefined) {
            section.hidden = true;
            box.replaceChildren();
            return;
        }
        section.hidden = false;
        $("details-title").textContent = "Migration " + migrationNumber(m.path) + ": " + (m.DomainName || "");

        const parts = [];
        const opts = m.Options || {};
        const optText = Object.keys(opts).sort().map(k => k + "=" + optionText(k, opts[k])).join(", ");
        parts.push(detailList("Overview", [
            ["Direction", m.Direction || ""],
            ["Source", m.Source || ""],
            ["Destination", m.Destination || ""],
            ["Backend", m.Backend || ""],
            ["Mode", m.Mode || ""],
            ["Options", optText || "none"],
            ["Elapsed", fmtMs(m.TimeElapsed)],
            ["Memory", fmtBytes(m.MemoryProcessed) + " of " + fmtBytes(m.MemoryTotal)],
            ["Iteration", String(m.Iteration || 0)],
            ["Dirty rate", fmtRate(m.DirtyRate)],
            ["Expected downtime", fmtMs(m.ExpectedDowntime)],
            ["Converging", m.Converging || "unknown"],
            ["Convergence", convergenceText(m.Convergence)],
        ]));

        // the phase timeline
        const stamps = m.PhaseTimestamps || {};
        const phases = PHASES.concat(Object.keys(stamps).filter(p => !PHASES.includes(p)));
        const t0 = stamps.begin !== undefined ? Number(stamps.begin) : null;
        const ol = el("ol", { class: "ferry-timeline", "aria-labelledby": "timeline-title" });
        for (const p of phases) {
            const reached = p in stamps;
            const current = p === m.Phase && isRunning(m);
            const when = reached
                ? fmtClock(stamps[p]) + (t0 !== null ? " (+" + fmtMs(Math.round((Number(stamps[p]) - t0) / 1000)) + ")" : "")
                : "";
            ol.appendChild(el("li", {
                class: "ferry-timeline__item" + (reached ? " ferry-reached" : "") + (current ? " ferry-current" : ""),
                "aria-current": current ? "step" : null,
            }, [el("span", { class: "ferry-timeline__phase", text: p }),
                el("span", { class: "ferry-timeline__time", text: when || "—" })]));
        }
        parts.push(el("h3", { class: "pf-c-title pf-m-md", id: "timeline-title", text: "Phase timeline" }));
        parts.push(ol);

        // policy actions, with their reasons
        parts.push(el("h3", { class: "pf-c-title pf-m-md", id: "policy-title", text: "Policy actions" }));
        const acts = policyActions.get(m.path) || [];
        if (acts.length) {
            parts.push(el("ul", { class: "ferry-policy", "aria-labelledby": "policy-title" },
                          acts.map(a => el("li", {}, [
                              el("strong", { text: a.action }), ": " + a.reason,
                              el("span", { class: "ferry-muted", text: " (" + fmtClock(a.time * 1000) + ")" })]))));
        } else {
            parts.push(el("p", { class: "ferry-muted", text: "None received." }));
        }

        // outcome
        if (m.State === "completed" || m.State === "cancelled" || m.State === "failed") {
            const err = m.ErrorName || (finalSignals.get(m.path) || {}).error_name;
            const msg = m.ErrorMessage || (finalSignals.get(m.path) || {}).message;
            if (m.State !== "completed" && (err || msg)) {
                parts.push(el("h3", { class: "pf-c-title pf-m-md", text: "Error" }));
                parts.push(el("div", { class: "pf-c-alert pf-m-inline " + (m.State === "cancelled" ? "pf-m-info" : "pf-m-danger") }, [
                    el("p", { class: "pf-c-alert__title", text: err || m.State }),
                    el("div", { class: "pf-c-alert__description", text: msg || "" }),
                ]));
            }
            let stats = m.Statistics || {};
            if (!Object.keys(stats).length)
                stats = (finalSignals.get(m.path) || {}).statistics || {};
            if (Object.keys(stats).length) {
                parts.push(el("h3", { class: "pf-c-title pf-m-md", id: "statistics-title", text: "Statistics" }));
                const dl = detailList("Statistics", statisticsPairs(stats));
                dl.classList.add("ferry-statistics");
                parts.push(dl);
            }
        }
        box.replaceChildren(...parts);
    }

    // ---------------------------------------------------------- wiring

    function onSignal(path, iface, signal, args) {
        if (iface !== MIGRATION)
            return;
        if (signal === "PolicyAction") {
            if (!policyActions.has(path))
                policyActions.set(path, []);
            policyActions.get(path).push({ action: args[0], reason: args[1], time: Date.now() });
        } else if (signal === "Completed") {
            finalSignals.set(path, { statistics: args[0] });
        } else if (signal === "Failed") {
            finalSignals.set(path, { error_name: args[0], message: args[1] });
        } else {
            return;
        }
        if (path === selected)
            renderDetails();
    }

    function renderHost() {
        const parts = [];
        if (manager && manager.valid !== false && manager.Hostname !== undefined) {
            parts.push("Host " + manager.Hostname);
            if (manager.Version)
                parts.push("ferryd " + manager.Version);
            if (manager.Backends && manager.Backends.length)
                parts.push("backends: " + manager.Backends.join(", "));
        }
        $("host-info").textContent = parts.length ? parts.join(" · ") : "ferryd is not running on this host";
    }

    function init() {
        $("migrate-form").addEventListener("submit", submitMigrate);
        $("migrate-cancel").addEventListener("click", closeMigrateDialog);
        $("migrate-dialog").addEventListener("close", () => { dialogDomain = null });

        client = cockpit.dbus(BUS_NAME, { bus: "system", superuser: "try" });
        client.addEventListener("close", (ev, options) => {
            const message = options.problem === "not-found"
                ? _("org.ferryvm.Ferry1 is not on the system bus: is ferryd installed and running?")
                : cockpit.message(options);
            showAlert(_("Cannot talk to ferryd"), { message, problem: options.problem });
        });

        manager = client.proxy(MANAGER, ROOT);
        manager.addEventListener("changed", renderHost);
        manager.wait(renderHost);

        domains = client.proxies(DOMAIN, ROOT);
        migrations = client.proxies(MIGRATION, ROOT);
        for (const ev of ["added", "changed", "removed"]) {
            domains.addEventListener(ev, renderDomains);
            migrations.addEventListener(ev, renderMigrations);
        }
        client.subscribe({ interface: MIGRATION, path_namespace: ROOT }, onSignal);

        let waiting = 2;
        const ready = () => {
            if (--waiting > 0)
                return;
            renderDomains();
            renderMigrations();
            $("main").setAttribute("aria-busy", "false");
            document.body.setAttribute("data-ready", "true");
        };
        domains.wait(ready);
        migrations.wait(ready);
    }

    if (document.readyState === "loading")
        document.addEventListener("DOMContentLoaded", init);
    else
        init();
}());
