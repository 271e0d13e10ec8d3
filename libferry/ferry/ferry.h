/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferry.h: libferry-1, the client library of ferryd: #include <ferry/ferry.h> */
#pragma once

#include "ferry-client.h"
#include "ferry-domain.h"
#include "ferry-error.h"
#include "ferry-migrate-options.h"
#include "ferry-migration.h"
