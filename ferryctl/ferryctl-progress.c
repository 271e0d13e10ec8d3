/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl-progress.c: how a followed migration is shown
 *
 * On a terminal one line is redrawn in place:
 *   [########------------]  42%  phase perform  active  123.4 MiB/s  remaining 1.2 s  iter 3
 * and events (phases, post-copy, policy actions) scroll above it. When
 * stdout is not a terminal every event is a line of its own and progress
 * is printed at most once a second; with --json each of those is one JSON
 * object per line, the last one the result.
 */
#define G_LOG_DOMAIN "ferryctl-progress"

#include "ferryctl-progress.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ferryctl-client.h"
#include "ferryctl-format.h"
#include "ferryctl-json.h"

#define BAR_NARROW 10
#define BAR_WIDE 20
#define LINE_INTERVAL_US G_USEC_PER_SEC

static const char *const phase_order[] = { "begin",  "prepare", "perform",
                                           "finish", "confirm", "done" };

struct _FerryctlProgress
{
  FerryctlOutput output;
  char *path;
  guint64 id;
  char *phase;
  char *state;
  gboolean have_numbers; /* the counters below were read at least once */
  double fraction;
  guint64 rate;
  guint64 remaining;
  guint iteration;
  gboolean bar_visible;
  char *bar;           /* the bar as last drawn */
  gint64 last_line_us; /* last plain/JSON progress line */
  char *convergence;   /* "verdict/reason" as last shown */
};

FerryctlProgress *
ferryctl_progress_new (FerryctlOutput output, const char *path)
{
  FerryctlProgress *progress = g_new0 (FerryctlProgress, 1);

  progress->output = output;
  progress->path = g_strdup (path);
  progress->id = ferryctl_migration_id_from_path (path);
  return progress;
}

void
ferryctl_progress_free (FerryctlProgress *progress)
{
  if (progress == NULL)
    return;
  g_free (progress->path);
  g_free (progress->phase);
  g_free (progress->state);
  g_free (progress->bar);
  g_free (progress->convergence);
  g_free (progress);
}

/* --- output primitives --- */

static void
clear_bar (FerryctlProgress *progress)
{
  if (progress->bar_visible)
    {
      fputs ("\r\033[K", stdout);
      progress->bar_visible = FALSE;
    }
}

static char *progress_text (FerryctlProgress *progress);

/* [#####-----]  42%  phase perform  active  123.4 MiB/s  remaining 1.2 s  iter 3
 * The bar is wider on wide terminals, and the line never wraps: a wrapped line cannot be redrawn
 * with \r. */
static void
draw_bar (FerryctlProgress *progress)
{
  struct winsize ws;
  int columns = 80;
  int width, filled;
  g_autofree char *text = NULL;
  g_autoptr (GString) line = g_string_new ("[");

  if (progress->output != FERRYCTL_OUTPUT_TTY || !progress->have_numbers)
    return;
  if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    columns = ws.ws_col;
  text = progress_text (progress);
  width = columns >= 100 ? BAR_WIDE : BAR_NARROW; /* fixed: a bar that changes size jumps */
  filled = (int) (progress->fraction * width);
  for (int i = 0; i < width; i++)
    g_string_append_c (line, i < filled ? '#' : '-');
  g_string_append_printf (line, "] %s", text);
  if ((int) line->len >= columns)
    g_string_truncate (line, (gsize) MAX (columns - 1, 1));
  /* one change of the migration notifies each of its properties */
  if (progress->bar_visible && g_strcmp0 (progress->bar, line->str) == 0)
    return;
  fprintf (stdout, "\r%s\033[K", line->str);
  fflush (stdout);
  progress->bar_visible = TRUE;
  g_free (progress->bar);
  progress->bar = g_strdup (line->str);
}

/* A text line, above the bar on a terminal. */
static void print_line (FerryctlProgress *progress, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
print_line (FerryctlProgress *progress, const char *format, ...)
{
  va_list args;

  clear_bar (progress);
  va_start (args, format);
  vfprintf (stdout, format, args);
  va_end (args);
  fputc ('\n', stdout);
  if (progress->output == FERRYCTL_OUTPUT_TTY)
    draw_bar (progress);
  fflush (stdout);
}

/* One JSON event: {"event": @event, "migration": id, ...@fields}. */
static void
print_event (FerryctlProgress *progress, const char *event, GVariantBuilder *fields)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "event", g_variant_new_string (event));
  g_variant_builder_add (&builder, "{sv}", "migration", g_variant_new_uint64 (progress->id));
  if (fields != NULL)
    {
      g_autoptr (GVariant) extra = g_variant_ref_sink (g_variant_builder_end (fields));
      GVariantIter iter;
      const char *key;
      GVariant *value;

      g_variant_iter_init (&iter, extra);
      while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
        {
          g_variant_builder_add (&builder, "{sv}", key, value);
          g_variant_unref (value);
        }
    }
  ferryctl_json_print (g_variant_builder_end (&builder));
}

