/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-domain-config.c: parse and validate domain descriptions
 *
 * Validation is strict on purpose: a typo in a key would otherwise be
 * silently ignored and the guest would start with defaults the operator
 * did not ask for. Every error names the offending group and key.
 */
#define G_LOG_DOMAIN "ferry-domain-config"

#include "ferry-compat.h"
#include "ferryd-domain-config.h"
#include "ferry-error.h"

#define MAX_MEMORY_MIB (1024 * 1024)
#define MAX_CPUS 256

static void
disk_config_free (FerrydDiskConfig *disk)
{
  g_free (disk->id);
  g_free (disk->path);
  g_free (disk->format);
  g_free (disk->bus);
  g_free (disk->backing);
  g_free (disk->backing_format);
  g_free (disk);
}

void
ferryd_domain_config_free (FerrydDomainConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->name);
  g_free (config->uuid);
  g_free (config->machine);
  g_free (config->cpu_model);
  g_free (config->kernel);
  g_free (config->append);
  g_clear_pointer (&config->disks, g_ptr_array_unref);
  g_free (config->qemu_binary);
  g_strfreev (config->extra_args);
  g_free (config);
}

gboolean
ferryd_domain_name_is_valid (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > 64 || name[0] == '.' || name[0] == '-')
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return TRUE;
}

static gboolean
check_keys (GKeyFile *keyfile, const char *group, const char *const *allowed, GError **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (keyfile, group, NULL, NULL);

  for (gsize i = 0; keys && keys[i]; i++)
    if (!g_strv_contains (allowed, keys[i]))
      {
        g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                     "Unknown key '%s' in group [%s]", keys[i], group);
        return FALSE;
      }
  return TRUE;
}

/* A value with an inline "# comment" (as in the documented example)
 * is accepted: GKeyFile only treats whole-line comments as comments. */
static char *
get_value (GKeyFile *keyfile, const char *group, const char *key)
{
  g_autofree char *raw = g_key_file_get_string (keyfile, group, key, NULL);
  char *hash;

  if (raw == NULL)
    return NULL;
  hash = strstr (raw, " #");
  if (hash == NULL && raw[0] == '#')
    hash = raw;
  if (hash)
    *hash = '\0';
  return g_strdup (g_strstrip (raw));
}

static gboolean
get_uint (GKeyFile *keyfile,
          const char *group,
          const char *key,
          guint min,
          guint max,
          guint fallback,
          gboolean required,
          guint *out,
          GError **error)
{
  g_autofree char *value = get_value (keyfile, group, key);
  guint64 number;

  if (value == NULL || value[0] == '\0')
    {
      if (required)
        {
          g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                       "Missing required key '%s' in group [%s]", key, group);
          return FALSE;
        }
      *out = fallback;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (value, 10, min, max, &number, NULL))
    {
      g_set_error (
          error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
          "Invalid value '%s' for key '%s' in group [%s]: expected an integer from %u to %u", value,
          key, group, min, max);
      return FALSE;
    }
  *out = (guint) number;
  return TRUE;
}

static gboolean
parse_disk (GKeyFile *keyfile, const char *group, FerrydDomainConfig *config, GError **error)
{
  static const char *const allowed[] = { "Path",    "Format",        "Bus", "Size",
                                         "Backing", "BackingFormat", NULL };
  g_autofree char *format = NULL;
  g_autofree char *bus = NULL;
  g_autofree char *size = NULL;
  FerrydDiskConfig *disk;
  const char *id = group + strlen ("Disk ");

  if (!check_keys (keyfile, group, allowed, error))
    return FALSE;
  if (!ferryd_domain_name_is_valid (id))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Invalid disk name in group [%s]", group);
      return FALSE;
    }
  disk = g_new0 (FerrydDiskConfig, 1);
  g_ptr_array_add (config->disks, disk);
  disk->id = g_strdup (id);
  disk->path = get_value (keyfile, group, "Path");
  if (disk->path == NULL || disk->path[0] == '\0')
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Missing required key 'Path' in group [%s]", group);
      return FALSE;
    }
  if (strstr (disk->path, "..") || strchr (disk->path, ','))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Invalid value for key 'Path' in group [%s]: '..' and ',' are not allowed",
                   group);
      return FALSE;
    }
  format = get_value (keyfile, group, "Format");
  if (format == NULL)
    format = g_strdup ("raw");
  if (g_strcmp0 (format, "raw") != 0 && g_strcmp0 (format, "qcow2") != 0)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Invalid value '%s' for key 'Format' in group [%s]: expected raw or qcow2",
                   format, group);
      return FALSE;
    }
  disk->format = g_steal_pointer (&format);
  bus = get_value (keyfile, group, "Bus");
  if (bus == NULL)
    bus = g_strdup ("virtio");
  if (g_strcmp0 (bus, "virtio") != 0 && g_strcmp0 (bus, "ide") != 0)
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Invalid value '%s' for key 'Bus' in group [%s]: expected virtio or ide", bus,
                   group);
      return FALSE;
    }
  disk->bus = g_steal_pointer (&bus);
  size = get_value (keyfile, group, "Size");
  if (size && !g_ascii_string_to_unsigned (size, 10, 0, G_MAXINT64, &disk->size, NULL))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Invalid value '%s' for key 'Size' in group [%s]: expected bytes", size, group);
      return FALSE;
    }
  disk->backing = get_value (keyfile, group, "Backing");
  disk->backing_format = get_value (keyfile, group, "BackingFormat");
  return TRUE;
}

