/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-policy.c: the convergence policy's decisions: the plan a
 * migration starts with, the verdict on samples, the next step */
#define G_LOG_DOMAIN "test-policy"

#include "ferry-error.h"
#include "ferryd-policy.h"

#define MiB (G_GUINT64_CONSTANT (1) << 20)

static FerrydPolicyRequest
defaults (void)
{
  FerrydPolicyRequest r = { 0 };

  r.postcopy = "off"; /* the option's default value, not given */
  r.local_postcopy = TRUE;
  r.peer_postcopy = TRUE;
  return r;
}

static void
test_plan_defaults (void)
{
  FerrydPolicyRequest r = defaults ();
  FerrydPolicyRules rules;

  /* Nothing said, both sides can: post-copy is ready, the policy may
   * switch, no throttling, the downtime may grow to 300 ms. */
  g_assert_true (ferryd_policy_plan (&r, &rules, NULL));
  g_assert_true (rules.postcopy_ram);
  g_assert_true (rules.may_postcopy);
  g_assert_false (rules.auto_converge);
  g_assert_true (rules.may_raise_downtime);
  g_assert_cmpuint (rules.downtime_ceiling, ==, 300);

  /* The destination cannot: throttling instead, no error. */
  r.peer_postcopy = FALSE;
  g_assert_true (ferryd_policy_plan (&r, &rules, NULL));
  g_assert_false (rules.postcopy_ram);
  g_assert_false (rules.may_postcopy);
  g_assert_true (rules.auto_converge);

  /* multifd cannot be combined with post-copy in QEMU. */
  r = defaults ();
  r.multifd = TRUE;
  g_assert_true (ferryd_policy_plan (&r, &rules, NULL));
  g_assert_false (rules.postcopy_ram);
  g_assert_true (rules.auto_converge);
}

static void
test_plan_explicit (void)
{
  FerrydPolicyRequest r = defaults ();
  FerrydPolicyRules rules;
  g_autoptr (GError) error = NULL;

  /* postcopy=off: never post-copy; throttling unless refused too. */
  r.postcopy_given = TRUE;
  g_assert_true (ferryd_policy_plan (&r, &rules, NULL));
  g_assert_false (rules.postcopy_ram);
  g_assert_true (rules.auto_converge);
  g_assert_true (rules.may_raise_downtime);
  r.auto_converge_given = TRUE;
  r.auto_converge = FALSE;
  g_assert_true (ferryd_policy_plan (&r, &rules, NULL));
  g_assert_false (rules.auto_converge);

  /* manual: the operator switches; the policy keeps its hands off. */
  r = defaults ();
  r.postcopy_given = TRUE;
  r.postcopy = "manual";
  g_assert_true (ferryd_policy_plan (&r, &rules, NULL));
  g_assert_true (rules.postcopy_ram);
  g_assert_false (rules.may_postcopy);
  g_assert_false (rules.may_raise_downtime);
  g_assert_false (rules.auto_converge);

  /* auto, and auto-converge asked for as well: both. */
  r.postcopy = "auto";
  r.auto_converge_given = TRUE;
  r.auto_converge = TRUE;
  g_assert_true (ferryd_policy_plan (&r, &rules, NULL));
  g_assert_true (rules.may_postcopy);
  g_assert_true (rules.auto_converge);

  /* A max-downtime given is the limit from the start. */
  r = defaults ();
  r.max_downtime_given = TRUE;
  r.max_downtime = 120;
  g_assert_true (ferryd_policy_plan (&r, &rules, NULL));
  g_assert_false (rules.may_raise_downtime);
  g_assert_cmpuint (rules.downtime_ceiling, ==, 120);

  /* Post-copy asked for where the destination cannot: refused. */
  r = defaults ();
  r.postcopy_given = TRUE;
  r.postcopy = "auto";
  r.peer_postcopy = FALSE;
  g_assert_false (ferryd_policy_plan (&r, &rules, &error));
  g_assert_error (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "destination"));
  g_clear_error (&error);
  r = defaults ();
  r.timeout_postcopy = TRUE;
  r.peer_postcopy = FALSE;
  g_assert_false (ferryd_policy_plan (&r, &rules, &error));
  g_assert_error (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED);
}

