/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-policy.c: the convergence policy: the plan a migration starts
 * with, the verdict on a running one and its next step; pure functions,
 * no objects, no I/O
 *
 * Every sentence quotes the figures the decision compared, computed here
 * the same way (sizes in binary units, times rounded up to the ms), so a
 * reason never reads "50 ms > limit 50 ms". */
#define G_LOG_DOMAIN "ferry-policy"

#include "ferryd-policy.h"
#include "ferry-error.h"

/* --- the plan --- */

gboolean
ferryd_policy_plan (const FerrydPolicyRequest *r, FerrydPolicyRules *rules, GError **error)
{
  gboolean both_postcopy = r->local_postcopy && r->peer_postcopy;
  gboolean asked_postcopy =
      (r->postcopy_given && g_strcmp0 (r->postcopy, "off") != 0) || r->timeout_postcopy;

  memset (rules, 0, sizeof *rules);
  if (asked_postcopy && !both_postcopy)
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_NOT_SUPPORTED,
                           r->local_postcopy ? "The destination does not support post-copy"
                                             : "This host does not support post-copy");
      return FALSE;
    }
  /* Without a word from the caller, post-copy is enabled wherever both
   * sides can do it, so that the policy can switch when pre-copy cannot
   * finish; it costs a return path, which also makes QEMU's downtime
   * figure honest. */
  rules->postcopy_ram = asked_postcopy || (!r->postcopy_given && !r->multifd && both_postcopy);
  rules->may_postcopy =
      rules->postcopy_ram && (!r->postcopy_given || g_str_equal (r->postcopy, "auto"));
  /* Throttling slows the guest for the whole migration: the policy takes
   * it only when post-copy is out of reach and the caller left it open. */
  if (r->auto_converge_given)
    rules->auto_converge = r->auto_converge;
  else
    rules->auto_converge = !rules->postcopy_ram && g_strcmp0 (r->postcopy, "manual") != 0;
  /* A max-downtime the caller gave is the limit from the start;
   * otherwise the limit starts low and may grow up to QEMU's default. */
  rules->may_raise_downtime = !r->max_downtime_given && g_strcmp0 (r->postcopy, "manual") != 0;
  rules->downtime_ceiling =
      r->max_downtime_given ? r->max_downtime : FERRYD_POLICY_DOWNTIME_CEILING_MS;
  return TRUE;
}

/* --- words and figures --- */

const char *
ferryd_verdict_to_string (FerrydVerdict verdict)
{
  switch (verdict)
    {
    case FERRYD_VERDICT_CONVERGING:
      return "converging";
    case FERRYD_VERDICT_STALLED:
      return "stalled";
    case FERRYD_VERDICT_DIVERGING:
      return "diverging";
    case FERRYD_VERDICT_UNKNOWN:
    default:
      return "unknown";
    }
}

const char *
ferryd_policy_step_to_string (FerrydPolicyStepKind kind)
{
  switch (kind)
    {
    case FERRYD_POLICY_STEP_RAISE_DOWNTIME:
      return "raise-downtime";
    case FERRYD_POLICY_STEP_START_POSTCOPY:
      return "start-postcopy";
    case FERRYD_POLICY_STEP_NONE:
    default:
      return "none";
    }
}

char *
ferryd_policy_format_size (guint64 bytes)
{
  static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
  double value = (double) bytes;
  gsize unit = 0;

  if (bytes < 1024)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " B", bytes);
  value /= 1024.0;
  while (value >= 1024.0 && unit + 1 < G_N_ELEMENTS (units))
    {
      value /= 1024.0;
      unit++;
    }
  return g_strdup_printf ("%.1f %s", value, units[unit]);
}

/* "A > B" for two rates, in figures that show the comparison is true:
 * when the rounded figures look alike, the exact ones. */
static char *
compare_rates (const char *what_a, guint64 a, const char *what_b, guint64 b)
{
  g_autofree char *sa = ferryd_policy_format_size (a);
  g_autofree char *sb = ferryd_policy_format_size (b);
  const char *op = a > b ? ">" : a == b ? "=" : "<";

  if (a != b && g_str_equal (sa, sb))
    return g_strdup_printf ("%s %" G_GUINT64_FORMAT " B/s %s %s %" G_GUINT64_FORMAT " B/s", what_a,
                            a, op, what_b, b);
  return g_strdup_printf ("%s %s/s %s %s %s/s", what_a, sa, op, what_b, sb);
}

