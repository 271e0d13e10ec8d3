/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-policy.h: the convergence policy: which features a migration
 * starts with so that it can finish by itself, why it is or is not
 * getting there (the Convergence property), and the next step it takes.
 * Pure functions over neutral figures: no objects, no I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The downtime the policy may grow to when the caller gave no
 * max-downtime (QEMU's own default limit), in ms. */
#define FERRYD_POLICY_DOWNTIME_CEILING_MS G_GUINT64_CONSTANT (300)

typedef enum
{
  FERRYD_VERDICT_UNKNOWN,
  FERRYD_VERDICT_CONVERGING,
  FERRYD_VERDICT_STALLED,
  FERRYD_VERDICT_DIVERGING,
} FerrydVerdict;

/* What the caller asked for, as far as the policy cares. */
typedef struct
{
  gboolean postcopy_given; /* option postcopy was given ... */
  const char *postcopy;    /* ... as off, manual or auto */
  gboolean auto_converge_given;
  gboolean auto_converge;
  gboolean max_downtime_given;
  guint64 max_downtime;      /* ms */
  gboolean multifd;          /* multifd-channels given: QEMU cannot do post-copy with it */
  gboolean timeout_postcopy; /* timeout-action=postcopy */
  gboolean local_postcopy;   /* this host can do post-copy */
  gboolean peer_postcopy;    /* the destination said so in Hello */
} FerrydPolicyRequest;

/* What the policy may do during the migration. */
typedef struct
{
  gboolean postcopy_ram;  /* start with post-copy enabled (both sides) */
  gboolean auto_converge; /* start with QEMU's CPU throttling enabled */
  gboolean may_postcopy;  /* the policy may switch to post-copy by itself */
  gboolean may_raise_downtime;
  guint64 downtime_ceiling; /* ms: how far it may raise the limit */
} FerrydPolicyRules;

/* The plan for @request; FALSE with @error when post-copy was asked for
 * explicitly and the destination cannot do it. */
gboolean
ferryd_policy_plan (const FerrydPolicyRequest *request, FerrydPolicyRules *rules, GError **error);

/* One look at a running migration. Sizes in bytes, rates in bytes/s. */
typedef struct
{
  gboolean active; /* pre-copy runs (not setup, not ended) */
  gboolean postcopy_started;
  gboolean postcopy_requested;
  guint pass; /* dirty-memory synchronisations so far */
  guint64 remaining;
  guint64 transfer_rate;
  guint64 dirty_rate;
  guint64 pass_remaining;      /* remaining when the current pass began */
  guint64 prev_pass_remaining; /* ... and when the previous one began (0 = unknown) */
  guint64 downtime_limit;      /* ms, in effect */
  guint throttle;              /* % of CPU time the guest loses to auto-converge */
  guint last_step_pass;        /* pass of the policy's last step (0 = none yet) */
  FerrydVerdict published;     /* the verdict Convergence showed before this sample */
  /* Storage copy: whether the disk mirrors still chase the guest (not
   * in sync yet), what they have to copy, and how fast they copy and the
   * guest writes what they must copy again, over the last few seconds
   * (0 = unknown). */
  gboolean disk_copying;
  guint64 disk_remaining;
  guint64 disk_copy_rate;
  guint64 disk_write_rate;
} FerrydPolicySample;

const char *ferryd_verdict_to_string (FerrydVerdict verdict);

/* Why a migration is or is not getting there. */
typedef struct
{
  FerrydVerdict verdict;
  const char *reason;        /* static: dirty-rate-over-link, disk-writes-over-link, ... */
  guint64 expected_downtime; /* ms, what is left over the link, rounded up; 0 = unknown */
  char *description;         /* the figures behind the verdict, in words */
  char *suggestion;          /* what a person can do */
} FerrydConvergence;

void ferryd_convergence_clear (FerrydConvergence *convergence);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FerrydConvergence, ferryd_convergence_clear)

void ferryd_policy_assess (const FerrydPolicySample *sample,
                           const FerrydPolicyRules *rules,
                           FerrydConvergence *convergence);

/* The Convergence a{sv} of DESIGN §2 (floating). */
GVariant *ferryd_convergence_to_variant (const FerrydConvergence *convergence,
                                         const FerrydPolicySample *sample);

typedef enum
{
  FERRYD_POLICY_STEP_NONE,
  FERRYD_POLICY_STEP_RAISE_DOWNTIME, /* value: the new limit, ms */
  FERRYD_POLICY_STEP_START_POSTCOPY,
} FerrydPolicyStepKind;

typedef struct
{
  FerrydPolicyStepKind kind;
  guint64 value;
  char *reason; /* the figures that drove it */
} FerrydPolicyStep;

void ferryd_policy_step_clear (FerrydPolicyStep *step);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FerrydPolicyStep, ferryd_policy_step_clear)

/* The PolicyAction name of @kind ("raise-downtime", "start-postcopy"). */
const char *ferryd_policy_step_to_string (FerrydPolicyStepKind kind);

/* The next step for @sample as @convergence judged it: the least
 * invasive one that can work, at most one per pass. */
void ferryd_policy_next_step (const FerrydPolicySample *sample,
                              const FerrydPolicyRules *rules,
                              const FerrydConvergence *convergence,
                              FerrydPolicyStep *step);

/* The reason of a "throttle" PolicyAction: auto-converge raised the
 * throttle to sample->throttle. */
char *ferryd_policy_throttle_reason (const FerrydPolicySample *sample);

/* @bytes in words with a binary unit ("210.0 MiB"). */
char *ferryd_policy_format_size (guint64 bytes);

G_END_DECLS