static FerrydPolicyRules
default_rules (void)
{
  FerrydPolicyRequest r = defaults ();
  FerrydPolicyRules rules;

  g_assert_true (ferryd_policy_plan (&r, &rules, NULL));
  return rules;
}

/* A guest dirtying 120 MiB/s over a 32 MiB/s link, 3 passes in. */
static FerrydPolicySample
hard_guest (void)
{
  FerrydPolicySample s = { 0 };

  s.active = TRUE;
  s.pass = 3;
  s.remaining = 210 * MiB;
  s.transfer_rate = 32 * MiB;
  s.dirty_rate = 120 * MiB;
  s.pass_remaining = 230 * MiB;
  s.prev_pass_remaining = 240 * MiB;
  s.downtime_limit = 50;
  s.published = FERRYD_VERDICT_DIVERGING;
  return s;
}

static void
test_format (void)
{
  g_autofree char *b = ferryd_policy_format_size (1000);
  g_autofree char *k = ferryd_policy_format_size (1536);
  g_autofree char *m = ferryd_policy_format_size (210 * MiB);
  g_autofree char *g = ferryd_policy_format_size (3 * 1024 * MiB);

  g_assert_cmpstr (b, ==, "1000 B");
  g_assert_cmpstr (k, ==, "1.5 KiB");
  g_assert_cmpstr (m, ==, "210.0 MiB");
  g_assert_cmpstr (g, ==, "3.0 GiB");
}

static void
test_assess_diverging (void)
{
  FerrydPolicyRules rules = default_rules ();
  FerrydPolicySample s = hard_guest ();
  g_auto (FerrydConvergence) c = { 0 };
  g_autoptr (GVariant) v = NULL;
  const char *str;
  guint64 t;
  guint32 u;

  ferryd_policy_assess (&s, &rules, &c);
  g_assert_cmpint (c.verdict, ==, FERRYD_VERDICT_DIVERGING);
  g_assert_cmpstr (c.reason, ==, "dirty-rate-over-link");
  g_assert_cmpstr (c.description, ==,
                   "dirty rate 120.0 MiB/s > link 32.0 MiB/s after 3 passes, 210.0 MiB remaining");
  /* The policy will switch: nothing for a person to do. */
  g_assert_true (g_str_has_prefix (c.suggestion, "none needed"));
  g_assert_nonnull (strstr (c.suggestion, "post-copy"));
  /* 210 MiB at 32 MiB/s: 6562.5 ms, rounded up */
  g_assert_cmpuint (c.expected_downtime, ==, 6563);

  v = g_variant_ref_sink (ferryd_convergence_to_variant (&c, &s));
  g_assert_true (g_variant_lookup (v, "verdict", "&s", &str));
  g_assert_cmpstr (str, ==, "diverging");
  g_assert_true (g_variant_lookup (v, "reason", "&s", &str));
  g_assert_cmpstr (str, ==, "dirty-rate-over-link");
  g_assert_true (g_variant_lookup (v, "suggestion", "&s", &str));
  g_assert_true (g_variant_lookup (v, "description", "&s", &str));
  g_assert_true (g_variant_lookup (v, "dirty-rate", "t", &t));
  g_assert_cmpuint (t, ==, 120 * MiB);
  g_assert_true (g_variant_lookup (v, "transfer-rate", "t", &t));
  g_assert_cmpuint (t, ==, 32 * MiB);
  g_assert_true (g_variant_lookup (v, "remaining", "t", &t));
  g_assert_cmpuint (t, ==, 210 * MiB);
  g_assert_true (g_variant_lookup (v, "passes", "u", &u));
  g_assert_cmpuint (u, ==, 3);
  g_assert_true (g_variant_lookup (v, "expected-downtime", "t", &t));
  g_assert_true (g_variant_lookup (v, "downtime-limit", "t", &t));
  g_assert_cmpuint (t, ==, 50);

  /* Without post-copy, the suggestion names what a person can do. */
  rules.postcopy_ram = rules.may_postcopy = FALSE;
  ferryd_convergence_clear (&c);
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_nonnull (strstr (c.suggestion, "max-bandwidth"));
  g_assert_nonnull (strstr (c.suggestion, "120.0 MiB/s"));
  /* ... or what auto-converge does meanwhile. */
  rules.auto_converge = TRUE;
  s.throttle = 30;
  ferryd_convergence_clear (&c);
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_nonnull (strstr (c.suggestion, "auto-converge"));
  g_assert_nonnull (strstr (c.suggestion, "30 %"));
}

