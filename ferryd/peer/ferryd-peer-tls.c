/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-peer-tls.c: this host's x509 material for the TLS peer link
 *
 * Loaded afresh for every link and every listener start, so an operator
 * who renews a certificate need not restart ferryd (in a worker thread
 * for a request: the files may sit on a slow disk), and every problem
 * is reported with the file it is about: a root daemon that accepts
 * connections from the network must never fall back to anything less
 * than mutual TLS, and its operator must learn why it would not start.
 */
#define G_LOG_DOMAIN "ferry-peer"

#include "ferryd-peer-tls.h"
#include "ferry-error.h"

static char *pki_dir;

void
ferryd_peer_tls_set_dir (const char *dir)
{
  g_free (pki_dir);
  pki_dir = g_strdup (dir);
}

const char *
ferryd_peer_tls_get_dir (void)
{
  return pki_dir ? pki_dir : "/etc/ferry/pki";
}

char *
ferryd_peer_tls_describe_flags (GTlsCertificateFlags flags)
{
  static const struct
  {
    GTlsCertificateFlags flag;
    const char *words;
  } reasons[] = {
    { G_TLS_CERTIFICATE_UNKNOWN_CA, "is not signed by this host's CA (pki/ca-cert.pem)" },
    { G_TLS_CERTIFICATE_BAD_IDENTITY, "does not match the host name it was reached by" },
    { G_TLS_CERTIFICATE_NOT_ACTIVATED, "is not valid yet" },
    { G_TLS_CERTIFICATE_EXPIRED, "has expired" },
    { G_TLS_CERTIFICATE_REVOKED, "has been revoked" },
    { G_TLS_CERTIFICATE_INSECURE, "uses an insecure algorithm" },
    { G_TLS_CERTIFICATE_GENERIC_ERROR, "could not be verified" },
  };
  g_autoptr (GPtrArray) words = g_ptr_array_new ();

  for (gsize i = 0; i < G_N_ELEMENTS (reasons); i++)
    if (flags & reasons[i].flag)
      g_ptr_array_add (words, (gpointer) reasons[i].words);
  if (words->len == 0)
    g_ptr_array_add (words, (gpointer) "was refused");
  g_ptr_array_add (words, NULL);
  return g_strjoinv (", ", (char **) words->pdata);
}

char *
ferryd_peer_tls_subject (GTlsCertificate *certificate)
{
  char *subject = certificate ? g_tls_certificate_get_subject_name (certificate) : NULL;

  return subject ? subject : g_strdup ("(unknown subject)");
}

static gboolean
check_file (const char *path, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "TLS: %s is missing", path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
load_from (const char *dir,
           FerrydPeerTlsRole role,
           GTlsCertificate **out_certificate,
           GTlsDatabase **out_database,
           GError **error)
{
  const char *name = role == FERRYD_PEER_TLS_SERVER ? "server" : "client";
  g_autofree char *ca_path = g_build_filename (dir, "ca-cert.pem", NULL);
  g_autofree char *cert_file = g_strdup_printf ("%s-cert.pem", name);
  g_autofree char *key_file = g_strdup_printf ("%s-key.pem", name);
  g_autofree char *cert_path = g_build_filename (dir, cert_file, NULL);
  g_autofree char *key_path = g_build_filename (dir, key_file, NULL);
  g_autoptr (GTlsCertificate) certificate = NULL;
  g_autoptr (GTlsCertificate) ca = NULL;
  g_autoptr (GTlsDatabase) database = NULL;
  g_autoptr (GError) local_error = NULL;
  GTlsCertificateFlags flags;

  if (!check_file (ca_path, error) || !check_file (cert_path, error) ||
      !check_file (key_path, error))
    return FALSE;
  ca = g_tls_certificate_new_from_file (ca_path, &local_error);
  if (ca)
    database = g_tls_file_database_new (ca_path, &local_error);
  if (ca == NULL || database == NULL)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "TLS: cannot load %s: %s", ca_path,
                   local_error->message);
      return FALSE;
    }
  certificate = g_tls_certificate_new_from_files (cert_path, key_path, &local_error);
  if (certificate == NULL)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "TLS: cannot load %s with %s: %s",
                   cert_path, key_path, local_error->message);
      return FALSE;
    }
  /* This host's own certificate must be one its peers can accept. */
  flags = g_tls_certificate_verify (certificate, NULL, ca);
  if (flags != 0)
    {
      g_autoptr (GDateTime) until = g_tls_certificate_get_not_valid_after (certificate);
      g_autofree char *until_text = until ? g_date_time_format_iso8601 (until) : NULL;
      g_autofree char *words = ferryd_peer_tls_describe_flags (flags);

      g_set_error (error, FERRY_ERROR, FERRY_ERROR_FAILED, "TLS: this host's certificate %s %s%s%s",
                   cert_path, words,
                   (flags & G_TLS_CERTIFICATE_EXPIRED) && until_text ? " on " : "",
                   (flags & G_TLS_CERTIFICATE_EXPIRED) && until_text ? until_text : "");
      return FALSE;
    }
  if (out_certificate)
    *out_certificate = g_steal_pointer (&certificate);
  if (out_database)
    *out_database = g_steal_pointer (&database);
  return TRUE;
}

gboolean
ferryd_peer_tls_load (FerrydPeerTlsRole role,
                      GTlsCertificate **out_certificate,
                      GTlsDatabase **out_database,
                      GError **error)
{
  return load_from (ferryd_peer_tls_get_dir (), role, out_certificate, out_database, error);
}

/* --- in a worker thread --- */

typedef struct
{
  char *dir; /* copied on the main thread: the thread reads nothing shared */
  FerrydPeerTlsRole role;
} LoadJob;

typedef struct
{
  GTlsCertificate *certificate;
  GTlsDatabase *database;
} Loaded;

static void
load_job_free (LoadJob *job)
{
  g_free (job->dir);
  g_free (job);
}

static void
loaded_free (Loaded *loaded)
{
  g_clear_object (&loaded->certificate);
  g_clear_object (&loaded->database);
  g_free (loaded);
}

static void
load_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  LoadJob *job = task_data;
  Loaded *loaded = g_new0 (Loaded, 1);
  GError *error = NULL;

  if (!load_from (job->dir, job->role, &loaded->certificate, &loaded->database, &error))
    {
      loaded_free (loaded);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, loaded, (GDestroyNotify) loaded_free);
}

void
ferryd_peer_tls_load_async (FerrydPeerTlsRole role,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  LoadJob *job = g_new0 (LoadJob, 1);

  g_task_set_source_tag (task, ferryd_peer_tls_load_async);
  job->dir = g_strdup (ferryd_peer_tls_get_dir ());
  job->role = role;
  g_task_set_task_data (task, job, (GDestroyNotify) load_job_free);
  g_task_run_in_thread (task, load_thread);
}

gboolean
ferryd_peer_tls_load_finish (GAsyncResult *result,
                             GTlsCertificate **out_certificate,
                             GTlsDatabase **out_database,
                             GError **error)
{
  Loaded *loaded;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == ferryd_peer_tls_load_async,
                        FALSE);
  loaded = g_task_propagate_pointer (G_TASK (result), error);
  if (loaded == NULL)
    return FALSE;
  if (out_certificate)
    *out_certificate = g_steal_pointer (&loaded->certificate);
  if (out_database)
    *out_database = g_steal_pointer (&loaded->database);
  loaded_free (loaded);
  return TRUE;
}