static GVariantBuilder *
fields_new (void)
{
  return g_variant_builder_new (G_VARIANT_TYPE_VARDICT);
}

static void
fields_add (GVariantBuilder *fields, const char *key, GVariant *value)
{
  g_variant_builder_add (fields, "{sv}", key, value);
}

/* --- events --- */

static int
phase_index (const char *phase)
{
  for (guint i = 0; i < G_N_ELEMENTS (phase_order); i++)
    if (g_strcmp0 (phase, phase_order[i]) == 0)
      return (int) i;
  return -1;
}

void
ferryctl_progress_phase (FerryctlProgress *progress, const char *phase)
{
  int new_index, old_index;

  if (phase == NULL || *phase == '\0' || g_strcmp0 (phase, progress->phase) == 0)
    return;
  new_index = phase_index (phase);
  old_index = phase_index (progress->phase);
  if (new_index >= 0 && old_index >= 0 && new_index < old_index)
    return;
  g_free (progress->phase);
  progress->phase = g_strdup (phase);

  if (progress->output == FERRYCTL_OUTPUT_JSON)
    {
      g_autoptr (GVariantBuilder) fields = fields_new ();
      fields_add (fields, "phase", g_variant_new_string (phase));
      print_event (progress, "phase", fields);
    }
  else
    print_line (progress, "phase %s", phase);
}

void
ferryctl_progress_state (FerryctlProgress *progress, const char *state)
{
  if (state == NULL || *state == '\0' || g_strcmp0 (state, progress->state) == 0)
    return;
  g_free (progress->state);
  progress->state = g_strdup (state);

  if (progress->output == FERRYCTL_OUTPUT_JSON)
    {
      g_autoptr (GVariantBuilder) fields = fields_new ();
      fields_add (fields, "state", g_variant_new_string (state));
      print_event (progress, "state", fields);
    }
  else
    print_line (progress, "state %s", state);
}

static char *
progress_text (FerryctlProgress *progress)
{
  GString *text = g_string_new (NULL);

  g_string_append_printf (text, "%3d%%  phase %s  %s", (int) (progress->fraction * 100.0 + 0.5),
                          progress->phase ? progress->phase : "?",
                          progress->state ? progress->state : "?");
  if (progress->rate > 0)
    {
      g_autofree char *r = ferryctl_format_rate (progress->rate);
      g_string_append_printf (text, "  %s", r);
    }
  if (progress->remaining > 0)
    {
      g_autofree char *t = ferryctl_format_ms (progress->remaining);
      g_string_append_printf (text, "  remaining %s", t);
    }
  if (progress->iteration > 0)
    g_string_append_printf (text, "  iter %u", progress->iteration);
  return g_string_free (text, FALSE);
}