static void
test_assess_disk (void)
{
  FerrydPolicyRules rules = default_rules ();
  FerrydPolicySample s = hard_guest ();
  g_auto (FerrydConvergence) c = { 0 };
  g_auto (FerrydPolicyStep) step = { 0 };
  g_autoptr (GVariant) v = NULL;
  guint64 t;

  /* The mirrors copy 20 MiB/s while the guest writes 25 MiB/s of what
   * they must copy again: the disks never finish, whatever the memory. */
  s.disk_copying = TRUE;
  s.disk_remaining = 300 * MiB;
  s.disk_copy_rate = 20 * MiB;
  s.disk_write_rate = 25 * MiB;
  s.published = FERRYD_VERDICT_DIVERGING;
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_cmpint (c.verdict, ==, FERRYD_VERDICT_DIVERGING);
  g_assert_cmpstr (c.reason, ==, "disk-writes-over-link");
  g_assert_cmpstr (
      c.description, ==,
      "disk writes 25.0 MiB/s > disk copy 20.0 MiB/s: the guest rewrites at least 9/10 of "
      "what the disk mirrors copy, they do not catch up (300.0 MiB left to copy)");
  g_assert_nonnull (strstr (c.suggestion, "synchronous-writes=true"));
  g_assert_nonnull (strstr (c.suggestion, "25.0 MiB/s"));
  /* Post-copy would not copy a disk: the policy takes no step. */
  ferryd_policy_next_step (&s, &rules, &c, &step);
  g_assert_cmpint (step.kind, ==, FERRYD_POLICY_STEP_NONE);
  v = g_variant_ref_sink (ferryd_convergence_to_variant (&c, &s));
  g_assert_true (g_variant_lookup (v, "disk-write-rate", "t", &t));
  g_assert_cmpuint (t, ==, 25 * MiB);
  g_assert_true (g_variant_lookup (v, "disk-remaining", "t", &t));
  g_assert_cmpuint (t, ==, 300 * MiB);

  /* Also while the disks copy before the memory (no pass runs). */
  s.active = FALSE;
  s.pass = 0;
  ferryd_convergence_clear (&c);
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_cmpstr (c.reason, ==, "disk-writes-over-link");

  /* Mirrors that copy faster than the guest writes catch up: the memory
   * decides again. */
  s = hard_guest ();
  s.disk_copying = TRUE;
  s.disk_remaining = 300 * MiB;
  s.disk_copy_rate = 30 * MiB;
  s.disk_write_rate = 25 * MiB;
  ferryd_convergence_clear (&c);
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_cmpstr (c.reason, ==, "dirty-rate-over-link");
  /* Nine tenths is not catching up: a capped mirror's remaining reads
   * 0 between its chunks, the rates still tell. */
  s.disk_remaining = 0;
  s.disk_write_rate = 27 * MiB;
  ferryd_convergence_clear (&c);
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_cmpstr (c.reason, ==, "disk-writes-over-link");
  /* ... and mirrors in sync copy each write as it comes. */
  s.disk_copying = FALSE;
  s.disk_copy_rate = s.disk_write_rate = 25 * MiB;
  ferryd_convergence_clear (&c);
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_cmpstr (c.reason, ==, "dirty-rate-over-link");
}