static const char *const accel_names[] = { "auto", "kvm", "tcg", NULL };

const char *
ferryd_accel_to_string (FerrydAccel accel)
{
  return accel_names[accel];
}

static gboolean
parse_accel (GKeyFile *keyfile, FerrydDomainConfig *config, GError **error)
{
  g_autofree char *value = get_value (keyfile, "Domain", "Accel");

  if (value == NULL || value[0] == '\0')
    {
      config->accel = FERRYD_ACCEL_AUTO;
      return TRUE;
    }
  for (int i = 0; accel_names[i]; i++)
    if (g_str_equal (accel_names[i], value))
      {
        config->accel = (FerrydAccel) i;
        return TRUE;
      }
  g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
               "Invalid value '%s' for key 'Accel' in group [Domain]: expected auto, kvm or tcg",
               value);
  return FALSE;
}

static gboolean
is_safe_word (const char *value)
{
  /* Machine and CPU names go into a -machine/-cpu option string. */
  for (const char *p = value; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;
  return value[0] != '\0';
}

FerrydDomainConfig *
ferryd_domain_config_parse (const char *description, GError **error)
{
  static const char *const domain_keys[] = { "Name",     "UUID",  "Memory", "CPUs",   "Machine",
                                             "CPUModel", "Accel", "Kernel", "Append", NULL };
  static const char *const qemu_keys[] = { "Binary", "ExtraArgs", NULL };
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  g_autoptr (FerrydDomainConfig) config = g_new0 (FerrydDomainConfig, 1);
  g_autoptr (GError) local_error = NULL;
  g_auto (GStrv) groups = NULL;
  g_autofree char *extra = NULL;

  config->disks = g_ptr_array_new_with_free_func ((GDestroyNotify) disk_config_free);
  if (!g_key_file_load_from_data (keyfile, description, -1, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Malformed domain description: %s", local_error->message);
      return NULL;
    }

  groups = g_key_file_get_groups (keyfile, NULL);
  for (gsize i = 0; groups[i]; i++)
    {
      if (g_str_equal (groups[i], "Domain") || g_str_equal (groups[i], "QEMU"))
        continue;
      if (g_str_has_prefix (groups[i], "Disk "))
        {
          if (!parse_disk (keyfile, groups[i], config, error))
            return NULL;
          continue;
        }
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT, "Unknown group [%s]",
                   groups[i]);
      return NULL;
    }
  if (!g_key_file_has_group (keyfile, "Domain"))
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                           "Missing group [Domain]");
      return NULL;
    }
  if (!check_keys (keyfile, "Domain", domain_keys, error) ||
      (g_key_file_has_group (keyfile, "QEMU") && !check_keys (keyfile, "QEMU", qemu_keys, error)))
    return NULL;

  config->name = get_value (keyfile, "Domain", "Name");
  if (config->name == NULL || config->name[0] == '\0')
    {
      g_set_error_literal (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                           "Missing required key 'Name' in group [Domain]");
      return NULL;
    }
  if (!ferryd_domain_name_is_valid (config->name))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Invalid value '%s' for key 'Name' in group [Domain]: use 1-64 letters, "
                   "digits, '-', '_' or '.'",
                   config->name);
      return NULL;
    }
  config->uuid = get_value (keyfile, "Domain", "UUID");
  if (config->uuid && !g_uuid_string_is_valid (config->uuid))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Invalid value '%s' for key 'UUID' in group [Domain]", config->uuid);
      return NULL;
    }
  if (config->uuid == NULL)
    config->uuid = g_uuid_string_random ();

  if (!get_uint (keyfile, "Domain", "Memory", 16, MAX_MEMORY_MIB, 0, TRUE, &config->memory_mib,
                 error) ||
      !get_uint (keyfile, "Domain", "CPUs", 1, MAX_CPUS, 1, FALSE, &config->cpus, error))
    return NULL;

  config->machine = get_value (keyfile, "Domain", "Machine");
  if (config->machine == NULL)
    config->machine = g_strdup ("q35");
  config->cpu_model = get_value (keyfile, "Domain", "CPUModel");
  if (config->cpu_model == NULL)
    config->cpu_model = g_strdup ("qemu64");
  if (!is_safe_word (config->machine) || !is_safe_word (config->cpu_model))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Invalid value for key '%s' in group [Domain]",
                   is_safe_word (config->machine) ? "CPUModel" : "Machine");
      return NULL;
    }
  if (!parse_accel (keyfile, config, error))
    return NULL;
  config->kernel = get_value (keyfile, "Domain", "Kernel");
  if (config->kernel && !g_path_is_absolute (config->kernel))
    {
      g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                   "Invalid value '%s' for key 'Kernel' in group [Domain]: an absolute path is "
                   "required",
                   config->kernel);
      return NULL;
    }
  /* Append is taken verbatim: it may legitimately contain '#'. */
  config->append = g_key_file_get_string (keyfile, "Domain", "Append", NULL);

  config->qemu_binary = get_value (keyfile, "QEMU", "Binary");
  if (config->qemu_binary == NULL || config->qemu_binary[0] == '\0')
    g_set_str (&config->qemu_binary, "qemu-system-x86_64");
  extra = get_value (keyfile, "QEMU", "ExtraArgs");
  if (extra && extra[0] != '\0')
    {
      if (!g_shell_parse_argv (extra, NULL, &config->extra_args, &local_error))
        {
          g_set_error (error, FERRY_ERROR, FERRY_ERROR_INVALID_ARGUMENT,
                       "Invalid value for key 'ExtraArgs' in group [QEMU]: %s",
                       local_error->message);
          return NULL;
        }
    }
  if (config->extra_args == NULL)
    config->extra_args = g_new0 (char *, 1);

  return g_steal_pointer (&config);
}

