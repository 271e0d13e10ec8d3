/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferry-names.h: the fixed names of Ferry's D-Bus API (DESIGN §2) in one
 * place: bus name, object paths, interface names, the prefix of the error
 * names (the names themselves are in ferry-error.c) and polkit action ids
 * (data/polkit/org.ferryvm.ferry1.policy.in) */
#pragma once

#define FERRY_BUS_NAME "org.ferryvm.Ferry1"

/* The root object (ObjectManager, Manager, Peer) and its children:
 * FERRY_DOMAIN_PATH_PREFIX <escaped name>, FERRY_MIGRATION_PATH_PREFIX <n>. */
#define FERRY_OBJECT_PATH "/org/ferryvm/Ferry1"
#define FERRY_DOMAIN_PATH_PREFIX FERRY_OBJECT_PATH "/domain/"
#define FERRY_MIGRATION_PATH_PREFIX FERRY_OBJECT_PATH "/migration/"

#define FERRY_INTERFACE_PREFIX FERRY_BUS_NAME "."
#define FERRY_MANAGER_INTERFACE FERRY_INTERFACE_PREFIX "Manager"
#define FERRY_DOMAIN_INTERFACE FERRY_INTERFACE_PREFIX "Domain"
#define FERRY_MIGRATION_INTERFACE FERRY_INTERFACE_PREFIX "Migration"
#define FERRY_PEER_INTERFACE FERRY_INTERFACE_PREFIX "Peer"

/* org.ferryvm.Ferry1.Error.<Name>, e.g. FERRY_ERROR_NAME_PREFIX "NotFound" */
#define FERRY_ERROR_NAME_PREFIX FERRY_BUS_NAME ".Error."

#define FERRY_ACTION_PREFIX "org.ferryvm.ferry1."
#define FERRY_ACTION_MIGRATE FERRY_ACTION_PREFIX "migrate"
#define FERRY_ACTION_CONTROL FERRY_ACTION_PREFIX "control"
#define FERRY_ACTION_MANAGE_DOMAINS FERRY_ACTION_PREFIX "manage-domains"
#define FERRY_ACTION_PEER FERRY_ACTION_PREFIX "peer"