static void
test_assess_figures_true (void)
{
  FerrydPolicyRules rules = default_rules ();
  FerrydPolicySample s = hard_guest ();
  g_auto (FerrydConvergence) c = { 0 };

  /* Rates that round alike are quoted exactly, so the comparison reads
   * true. */
  s.transfer_rate = 32 * MiB;
  s.dirty_rate = 32 * MiB + 10;
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_cmpint (c.verdict, ==, FERRYD_VERDICT_DIVERGING);
  g_assert_nonnull (strstr (c.description, "dirty rate 33554442 B/s > link 33554432 B/s"));

  /* A downtime a hair over the limit reads "51 ms > limit 50 ms",
   * never "50 ms > limit 50 ms". */
  ferryd_convergence_clear (&c);
  s.transfer_rate = 32768000; /* 32000 KiB/s: 1 ms is 32768 B */
  s.dirty_rate = 1 * MiB;
  s.remaining = 32768 * 50 + 1;
  s.pass_remaining = 32768 * 50 + 1;
  s.prev_pass_remaining = 32768 * 50 + 2;
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_cmpint (c.verdict, ==, FERRYD_VERDICT_STALLED);
  g_assert_cmpstr (c.reason, ==, "downtime-limit");
  g_assert_cmpuint (c.expected_downtime, ==, 51);
  g_assert_cmpstr (c.description, ==,
                   "dirty rate 1.0 MiB/s < link 31.2 MiB/s after 3 passes, 1.6 MiB remaining: 51 "
                   "ms to send > limit 50 ms; a pass begins with 1.6 MiB, the one before with 1.6 "
                   "MiB");
  /* ... and exactly at the limit it is within it. */
  ferryd_convergence_clear (&c);
  s.remaining = 32768 * 50;
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_cmpint (c.verdict, ==, FERRYD_VERDICT_CONVERGING);
  g_assert_cmpstr (c.reason, ==, "within-downtime-limit");
  g_assert_nonnull (strstr (c.description, "1.6 MiB remaining: 50 ms to send <= limit 50 ms"));
}

static void
test_assess_other_verdicts (void)
{
  FerrydPolicyRules rules = default_rules ();
  FerrydPolicySample s = hard_guest ();
  g_auto (FerrydConvergence) c = { 0 };

  /* Before the end of the first pass: unknown. */
  s.pass = 1;
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_cmpint (c.verdict, ==, FERRYD_VERDICT_UNKNOWN);
  g_assert_cmpstr (c.reason, ==, "first-pass");
  g_assert_true (g_str_has_prefix (c.suggestion, "wait"));

  /* Not running. */
  ferryd_convergence_clear (&c);
  s = (FerrydPolicySample){ 0 };
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_cmpint (c.verdict, ==, FERRYD_VERDICT_UNKNOWN);
  g_assert_cmpstr (c.reason, ==, "not-running");

  /* Post-copy runs: it gets there. */
  ferryd_convergence_clear (&c);
  s = hard_guest ();
  s.postcopy_started = TRUE;
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_cmpint (c.verdict, ==, FERRYD_VERDICT_CONVERGING);
  g_assert_cmpstr (c.reason, ==, "postcopy");

  /* Less dirtying than the link, what is left shrinks by a third. */
  ferryd_convergence_clear (&c);
  s = hard_guest ();
  s.dirty_rate = 8 * MiB;
  s.pass_remaining = 100 * MiB;
  s.prev_pass_remaining = 150 * MiB;
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_cmpint (c.verdict, ==, FERRYD_VERDICT_CONVERGING);
  g_assert_cmpstr (c.reason, ==, "remaining-shrinks");
  g_assert_cmpstr (c.suggestion, ==, "none needed");

  /* ... does not shrink: stalled on the downtime limit. */
  ferryd_convergence_clear (&c);
  s.pass_remaining = 140 * MiB;
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_cmpint (c.verdict, ==, FERRYD_VERDICT_STALLED);
  g_assert_cmpstr (c.reason, ==, "downtime-limit");
  g_assert_nonnull (
      strstr (c.description, "a pass begins with 140.0 MiB, the one before with 150.0 MiB"));

  /* No dirty rate yet: said so, not "0 B/s". */
  ferryd_convergence_clear (&c);
  s.dirty_rate = 0;
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_cmpint (c.verdict, ==, FERRYD_VERDICT_STALLED);
  g_assert_true (g_str_has_prefix (c.description,
                                   "dirty rate not measured yet, link 32.0 MiB/s after 3 passes"));

  /* One pass is no trend ... */
  ferryd_convergence_clear (&c);
  s.prev_pass_remaining = 0;
  s.dirty_rate = 8 * MiB;
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_cmpint (c.verdict, ==, FERRYD_VERDICT_UNKNOWN);
  g_assert_cmpstr (c.reason, ==, "measuring");
  /* ... but a pass that dirties 9/10 of what it sends shrinks what is
   * left by less than a tenth: stalled, without waiting for a trend. */
  ferryd_convergence_clear (&c);
  s.dirty_rate = 29 * MiB;
  ferryd_policy_assess (&s, &rules, &c);
  g_assert_cmpint (c.verdict, ==, FERRYD_VERDICT_STALLED);
  g_assert_cmpstr (c.reason, ==, "downtime-limit");
  g_assert_nonnull (
      strstr (c.description, "dirty rate 29.0 MiB/s < link 32.0 MiB/s after 3 passes"));
}