/* ms to send @bytes at @rate, rounded up; 0 when the rate is unknown. */
static guint64
send_time_ms (guint64 bytes, guint64 rate)
{
  if (rate == 0)
    return 0;
  /* In two steps: bytes * 1000 may not fit for absurd figures. */
  if (bytes > G_MAXUINT64 / 1000)
    return bytes / rate * 1000;
  return (bytes * 1000 + rate - 1) / rate;
}

static const char *
passes_word (guint pass)
{
  return pass == 1 ? "pass" : "passes";
}

/* --- the verdict --- */

/* The disk mirrors do not catch up: the guest writes again at least
 * nine tenths of what they copy, so what is left to copy shrinks by less
 * than a tenth of it (a capped mirror shows its remaining as 0 between
 * its chunks: the rates tell, not the remaining). */
static gboolean
disk_behind (const FerrydPolicySample *s)
{
  return s->disk_copying && s->disk_write_rate > 0 &&
         s->disk_write_rate * 10 >= s->disk_copy_rate * 9;
}

void
ferryd_convergence_clear (FerrydConvergence *c)
{
  g_clear_pointer (&c->description, g_free);
  g_clear_pointer (&c->suggestion, g_free);
}

static char *
suggest (const FerrydPolicySample *s,
         const FerrydPolicyRules *rules,
         const FerrydConvergence *c,
         guint64 needed_ms)
{
  g_autofree char *dirty = ferryd_policy_format_size (s->dirty_rate);

  if (c->verdict == FERRYD_VERDICT_CONVERGING)
    return g_strdup ("none needed");
  if (c->verdict == FERRYD_VERDICT_UNKNOWN)
    return g_strdup (s->postcopy_started || !s->active
                         ? "none needed"
                         : "wait: the end of the first pass shows whether it converges");
  if (c->verdict == FERRYD_VERDICT_STALLED && rules->may_raise_downtime && needed_ms > 0 &&
      needed_ms <= rules->downtime_ceiling)
    return g_strdup_printf (
        "none needed: Ferry raises the downtime limit to about %" G_GUINT64_FORMAT
        " ms (SetMaxDowntime does it at once)",
        needed_ms);
  if (rules->may_postcopy && rules->postcopy_ram)
    return g_strdup ("none needed: Ferry switches to post-copy at the next step (StartPostCopy "
                     "does it at once)");
  if (rules->postcopy_ram)
    return g_strdup ("switch to post-copy (StartPostCopy, ferryctl postcopy)");
  if (rules->auto_converge)
    return g_strdup_printf ("none needed: auto-converge throttles the guest (now %u %%) until it "
                            "dirties less than the link carries; raising max-bandwidth above %s/s "
                            "(SetMaxBandwidth) is faster",
                            s->throttle, dirty);
  if (c->verdict == FERRYD_VERDICT_STALLED && needed_ms > 0)
    return g_strdup_printf ("raise the downtime limit to %" G_GUINT64_FORMAT
                            " ms or more (SetMaxDowntime), or max-bandwidth (SetMaxBandwidth)",
                            needed_ms);
  return g_strdup_printf ("raise max-bandwidth above the dirty rate of %s/s (SetMaxBandwidth), "
                          "lower the guest's write load, or cancel and retry with post-copy or "
                          "auto-converge",
                          dirty);
}

/* What a stalled migration's limit must be for QEMU to switch over: what
 * is left when a pass begins over the link, with a quarter to spare,
 * in steps of 10 ms. */
static guint64
needed_downtime (const FerrydPolicySample *s)
{
  guint64 ms = send_time_ms (MAX (s->pass_remaining, s->remaining), s->transfer_rate);

  if (ms == 0)
    return 0;
  ms += ms / 4;
  return (ms + 9) / 10 * 10;
}