void
ferryctl_progress_update (FerryctlProgress *progress, FerryMigration *migration)
{
  gint64 now = g_get_monotonic_time ();

  progress->have_numbers = TRUE;
  progress->fraction = CLAMP (ferry_migration_get_progress (migration), 0.0, 1.0);
  progress->rate = ferry_migration_get_transfer_rate (migration);
  progress->remaining = ferry_migration_get_time_remaining (migration);
  progress->iteration = ferry_migration_get_iteration (migration);

  switch (progress->output)
    {
    case FERRYCTL_OUTPUT_TTY:
      draw_bar (progress);
      return;
    case FERRYCTL_OUTPUT_PLAIN:
      {
        g_autofree char *text = NULL;

        if (progress->last_line_us != 0 && now - progress->last_line_us < LINE_INTERVAL_US)
          return;
        progress->last_line_us = now;
        text = progress_text (progress);
        print_line (progress, "progress %s", text);
        return;
      }
    case FERRYCTL_OUTPUT_JSON:
      {
        g_autoptr (GVariantBuilder) fields = fields_new ();

        if (progress->last_line_us != 0 && now - progress->last_line_us < LINE_INTERVAL_US)
          return;
        progress->last_line_us = now;
        fields_add (fields, "progress", g_variant_new_double (progress->fraction));
        fields_add (fields, "phase", g_variant_new_string (progress->phase ?: ""));
        fields_add (fields, "state", g_variant_new_string (progress->state ?: ""));
        fields_add (fields, "transfer-rate", g_variant_new_uint64 (progress->rate));
        fields_add (fields, "dirty-rate",
                    g_variant_new_uint64 (ferry_migration_get_dirty_rate (migration)));
        fields_add (fields, "time-elapsed",
                    g_variant_new_uint64 (ferry_migration_get_time_elapsed (migration)));
        fields_add (fields, "time-remaining", g_variant_new_uint64 (progress->remaining));
        fields_add (fields, "memory-remaining",
                    g_variant_new_uint64 (ferry_migration_get_memory_remaining (migration)));
        fields_add (fields, "iteration", g_variant_new_uint32 (progress->iteration));
        print_event (progress, "progress", fields);
        return;
      }
    }
}

void
ferryctl_progress_iteration (FerryctlProgress *progress, guint n, GVariant *stats)
{
  g_autoptr (GVariantBuilder) fields = NULL;

  /* Text output shows the iteration in the progress line. */
  if (progress->output != FERRYCTL_OUTPUT_JSON)
    return;
  fields = fields_new ();
  fields_add (fields, "n", g_variant_new_uint32 (n));
  if (stats != NULL)
    fields_add (fields, "stats", stats);
  print_event (progress, "iteration", fields);
}

void
ferryctl_progress_postcopy_started (FerryctlProgress *progress)
{
  if (progress->output == FERRYCTL_OUTPUT_JSON)
    print_event (progress, "postcopy-started", NULL);
  else
    print_line (progress, "post-copy started: the guest runs on the destination");
}

void
ferryctl_progress_policy_action (FerryctlProgress *progress, const char *action, const char *reason)
{
  if (progress->output == FERRYCTL_OUTPUT_JSON)
    {
      g_autoptr (GVariantBuilder) fields = fields_new ();
      fields_add (fields, "action", g_variant_new_string (action));
      fields_add (fields, "reason", g_variant_new_string (reason));
      print_event (progress, "policy-action", fields);
    }
  else
    print_line (progress, "policy action %s: %s", action, reason);
}

void
ferryctl_progress_convergence (FerryctlProgress *progress, GVariant *convergence)
{
  const char *verdict = NULL, *reason = NULL, *description = "", *suggestion = "";
  g_autofree char *key = NULL;

  if (convergence == NULL || !g_variant_lookup (convergence, "verdict", "&s", &verdict) ||
      !g_variant_lookup (convergence, "reason", "&s", &reason))
    return;
  /* Shown when the verdict or its reason changes, not with every figure. */
  key = g_strdup_printf ("%s/%s", verdict, reason);
  if (g_strcmp0 (key, progress->convergence) == 0)
    return;
  g_free (progress->convergence);
  progress->convergence = g_steal_pointer (&key);
  if (progress->output == FERRYCTL_OUTPUT_JSON)
    {
      g_autoptr (GVariantBuilder) fields = fields_new ();
      fields_add (fields, "convergence", convergence);
      print_event (progress, "convergence", fields);
      return;
    }
  g_variant_lookup (convergence, "description", "&s", &description);
  g_variant_lookup (convergence, "suggestion", "&s", &suggestion);
  print_line (progress, "convergence %s (%s): %s; suggestion: %s", verdict, reason, description,
              suggestion);
}

static gboolean
lookup_u64 (GVariant *stats, const char *key, guint64 *out)
{
  g_autoptr (GVariant) v = stats ? g_variant_lookup_value (stats, key, NULL) : NULL;

  if (v == NULL)
    return FALSE;
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64))
    *out = g_variant_get_uint64 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
    *out = g_variant_get_uint32 (v);
  else
    return FALSE;
  return TRUE;
}