char *
ferryd_domain_config_to_data (const FerrydDomainConfig *config)
{
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *extra = NULL;

  g_key_file_set_string (keyfile, "Domain", "Name", config->name);
  g_key_file_set_string (keyfile, "Domain", "UUID", config->uuid);
  g_key_file_set_uint64 (keyfile, "Domain", "Memory", config->memory_mib);
  g_key_file_set_uint64 (keyfile, "Domain", "CPUs", config->cpus);
  g_key_file_set_string (keyfile, "Domain", "Machine", config->machine);
  g_key_file_set_string (keyfile, "Domain", "CPUModel", config->cpu_model);
  g_key_file_set_string (keyfile, "Domain", "Accel", ferryd_accel_to_string (config->accel));
  if (config->kernel)
    g_key_file_set_string (keyfile, "Domain", "Kernel", config->kernel);
  if (config->append)
    g_key_file_set_string (keyfile, "Domain", "Append", config->append);
  for (guint i = 0; i < config->disks->len; i++)
    {
      FerrydDiskConfig *disk = g_ptr_array_index (config->disks, i);
      g_autofree char *group = g_strconcat ("Disk ", disk->id, NULL);

      g_key_file_set_string (keyfile, group, "Path", disk->path);
      g_key_file_set_string (keyfile, group, "Format", disk->format);
      if (g_strcmp0 (disk->bus, "virtio") != 0)
        g_key_file_set_string (keyfile, group, "Bus", disk->bus);
      if (disk->size)
        g_key_file_set_uint64 (keyfile, group, "Size", disk->size);
      if (disk->backing)
        g_key_file_set_string (keyfile, group, "Backing", disk->backing);
      if (disk->backing_format)
        g_key_file_set_string (keyfile, group, "BackingFormat", disk->backing_format);
    }
  g_key_file_set_string (keyfile, "QEMU", "Binary", config->qemu_binary);
  if (config->extra_args && config->extra_args[0])
    {
      GString *joined = g_string_new (NULL);
      for (gsize i = 0; config->extra_args[i]; i++)
        {
          g_autofree char *quoted = g_shell_quote (config->extra_args[i]);
          if (i > 0)
            g_string_append_c (joined, ' ');
          g_string_append (joined, quoted);
        }
      extra = g_string_free (joined, FALSE);
      g_key_file_set_string (keyfile, "QEMU", "ExtraArgs", extra);
    }
  return g_key_file_to_data (keyfile, NULL, NULL);
}

FerrydDomainConfig *
ferryd_domain_config_copy (const FerrydDomainConfig *config)
{
  g_autofree char *data = ferryd_domain_config_to_data (config);
  FerrydDomainConfig *copy = ferryd_domain_config_parse (data, NULL);

  g_assert (copy != NULL);
  return copy;
}