void
ferryd_policy_assess (const FerrydPolicySample *s,
                      const FerrydPolicyRules *rules,
                      FerrydConvergence *c)
{
  g_autofree char *remaining = ferryd_policy_format_size (s->remaining);
  g_autofree char *rates = NULL;
  g_autofree char *figures = NULL;
  guint64 expected = send_time_ms (s->remaining, s->transfer_rate);

  memset (c, 0, sizeof *c);
  c->expected_downtime = expected;
  if (s->postcopy_started)
    {
      c->verdict = FERRYD_VERDICT_CONVERGING;
      c->reason = "postcopy";
      c->description = g_strdup_printf (
          "post-copy: the guest runs on the destination, which fetches the %s left", remaining);
      c->suggestion = g_strdup ("none needed");
      return;
    }
  if (disk_behind (s))
    {
      /* Checked before the memory: no pass can end while the mirrors
       * fall behind, and neither post-copy nor a longer downtime copies
       * a disk; writes that wait for the destination do. */
      g_autofree char *disk_rates =
          compare_rates ("disk writes", s->disk_write_rate, "disk copy", s->disk_copy_rate);
      g_autofree char *left = ferryd_policy_format_size (s->disk_remaining);
      g_autofree char *writes = ferryd_policy_format_size (s->disk_write_rate);

      c->verdict = FERRYD_VERDICT_DIVERGING;
      c->reason = "disk-writes-over-link";
      c->description = g_strdup_printf ("%s: the guest rewrites at least 9/10 of what the disk "
                                        "mirrors copy, they do not catch up (%s left to copy)",
                                        disk_rates, left);
      c->suggestion = g_strdup_printf (
          "cancel and retry with synchronous-writes=true (the guest's disk writes then wait for "
          "the destination), raise max-bandwidth above %s/s (SetMaxBandwidth), or lower the "
          "guest's disk write load",
          writes);
      return;
    }
  if (!s->active || s->pass < 2 || s->transfer_rate == 0)
    {
      c->verdict = FERRYD_VERDICT_UNKNOWN;
      c->reason = s->active ? "first-pass" : "not-running";
      c->description = s->active ? g_strdup_printf ("first pass: %s remaining", remaining)
                                 : g_strdup ("no pre-copy pass is running");
      c->suggestion = suggest (s, rules, c, 0);
      return;
    }

  /* Every verdict from here on quotes the same figures first. */
  if (s->dirty_rate == 0)
    {
      /* QEMU measures the dirty rate over a second or more: a fast
       * first passes end before it has a figure. */
      g_autofree char *link = ferryd_policy_format_size (s->transfer_rate);
      rates = g_strdup_printf ("dirty rate not measured yet, link %s/s", link);
    }
  else
    rates = compare_rates ("dirty rate", s->dirty_rate, "link", s->transfer_rate);
  figures = g_strdup_printf ("%s after %u %s, %s remaining", rates, s->pass, passes_word (s->pass),
                             remaining);
  if (s->dirty_rate >= s->transfer_rate && s->dirty_rate > 0)
    {
      c->verdict = FERRYD_VERDICT_DIVERGING;
      c->reason = "dirty-rate-over-link";
      c->description = g_steal_pointer (&figures);
    }
  else if (expected <= s->downtime_limit)
    {
      c->verdict = FERRYD_VERDICT_CONVERGING;
      c->reason = "within-downtime-limit";
      c->description =
          g_strdup_printf ("%s: %" G_GUINT64_FORMAT " ms to send <= limit %" G_GUINT64_FORMAT " ms",
                           figures, expected, s->downtime_limit);
    }
  else if (s->prev_pass_remaining == 0 && s->dirty_rate * 10 >= s->transfer_rate * 9)
    {
      /* No trend yet, but the rates tell it: a pass dirties at least
       * nine tenths of what it sends, so what is left shrinks by less
       * than a tenth per pass (the test below, predicted). */
      c->verdict = FERRYD_VERDICT_STALLED;
      c->reason = "downtime-limit";
      c->description =
          g_strdup_printf ("%s: %" G_GUINT64_FORMAT " ms to send > limit %" G_GUINT64_FORMAT
                           " ms, and a pass dirties at least 9/10 of what it sends",
                           figures, expected, s->downtime_limit);
    }
  else if (s->prev_pass_remaining == 0)
    {
      /* One pass is no trend. */
      c->verdict = FERRYD_VERDICT_UNKNOWN;
      c->reason = "measuring";
      c->description =
          g_strdup_printf ("%s: %" G_GUINT64_FORMAT " ms to send > limit %" G_GUINT64_FORMAT " ms",
                           figures, expected, s->downtime_limit);
    }
  else
    {
      g_autofree char *now = ferryd_policy_format_size (s->pass_remaining);
      g_autofree char *before = ferryd_policy_format_size (s->prev_pass_remaining);
      gboolean shrinks = s->pass_remaining < s->prev_pass_remaining * 9 / 10;

      /* What is left when a pass begins does not shrink clearly: the
       * guest dirties its working set as fast as a pass sends it, and
       * that set does not fit in the downtime limit. */
      c->verdict = shrinks ? FERRYD_VERDICT_CONVERGING : FERRYD_VERDICT_STALLED;
      c->reason = shrinks ? "remaining-shrinks" : "downtime-limit";
      c->description =
          g_strdup_printf ("%s: %" G_GUINT64_FORMAT " ms to send > limit %" G_GUINT64_FORMAT
                           " ms; a pass begins with %s, the one before with %s",
                           figures, expected, s->downtime_limit, now, before);
    }
  c->suggestion = suggest (s, rules, c, needed_downtime (s));
}