static void
next_step (const FerrydPolicySample *s, const FerrydPolicyRules *rules, FerrydPolicyStep *step)
{
  g_auto (FerrydConvergence) c = { 0 };

  ferryd_policy_assess (s, rules, &c);
  ferryd_policy_next_step (s, rules, &c, step);
}

static void
test_step_postcopy (void)
{
  FerrydPolicyRules rules = default_rules ();
  FerrydPolicySample s = hard_guest ();
  g_auto (FerrydPolicyStep) step = { 0 };

  /* 230 MiB at 32 MiB/s does not fit 300 ms: straight to post-copy,
   * with the figures that drove it. */
  next_step (&s, &rules, &step);
  g_assert_cmpint (step.kind, ==, FERRYD_POLICY_STEP_START_POSTCOPY);
  g_assert_cmpstr (ferryd_policy_step_to_string (step.kind), ==, "start-postcopy");
  g_assert_cmpstr (step.reason, ==,
                   "pre-copy is not converging (diverging): dirty rate 120.0 MiB/s > link 32.0 "
                   "MiB/s after 3 passes, 210.0 MiB remaining");

  /* Not on the first sample that says so: Convergence shows the
   * verdict before the policy acts on it. */
  ferryd_policy_step_clear (&step);
  s.published = FERRYD_VERDICT_UNKNOWN;
  next_step (&s, &rules, &step);
  g_assert_cmpint (step.kind, ==, FERRYD_POLICY_STEP_NONE);
  s.published = FERRYD_VERDICT_STALLED;
  next_step (&s, &rules, &step);
  g_assert_cmpint (step.kind, ==, FERRYD_POLICY_STEP_START_POSTCOPY);

  /* Already asked, or running: nothing more. */
  ferryd_policy_step_clear (&step);
  s.postcopy_requested = TRUE;
  next_step (&s, &rules, &step);
  g_assert_cmpint (step.kind, ==, FERRYD_POLICY_STEP_NONE);
  s = hard_guest ();
  s.postcopy_started = TRUE;
  next_step (&s, &rules, &step);
  g_assert_cmpint (step.kind, ==, FERRYD_POLICY_STEP_NONE);

  /* Not before the first pass ended, and not when it converges. */
  s = hard_guest ();
  s.pass = 1;
  next_step (&s, &rules, &step);
  g_assert_cmpint (step.kind, ==, FERRYD_POLICY_STEP_NONE);
  s = hard_guest ();
  s.dirty_rate = 1 * MiB;
  s.remaining = 1 * MiB;
  next_step (&s, &rules, &step);
  g_assert_cmpint (step.kind, ==, FERRYD_POLICY_STEP_NONE);

  /* postcopy=manual: the operator decides. */
  {
    FerrydPolicyRequest r = defaults ();
    r.postcopy_given = TRUE;
    r.postcopy = "manual";
    g_assert_true (ferryd_policy_plan (&r, &rules, NULL));
  }
  s = hard_guest ();
  next_step (&s, &rules, &step);
  g_assert_cmpint (step.kind, ==, FERRYD_POLICY_STEP_NONE);

  /* No post-copy on the destination: no step of the policy's own
   * (auto-converge throttles, reported as it rises). */
  rules = default_rules ();
  rules.postcopy_ram = rules.may_postcopy = FALSE;
  next_step (&s, &rules, &step);
  g_assert_cmpint (step.kind, ==, FERRYD_POLICY_STEP_NONE);
}

