/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-libvirt-check.c: what Check finds out about a libvirt migration
 *
 * Every call here may block (it talks to both libvirtds): the backend
 * runs it in a worker thread.
 */
#define G_LOG_DOMAIN "ferry-libvirt"

#include "ferryd-libvirt-check.h"

#include <libvirt/virterror.h>

/* The migration features a libvirt of @version (major * 1000000 +
 * minor * 1000 + micro) drives with QEMU 10, in Capabilities' names. */
static void
add_features (GStrvBuilder *builder, unsigned long version)
{
  if (version >= 8005000) /* post-copy recovery, abort in post-copy */
    g_strv_builder_add_many (builder, "postcopy", "postcopy-recover", "auto-converge", "multifd",
                             "storage-mirror", "synchronous-writes", "tls", NULL);
  else
    g_strv_builder_add_many (builder, "postcopy", "auto-converge", "multifd", "storage-mirror",
                             "tls", NULL);
  if (version >= 10000000)
    g_strv_builder_add (builder, "switchover-ack");
}

/* The host UUID in @conn's capabilities, or NULL. */
static char *
host_uuid (virConnectPtr conn)
{
  g_autofree char *caps = virConnectGetCapabilities (conn);
  const char *start, *end;

  if (caps == NULL || (start = strstr (caps, "<uuid>")) == NULL)
    return NULL;
  start += strlen ("<uuid>");
  end = strstr (start, "</uuid>");
  return end ? g_strndup (start, end - start) : NULL;
}

GVariant *
ferryd_libvirt_check_run (virConnectPtr conn,
                          const char *uuid,
                          const char *name,
                          const char *destination,
                          gboolean may_contact)
{
  g_autoptr (GPtrArray) blockers = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GStrvBuilder) features = g_strv_builder_new ();
  g_auto (GStrv) feature_list = NULL;
  gboolean checked = FALSE;
  guint64 memory = 0;
  unsigned long local_version = 0;
  virDomainPtr dom = NULL;
  virConnectPtr dconn = NULL;
  GVariantDict report;

  if (conn == NULL)
    g_ptr_array_add (blockers, g_strdup ("libvirt is not reachable on this host"));
  else if ((dom = virDomainLookupByUUIDString (conn, uuid)) == NULL)
    g_ptr_array_add (blockers, g_strdup_printf ("libvirt does not know domain '%s' (any more): %s",
                                                name, virGetLastErrorMessage ()));
  else
    {
      virDomainInfo info;

      if (virDomainGetInfo (dom, &info) == 0)
        memory = (guint64) info.memory * 1024;
      if (virDomainIsActive (dom) != 1)
        g_ptr_array_add (blockers, g_strdup_printf ("Domain '%s' does not run", name));
      virConnectGetLibVersion (conn, &local_version);
    }

  if (conn && may_contact)
    {
      dconn = virConnectOpen (destination);
      if (dconn == NULL)
        g_ptr_array_add (blockers,
                         g_strdup_printf ("The destination libvirt (%s) cannot be reached: %s",
                                          destination, virGetLastErrorMessage ()));
      else
        {
          g_autofree char *here = host_uuid (conn);
          g_autofree char *there = host_uuid (dconn);
          unsigned long remote_version = 0;
          virDomainPtr ddom;

          checked = TRUE;
          if (here && there && g_str_equal (here, there))
            g_ptr_array_add (blockers, g_strdup ("The destination is this host"));
          ddom = virDomainLookupByName (dconn, name);
          if (ddom)
            {
              if (virDomainIsActive (ddom) == 1)
                g_ptr_array_add (blockers,
                                 g_strdup_printf ("A domain named '%s' already runs on the "
                                                  "destination",
                                                  name));
              virDomainFree (ddom);
            }
          virConnectGetLibVersion (dconn, &remote_version);
          add_features (features, MIN (local_version, remote_version));
        }
    }
  if (dom)
    virDomainFree (dom);
  if (dconn)
    virConnectClose (dconn);

  g_ptr_array_add (blockers, NULL);
  g_ptr_array_add (warnings, NULL);
  feature_list = g_strv_builder_end (features);
  g_variant_dict_init (&report, NULL);
  g_variant_dict_insert_value (&report, "blockers",
                               g_variant_new_strv ((const char *const *) blockers->pdata, -1));
  g_variant_dict_insert_value (&report, "warnings",
                               g_variant_new_strv ((const char *const *) warnings->pdata, -1));
  g_variant_dict_insert_value (&report, "features",
                               g_variant_new_strv ((const char *const *) feature_list, -1));
  g_variant_dict_insert (&report, "destination-checked", "b", checked);
  g_variant_dict_insert (&report, "memory", "t", memory);
  return g_variant_dict_end (&report);
}
