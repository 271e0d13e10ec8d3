#!/usr/bin/gjs
// SPDX-License-Identifier: LGPL-2.1-or-later
// Migrate DOMAIN to DESTINATION with libferry: migrate.js DOMAIN DEST [BYTES/S]
imports.gi.versions.Ferry = '1.0';
const {Ferry} = imports.gi;

const [domain, destination, bandwidth] = ARGV;
const client = Ferry.Client.new_sync(null); // system bus or DBUS_SYSTEM_BUS_ADDRESS
const options = Ferry.MigrateOptions.new();
if (bandwidth)
    options.set_max_bandwidth(Number(bandwidth));
const m = client.migrate_sync(domain, destination, options, null);
m.connect('notify::progress', () => print(`progress ${m.progress.toFixed(3)}`));
const stats = m.wait_sync(null).recursiveUnpack(); // throws if it failed
for (const key of Object.keys(stats).sort())
    print(`${key}: ${stats[key]}`);