GVariant *
ferryd_convergence_to_variant (const FerrydConvergence *c, const FerrydPolicySample *s)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "verdict", "s", ferryd_verdict_to_string (c->verdict));
  g_variant_dict_insert (&dict, "reason", "s", c->reason ? c->reason : "not-running");
  g_variant_dict_insert (&dict, "description", "s", c->description ? c->description : "");
  g_variant_dict_insert (&dict, "suggestion", "s", c->suggestion ? c->suggestion : "");
  g_variant_dict_insert (&dict, "dirty-rate", "t", s->dirty_rate);
  g_variant_dict_insert (&dict, "transfer-rate", "t", s->transfer_rate);
  g_variant_dict_insert (&dict, "remaining", "t", s->remaining);
  g_variant_dict_insert (&dict, "passes", "u", s->pass);
  g_variant_dict_insert (&dict, "expected-downtime", "t", c->expected_downtime);
  g_variant_dict_insert (&dict, "downtime-limit", "t", s->downtime_limit);
  g_variant_dict_insert (&dict, "throttle", "u", s->throttle);
  g_variant_dict_insert (&dict, "disk-remaining", "t", s->disk_remaining);
  g_variant_dict_insert (&dict, "disk-copy-rate", "t", s->disk_copy_rate);
  g_variant_dict_insert (&dict, "disk-write-rate", "t", s->disk_write_rate);
  return g_variant_dict_end (&dict);
}

/* --- the next step --- */

void
ferryd_policy_step_clear (FerrydPolicyStep *step)
{
  g_clear_pointer (&step->reason, g_free);
}

void
ferryd_policy_next_step (const FerrydPolicySample *s,
                         const FerrydPolicyRules *rules,
                         const FerrydConvergence *c,
                         FerrydPolicyStep *step)
{
  guint64 needed = needed_downtime (s);

  memset (step, 0, sizeof *step);
  if (!s->active || s->postcopy_started || s->postcopy_requested || s->pass < 2)
    return;
  if (c->verdict != FERRYD_VERDICT_STALLED && c->verdict != FERRYD_VERDICT_DIVERGING)
    return;
  /* No step of the policy's copies a disk faster. */
  if (disk_behind (s))
    return;
  /* Act on a verdict that holds over two samples and that Convergence
   * showed already: one odd sample moves nothing, and a watcher sees the
   * why before the step. */
  if (s->published != FERRYD_VERDICT_STALLED && s->published != FERRYD_VERDICT_DIVERGING)
    return;
  /* Give each step a pass to show its effect before the next one. */
  if (s->last_step_pass > 0 && s->pass <= s->last_step_pass)
    return;

  /* Least invasive first: a longer pause at the switch-over, when what
   * is left fits the ceiling. */
  if (rules->may_raise_downtime && needed > s->downtime_limit &&
      send_time_ms (MAX (s->pass_remaining, s->remaining), s->transfer_rate) <=
          rules->downtime_ceiling)
    {
      g_autofree char *left = ferryd_policy_format_size (MAX (s->pass_remaining, s->remaining));
      g_autofree char *link = ferryd_policy_format_size (s->transfer_rate);

      step->kind = FERRYD_POLICY_STEP_RAISE_DOWNTIME;
      step->value = MIN (needed, rules->downtime_ceiling);
      step->reason = g_strdup_printf (
          "pre-copy is not converging (%s): %s; a pass begins with %s, %" G_GUINT64_FORMAT
          " ms at %s/s, within the ceiling of %" G_GUINT64_FORMAT
          " ms: downtime limit %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " ms",
          ferryd_verdict_to_string (c->verdict), c->description, left,
          send_time_ms (MAX (s->pass_remaining, s->remaining), s->transfer_rate), link,
          rules->downtime_ceiling, s->downtime_limit, step->value);
      return;
    }
  if (rules->may_postcopy && rules->postcopy_ram)
    {
      step->kind = FERRYD_POLICY_STEP_START_POSTCOPY;
      step->reason = g_strdup_printf ("pre-copy is not converging (%s): %s",
                                      ferryd_verdict_to_string (c->verdict), c->description);
    }
}

char *
ferryd_policy_throttle_reason (const FerrydPolicySample *s)
{
  g_autofree char *rates = compare_rates ("dirty rate", s->dirty_rate, "link", s->transfer_rate);
  g_autofree char *remaining = ferryd_policy_format_size (s->remaining);

  return g_strdup_printf ("auto-converge throttles the guest's CPUs to lose %u %% of their time: "
                          "%s after %u %s, %s remaining",
                          s->throttle, rates, s->pass, passes_word (s->pass), remaining);
}