static void
test_step_escalates (void)
{
  FerrydPolicyRules rules = default_rules ();
  FerrydPolicySample s = hard_guest ();
  g_auto (FerrydPolicyStep) step = { 0 };

  /* A small working set: 4 MiB at 32 MiB/s is 125 ms, within 300 ms:
   * first the downtime grows (125 ms + a quarter, in steps of 10). */
  s.remaining = 3 * MiB;
  s.pass_remaining = 4 * MiB;
  s.prev_pass_remaining = 4 * MiB;
  next_step (&s, &rules, &step);
  g_assert_cmpint (step.kind, ==, FERRYD_POLICY_STEP_RAISE_DOWNTIME);
  g_assert_cmpstr (ferryd_policy_step_to_string (step.kind), ==, "raise-downtime");
  g_assert_cmpuint (step.value, ==, 160);
  g_assert_nonnull (
      strstr (step.reason, "dirty rate 120.0 MiB/s > link 32.0 MiB/s after 3 passes"));
  g_assert_nonnull (strstr (step.reason, "downtime limit 50 -> 160 ms"));
  g_assert_nonnull (strstr (step.reason, "a pass begins with 4.0 MiB, 125 ms at 32.0 MiB/s"));

  /* One step per pass. */
  ferryd_policy_step_clear (&step);
  s.last_step_pass = 3;
  s.downtime_limit = 160;
  next_step (&s, &rules, &step);
  g_assert_cmpint (step.kind, ==, FERRYD_POLICY_STEP_NONE);

  /* The next pass still does not finish: post-copy. */
  s.pass = 4;
  next_step (&s, &rules, &step);
  g_assert_cmpint (step.kind, ==, FERRYD_POLICY_STEP_START_POSTCOPY);

  /* A max-downtime given is not exceeded: no raise, post-copy. */
  ferryd_policy_step_clear (&step);
  {
    FerrydPolicyRequest r = defaults ();
    r.max_downtime_given = TRUE;
    r.max_downtime = 50;
    g_assert_true (ferryd_policy_plan (&r, &rules, NULL));
  }
  s = hard_guest ();
  s.remaining = 3 * MiB;
  s.pass_remaining = 4 * MiB;
  next_step (&s, &rules, &step);
  g_assert_cmpint (step.kind, ==, FERRYD_POLICY_STEP_START_POSTCOPY);
}

static void
test_throttle_reason (void)
{
  FerrydPolicySample s = hard_guest ();
  g_autofree char *reason = NULL;

  s.throttle = 20;
  reason = ferryd_policy_throttle_reason (&s);
  g_assert_cmpstr (reason, ==,
                   "auto-converge throttles the guest's CPUs to lose 20 % of their time: dirty "
                   "rate 120.0 MiB/s > link 32.0 MiB/s after 3 passes, 210.0 MiB remaining");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/policy/plan/defaults", test_plan_defaults);
  g_test_add_func ("/policy/plan/explicit", test_plan_explicit);
  g_test_add_func ("/policy/format", test_format);
  g_test_add_func ("/policy/assess/diverging", test_assess_diverging);
  g_test_add_func ("/policy/assess/disk", test_assess_disk);
  g_test_add_func ("/policy/assess/figures-true", test_assess_figures_true);
  g_test_add_func ("/policy/assess/other", test_assess_other_verdicts);
  g_test_add_func ("/policy/step/postcopy", test_step_postcopy);
  g_test_add_func ("/policy/step/escalates", test_step_escalates);
  g_test_add_func ("/policy/throttle-reason", test_throttle_reason);
  return g_test_run ();
}