static void
summary_ms (GVariant *stats, const char *key, const char *label)
{
  guint64 ms;

  if (lookup_u64 (stats, key, &ms))
    {
      g_autofree char *text = ferryctl_format_ms (ms);
      fprintf (stdout, "  %-15s %s\n", label, text);
    }
}

void
ferryctl_progress_result (FerryctlProgress *progress,
                          const char *state,
                          const char *mode,
                          GVariant *statistics,
                          const char *error_name,
                          const char *error_message)
{
  gboolean failed = g_strcmp0 (state, "completed") != 0;

  clear_bar (progress);
  if (progress->output == FERRYCTL_OUTPUT_JSON)
    {
      g_autoptr (GVariantBuilder) fields = fields_new ();

      fields_add (fields, "path", g_variant_new_object_path (progress->path));
      fields_add (fields, "state", g_variant_new_string (state));
      if (mode != NULL && *mode != '\0')
        fields_add (fields, "mode", g_variant_new_string (mode));
      if (statistics != NULL)
        fields_add (fields, "statistics", statistics);
      if (failed)
        {
          fields_add (fields, "error-name", g_variant_new_string (error_name ? error_name : ""));
          fields_add (fields, "error-message",
                      g_variant_new_string (error_message ? error_message : ""));
        }
      print_event (progress, "result", fields);
    }
  else
    {
      guint64 total, memory = 0, disk = 0;
      gboolean have_memory = lookup_u64 (statistics, "memory-transferred", &memory);
      gboolean have_disk = lookup_u64 (statistics, "disk-transferred", &disk);
      g_autofree char *stat_mode = NULL;

      if (statistics != NULL)
        g_variant_lookup (statistics, "mode", "s", &stat_mode);
      fprintf (stdout, "migration %" G_GUINT64_FORMAT " %s", progress->id, state);
      if (lookup_u64 (statistics, "total-time", &total))
        {
          g_autofree char *t = ferryctl_format_ms (total);
          fprintf (stdout, " after %s", t);
        }
      fputc ('\n', stdout);
      summary_ms (statistics, "total-time", "total time");
      summary_ms (statistics, "downtime", "downtime");
      summary_ms (statistics, "downtime-real", "real downtime");
      if (have_memory || have_disk)
        {
          g_autofree char *bytes = ferryctl_format_bytes (memory + disk);
          fprintf (stdout, "  %-15s %s", "transferred", bytes);
          if (have_disk && disk > 0)
            {
              g_autofree char *d = ferryctl_format_bytes (disk);
              fprintf (stdout, " (disks %s)", d);
            }
          fputc ('\n', stdout);
        }
      if (stat_mode != NULL || (mode != NULL && *mode != '\0'))
        fprintf (stdout, "  %-15s %s\n", "mode", stat_mode ? stat_mode : mode);
      fflush (stdout);
    }
  if (failed)
    ferryctl_progress_error (progress, error_name, error_message);
}

void
ferryctl_progress_interrupted (FerryctlProgress *progress, const char *state)
{
  clear_bar (progress);
  if (progress->output == FERRYCTL_OUTPUT_JSON)
    {
      g_autoptr (GVariantBuilder) fields = fields_new ();

      fields_add (fields, "path", g_variant_new_object_path (progress->path));
      fields_add (fields, "state", g_variant_new_string (state ? state : ""));
      fields_add (fields, "interrupted", g_variant_new_boolean (TRUE));
      print_event (progress, "result", fields);
    }
  else
    fflush (stdout);
  fprintf (stderr,
           "ferryctl: stopped watching; migration %" G_GUINT64_FORMAT " goes on.\n"
           "Cancel it with: ferryctl cancel %" G_GUINT64_FORMAT "\n",
           progress->id, progress->id);
}

void
ferryctl_progress_error (FerryctlProgress *progress,
                         const char *error_name,
                         const char *error_message)
{
  clear_bar (progress);
  fflush (stdout);
  if (error_name != NULL && *error_name != '\0')
    fprintf (stderr, "ferryctl: %s: %s\n", error_name, error_message ? error_message : "");
  else
    fprintf (stderr, "ferryctl: %s\n", error_message ? error_message : "failed");
}
